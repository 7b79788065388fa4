import { join } from 'node:path';
import { REPO } from './compile-daemon.js';
import { inNamespace } from './nat-network.js';
import { Child } from './process.js';

/** An RTP packet the peer received: from which address and port, its payload type and payload length. */
export interface PeerHeard {
  from: string;
  pt: number;
  bytes: number;
}

/** The tone the peer sends. */
export const PEER_TONE_HZ = 620;

/**
 * A far end's media in the operator's core that reaches the car the way an operator's relay does:
 * only where the car's first RTP packet came from (latching-media-peer-main.ts).
 */
export class LatchingMediaPeer {
  private constructor(
    readonly child: Child,
    readonly port: number,
  ) {}

  static async start(place: { netns?: string; address: string }): Promise<LatchingMediaPeer> {
    const [command, args] = inNamespace(place.netns, process.execPath, [
      '--import',
      'tsx',
      join(REPO, 'test/harness/latching-media-peer-main.ts'),
      place.address,
    ]);
    const child = new Child('media peer', command, args, { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
    const [, port] = await child.waitForLine(/^\{"bound":(\d+)\}$/);
    return new LatchingMediaPeer(child, Number(port));
  }

  /** Every RTP packet received so far, in order. */
  heard(): PeerHeard[] {
    return this.child.output.filter((l) => l.startsWith('{"from"')).map((l) => JSON.parse(l) as PeerHeard);
  }

  /** Sends its tone (as from the start), or nothing: a far end that holds the call. */
  play(on: boolean): void {
    this.child.proc.stdin?.write(on ? 'play\n' : 'quiet\n');
  }

  async stop(): Promise<void> {
    await this.child.stop('SIGKILL');
  }
}
