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
  private bound = true;

  private constructor(
    private readonly target: { address: string; port: number },
    private readonly o: Impairment,
  ) {
    this.rand = seeded(o.seed);
    this.socket.on('message', (msg) => this.onPacket(msg));
  }

  /** A relay without a port of its own, fed by offer() and sending through sendVia()'s socket. */
  static detached(target: { address: string; port: number }, o: Impairment): ImpairmentRelay {
    const relay = new ImpairmentRelay(target, o);
    relay.bound = false;
    return relay;
  }

  static async start(target: { address: string; port: number }, o: Impairment): Promise<ImpairmentRelay> {
    const relay = new ImpairmentRelay(target, o);
    await new Promise<void>((resolve) => relay.socket.bind(0, '127.0.0.1', resolve));
    return relay;
  }

  get port(): number {
    return this.socket.address().port;
  }

  private out: Socket | undefined;

  /** Sends impaired packets from another socket (see MediaFront) instead of its own. */
  sendVia(socket: Socket): void {
    this.out = socket;
  }

  /** Takes a packet to impair and pass on, as if it had arrived on the relay's own port. */
  offer(msg: Buffer): void {
    this.onPacket(msg);
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
      (this.out ?? this.socket).send(msg, this.target.port, this.target.address);
    }, delay);
    this.pending.add(timer);
  }

  close(): void {
    this.pending.forEach((t) => clearTimeout(t));
    if (this.bound) {
      this.socket.close();
    }
  }
}

/**
 * Stands between a far end and carphoned's media without either knowing: carphoned advertises
 * `front` (its account's mediaAddress) in its SDP, and this relay listens on `front` at every port of
 * carphoned's RTP range, passing what carphoned sends out unchanged and what the far end sends in
 * through the impairment. RTCP ports pass both ways unimpaired.
 */
export class MediaFront {
  private readonly sockets: Socket[] = [];
  private readonly relays: ImpairmentRelay[] = [];

  private constructor() {}

  static async start(
    front: string,
    back: string,
    ports: { min: number; max: number },
    o: Impairment,
  ): Promise<{ front: MediaFront; impaired: ImpairmentRelay[] }> {
    const m = new MediaFront();
    for (let port = ports.min; port <= ports.max; port++) {
      const socket = createSocket('udp4');
      await new Promise<void>((resolve) => socket.bind(port, front, resolve));
      let farEnd: { address: string; port: number } | undefined;
      const impair =
        port % 2 === 0
          ? ImpairmentRelay.detached({ address: back, port }, { ...o, seed: o.seed + port })
          : undefined;
      if (impair) {
        m.relays.push(impair);
        // The impaired packets leave through this socket, so that carphoned sees one far end.
        impair.sendVia(socket);
      }
      socket.on('message', (msg, from) => {
        if (from.address === back && from.port === port) {
          if (farEnd) {
            socket.send(msg, farEnd.port, farEnd.address);
          }
          return;
        }
        farEnd = { address: from.address, port: from.port };
        if (impair) {
          impair.offer(msg);
        } else {
          socket.send(msg, port, back);
        }
      });
      m.sockets.push(socket);
    }
    return { front: m, impaired: m.relays };
  }

  close(): void {
    this.relays.forEach((r) => r.close());
    this.sockets.forEach((s) => s.close());
  }
}
