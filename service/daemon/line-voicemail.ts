import { CarphoneError } from '../core/errors.js';
import type { AccountConfig } from '../config/schema.js';
import { isPhoneNumber } from '../sip/dial-string.js';
import { voicemailCount } from '../sip/message-summary.js';
import { MESSAGE_SUMMARY_EVENT, MwiClient, type MwiClientOptions } from '../sip/mwi-client.js';
import type { SubscriptionStatus } from '../sip/subscription.js';
import type { UserAgent } from '../sip/user-agent.js';

/** oFono's MessageWaiting for the line, and the state of the subscription that feeds it. */
export interface Voicemail {
  waiting: boolean;
  /** New voice messages, 255 meaning 255 or more (0 while waiting: not known). */
  count: number;
  mailboxNumber: string;
  subscription: SubscriptionStatus | 'off';
}

/**
 * A line's voicemail: what the network says waits (message-summary NOTIFYs, service/sip/mwi-client.ts),
 * the number that reaches it, and the subscription while the line is up.
 */
export class LineVoicemail {
  private value: Voicemail;
  private client: MwiClient | undefined;

  constructor(
    private readonly config: AccountConfig['voicemail'],
    savedNumber: string | undefined,
    private readonly onChange: (v: Voicemail) => void,
    private readonly saveNumber: (number: string) => void,
  ) {
    this.value = {
      waiting: false,
      count: 0,
      mailboxNumber: savedNumber ?? config.number,
      subscription: config.subscribe ? 'unsubscribed' : 'off',
    };
  }

  get state(): Voicemail {
    return { ...this.value };
  }

  /** oFono's SetProperty VoicemailMailboxNumber: a number the driver can dial, or empty. */
  setMailboxNumber(number: string): void {
    if (number !== '' && !isPhoneNumber(number)) {
      throw new CarphoneError('INVALID_FORMAT', 'the voicemail number must be digits 0-9*# or +E.164');
    }
    this.update({ mailboxNumber: number });
    this.saveNumber(number);
  }

  /** The line is up: NOTIFYs through its user agent, and the subscription where the account asks for one. */
  start(ua: UserAgent, line: Omit<MwiClientOptions, 'target' | 'expires' | 'onSummary' | 'onStatus'>): void {
    const client = new MwiClient({
      ...line,
      target: this.config.server ?? line.aor,
      expires: this.config.expiresSeconds,
      onSummary: (s) => this.update({ waiting: s.waiting, count: s.waiting ? voicemailCount(s) : 0 }),
      onStatus: (status) => this.update({ subscription: status }),
    });
    this.client = client;
    ua.handleNotifies(MESSAGE_SUMMARY_EVENT, (rq) => client.takeNotify(rq));
    if (this.config.subscribe) {
      client.start();
    }
  }

  /** The line goes down: the subscription ends (un-SUBSCRIBE, answered or timed out). */
  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client && this.config.subscribe) {
      await client.stop();
    }
  }

  private update(change: Partial<Voicemail>): void {
    this.value = { ...this.value, ...change };
    this.onChange(this.state);
  }
}
