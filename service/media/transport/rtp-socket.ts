import { DgramRtpSocket } from './dgram-rtp-socket.js';
import { PolledUdpSocket } from './polled-udp-socket.js';
import { udpAddon } from './udp-addon.js';

/** How a received datagram is handed over: positional, so that none needs an object of its own. */
export type DatagramHandler = (data: Uint8Array, address: string, port: number, arrivedAt: number) => void;

/**
 * The RTP port of a call. Datagrams are not delivered as they come but taken, with the time each
 * arrived (in `performance.now()`'s milliseconds), when the call's media clock asks: a wake-up per
 * frame instead of one per frame and one more per packet.
 */
export interface RtpSocket {
  /** 'polled': native/udp, nothing wakes for a packet; 'dgram': Node's sockets, queued on arrival. */
  readonly kind: 'polled' | 'dgram';
  /** send() has given the data to the kernel when it returns: the caller may reuse the buffer. */
  readonly copiesOnSend: boolean;
  readonly address: string;
  readonly port: number;
  /** Datagrams lost before they were handed over: too long, unreadable, or queued too long. */
  readonly dropped: number;
  send(data: Uint8Array, port: number, address: string): void;
  /** Hands over every datagram received since the last call, oldest first. */
  receive(handler: DatagramHandler): void;
  close(): void;
}

/** A socket bound to the address and port, native where native/udp is built; rejects with PortInUseError. */
export function openRtpSocket(address: string, port: number): Promise<RtpSocket> {
  const native = udpAddon();
  return 'addon' in native
    ? PolledUdpSocket.open(native.addon, address, port)
    : DgramRtpSocket.open(address, port);
}

/** For the daemon's start-up log: which kind of RTP socket calls will get, and why. */
export function rtpSocketKind(): string {
  const native = udpAddon();
  return 'addon' in native ? 'polled (native/udp)' : `Node dgram (${native.reason})`;
}
