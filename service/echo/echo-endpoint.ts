import type { Clock } from '../core/clock.js';
import type { Logger } from '../log/logger.js';
import { LoopbackDevice } from '../media/devices/loopback-device.js';
import { RtpMediaFactory } from '../media/rtp-session.js';
import { SipStack } from '../sip/stack.js';
import { UserAgent } from '../sip/user-agent.js';
import { hostOfAddress } from '../core/ip-address.js';

/**
 * The built-in echo test line (*43 by default): a second, real SIP user agent on its own loopback
 * address that answers every call and sends back what it receives, over real SIP and RTP, the way a
 * PBX's echo test does. It shares the user agent and call machine with the real lines.
 */
export class EchoEndpoint {
  private constructor(
    private readonly stack: SipStack,
    private readonly ua: UserAgent,
  ) {}

  static async start(address: string, clock: Clock, logger: Logger): Promise<EchoEndpoint> {
    const log = logger.child({ line: 'echo' });
    const stack = await SipStack.open({ address, port: 0, transport: 'udp', logger: log });
    const ua = new UserAgent({
      stack,
      clock,
      logger: log,
      aor: `sip:echo@${hostOfAddress(address)}`,
      media: new RtpMediaFactory(address, { min: 30000, max: 30999 }, new LoopbackDevice(), log),
      userAgent: 'carphone-echo/0.1',
      decideIncoming: () => 'incoming',
    });
    ua.events.on('call-added', (info) => {
      if (info.direction === 'incoming') {
        ua.act(info.id, { type: 'user-answer' });
      }
    });
    return new EchoEndpoint(stack, ua);
  }

  uri(number: string): string {
    return this.stack.contactUri(number);
  }

  close(): void {
    this.ua.shutdown();
    this.stack.close();
  }
}
