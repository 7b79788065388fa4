import type { DatagramHandler, RtpSocket } from './rtp-socket.js';
import { PortInUseError } from './port-in-use-error.js';
import { META_FIELDS, type UdpAddon } from './udp-addon.js';

/** Larger than any datagram an RTP session accepts (1920 bytes of payload, header, SRTP tag). */
const SLOT_BYTES = 2048;
const SLOTS = 32;

function ipv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** An RTP socket from native/udp: the kernel queues and time-stamps datagrams until the clock reads them. */
export class PolledUdpSocket implements RtpSocket {
  readonly kind = 'polled';
  readonly copiesOnSend = true;
  private readonly slots = new Uint8Array(SLOT_BYTES * SLOTS);
  private readonly meta = new Float64Array(META_FIELDS * SLOTS);
  private open = true;
  /** The last sender's address as text, kept: a call's packets come from one place. */
  private lastSender = { n: -1, text: '' };
  /** Datagrams too long for a slot, and failed reads: counted. */
  dropped = 0;

  private constructor(
    private readonly addon: UdpAddon,
    private readonly fd: number,
    readonly address: string,
    readonly port: number,
  ) {}

  static open(addon: UdpAddon, address: string, port: number): Promise<PolledUdpSocket> {
    try {
      const fd = addon.open(address, port);
      return Promise.resolve(new PolledUdpSocket(addon, fd, address, addon.localPort(fd)));
    } catch (e) {
      return Promise.reject(new PortInUseError(address, port, e instanceof Error ? e.message : String(e)));
    }
  }

  send(data: Uint8Array, port: number, address: string): void {
    if (this.open) {
      // A refused datagram (ICMP unreachable from a far end not yet listening) is as lost as any.
      this.addon.send(this.fd, data, address, port);
    }
  }

  receive(handler: DatagramHandler): void {
    if (!this.open) {
      return;
    }
    let count: number;
    do {
      count = this.addon.receive(this.fd, this.slots, SLOT_BYTES, this.meta);
      if (count < 0) {
        this.dropped++;
        return;
      }
      const now = performance.now();
      for (let i = 0; i < count; i++) {
        const m = i * META_FIELDS;
        const length = this.meta[m] ?? -1;
        if (length < 0) {
          this.dropped++;
          continue;
        }
        const data = this.slots.subarray(i * SLOT_BYTES, i * SLOT_BYTES + length);
        handler(
          data,
          this.senderText(this.meta[m + 1] ?? 0),
          this.meta[m + 2] ?? 0,
          now - (this.meta[m + 3] ?? 0),
        );
      }
    } while (count === SLOTS);
  }

  private senderText(n: number): string {
    if (n !== this.lastSender.n) {
      this.lastSender = { n, text: ipv4(n) };
    }
    return this.lastSender.text;
  }

  close(): void {
    if (this.open) {
      this.open = false;
      this.addon.close(this.fd);
    }
  }
}
