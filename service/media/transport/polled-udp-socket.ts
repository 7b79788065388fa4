import type { DatagramHandler, RtpSocket } from './rtp-socket.js';
import { PortInUseError } from './port-in-use-error.js';
import { META_FIELDS, type UdpAddon } from './udp-addon.js';
import { ipv4Text, ipv6Text } from '../../core/ip-address.js';

/** Larger than any datagram an RTP session accepts (1920 bytes of payload, header, SRTP tag). */
const SLOT_BYTES = 2048;
const SLOTS = 32;

/** An RTP socket from native/udp: the kernel queues and time-stamps datagrams until the clock reads them. */
export class PolledUdpSocket implements RtpSocket {
  readonly kind = 'polled';
  readonly copiesOnSend = true;
  private readonly slots = new Uint8Array(SLOT_BYTES * SLOTS);
  private readonly meta = new Float64Array(META_FIELDS * SLOTS);
  private open = true;
  /** The last sender's address (family and four words, as `receive` gives them) and its text, kept: a call's packets come from one place. */
  private readonly lastSender = new Float64Array(5).fill(-1);
  private lastSenderText = '';
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
        handler(data, this.senderText(m + 1), this.meta[m + 6] ?? 0, now - (this.meta[m + 7] ?? 0));
      }
    } while (count === SLOTS);
  }

  /** The text of the address whose family and words start at meta[at]. */
  private senderText(at: number): string {
    const meta = this.meta;
    const last = this.lastSender;
    let same = true;
    for (let k = 0; k < 5; k++) {
      same &&= last[k] === meta[at + k];
    }
    if (!same) {
      last.set(meta.subarray(at, at + 5));
      const words = [meta[at + 1] ?? 0, meta[at + 2] ?? 0, meta[at + 3] ?? 0, meta[at + 4] ?? 0] as const;
      this.lastSenderText = meta[at] === 6 ? ipv6Text(words) : ipv4Text(words[0]);
    }
    return this.lastSenderText;
  }

  close(): void {
    if (this.open) {
      this.open = false;
      this.addon.close(this.fd);
    }
  }
}
