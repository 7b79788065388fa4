import { createSocket, type Socket, type SocketOptions } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import type { DatagramHandler, RtpSocket } from './rtp-socket.js';
import { PortInUseError } from './port-in-use-error.js';

/** Held while no clock reads them (a call on hold both ways): the oldest go first. */
const QUEUE_LIMIT = 256;

/**
 * RTP goes to addresses from the SDP, which are IP literals; Node's default resolves even those
 * through dns.lookup and a next-tick, once per packet. Names (an FQDN in c=) still go to dns.lookup.
 */
const lookupIpLiteral: NonNullable<SocketOptions['lookup']> = (hostname, options, callback) => {
  const family = isIP(hostname);
  if (family === 0) {
    dnsLookup(hostname, options, callback);
  } else {
    callback(null, hostname, family);
  }
};

/** A UDP socket of Node's own, bound to the address and port; rejects with PortInUseError. */
export function bindDgram(address: string, port: number): Promise<Socket> {
  const socket = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4', lookup: lookupIpLiteral });
  return new Promise((resolve, reject) => {
    socket.once('error', (e) => {
      socket.close();
      reject(new PortInUseError(address, port, e.message));
    });
    socket.bind(port, address, () => resolve(socket));
  });
}

interface Queued {
  data: Uint8Array;
  address: string;
  port: number;
  arrivedAt: number;
}

/** The fallback where native/udp is not built: Node's socket, its datagrams queued until asked for. */
export class DgramRtpSocket implements RtpSocket {
  readonly kind = 'dgram';
  /** Node's dgram may still be sending the data after send() returns. */
  readonly copiesOnSend = false;
  private queue: Queued[] = [];
  private open = true;
  dropped = 0;

  private constructor(
    private readonly socket: Socket,
    readonly address: string,
    readonly port: number,
  ) {
    socket.on('message', (data, from) => {
      if (this.queue.length >= QUEUE_LIMIT) {
        this.queue.shift();
        this.dropped++;
      }
      this.queue.push({ data, address: from.address, port: from.port, arrivedAt: performance.now() });
    });
    // Errors on a UDP socket are ICMP reports about earlier sends: nothing to do but carry on.
    socket.on('error', () => this.dropped++);
  }

  static async open(address: string, port: number): Promise<DgramRtpSocket> {
    const socket = await bindDgram(address, port);
    return new DgramRtpSocket(socket, address, socket.address().port);
  }

  send(data: Uint8Array, port: number, address: string): void {
    if (this.open) {
      this.socket.send(data, port, address);
    }
  }

  receive(handler: DatagramHandler): void {
    const queued = this.queue;
    this.queue = [];
    for (const d of queued) {
      handler(d.data, d.address, d.port, d.arrivedAt);
    }
  }

  close(): void {
    if (this.open) {
      this.open = false;
      this.queue = [];
      this.socket.close();
    }
  }
}
