import { createSocket, type Socket } from 'node:dgram';
import { seeded } from '../../bench/jitter/traces.js';

/**
 * A UDP relay that impairs what passes through it, as a moving car's radio link does: a base delay,
 * random jitter, Gilbert-Elliott burst loss, and a share of packets held back long enough to be
 * overtaken (reordering). Seeded, so a failure can be replayed.
 */
export interface Impairment {
  delayMs: number;
  /** Extra delay, uniform in 0..jitterMs. */
  jitterMs: number;
  /** Gilbert-Elliott: chance to enter a loss burst, and to stay in it. */
  lossEnter: number;
  lossStay: number;
  /** Share of packets held back a further 30-60 ms. */
  reorderShare: number;
  seed: number;
}

export class ImpairmentRelay {
  private readonly socket: Socket = createSocket('udp4');
  private bad = false;
  private readonly rand: () => number;
  readonly counts = { in: 0, dropped: 0, held: 0 };
  private readonly pending = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly target: { address: string; port: number },
    private readonly o: Impairment,
  ) {
    this.rand = seeded(o.seed);
    this.socket.on('message', (msg) => this.onPacket(msg));
  }

  static async start(target: { address: string; port: number }, o: Impairment): Promise<ImpairmentRelay> {
    const relay = new ImpairmentRelay(target, o);
    await new Promise<void>((resolve) => relay.socket.bind(0, '127.0.0.1', resolve));
    return relay;
  }

  get port(): number {
    return this.socket.address().port;
  }

  private onPacket(msg: Buffer): void {
    this.counts.in++;
    this.bad = this.bad ? this.rand() < this.o.lossStay : this.rand() < this.o.lossEnter;
    if (this.bad) {
      this.counts.dropped++;
      return;
    }
    let delay = this.o.delayMs + this.rand() * this.o.jitterMs;
    if (this.rand() < this.o.reorderShare) {
      delay += 30 + this.rand() * 30;
      this.counts.held++;
    }
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      this.socket.send(msg, this.target.port, this.target.address);
    }, delay);
    this.pending.add(timer);
  }

  close(): void {
    this.pending.forEach((t) => clearTimeout(t));
    this.socket.close();
  }
}
