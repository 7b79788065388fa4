import { createSocket, type Socket } from 'node:dgram';
import {
  CAN_EFF_FLAG,
  CAN_EFF_MASK,
  CAN_ERR_FLAG,
  CAN_RTR_FLAG,
  CanFrameError,
  validateFrame,
  type CanFrame,
} from '../frame.js';
import { CanTransportError, type CanTransport } from './transport.js';

/**
 * cannelloni's UDP wire format (version 2), as spoken by CAN-over-Ethernet gateways and bench rigs:
 * a 5-byte header (version 2, op code 0 = DATA, sequence number, frame count u16 BE), then per frame
 * can_id u32 BE with Linux's EFF/RTR/ERR flags, a length byte (bit 7 set for CAN FD, then a flags
 * byte), and the data (none for remote frames).
 */
const VERSION = 2;
const OP_DATA = 0;
const FD_BIT = 0x80;

export function encodeCannelloni(frames: CanFrame[], seq: number): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(5);
  header.writeUInt8(VERSION, 0);
  header.writeUInt8(OP_DATA, 1);
  header.writeUInt8(seq & 0xff, 2);
  header.writeUInt16BE(frames.length, 3);
  parts.push(header);
  for (const f of frames) {
    const id = (f.id | (f.extended ? CAN_EFF_FLAG : 0) | (f.rtr ? CAN_RTR_FLAG : 0)) >>> 0;
    const head = Buffer.alloc(f.fd ? 6 : 5);
    head.writeUInt32BE(id, 0);
    head.writeUInt8(f.data.length | (f.fd ? FD_BIT : 0), 4);
    if (f.fd) {
      head.writeUInt8(0, 5);
    }
    parts.push(head);
    if (!f.rtr) {
      parts.push(Buffer.from(f.data));
    }
  }
  return Buffer.concat(parts);
}

/** Decodes one datagram; throws CanFrameError on anything malformed (the whole datagram is dropped). */
export function decodeCannelloni(buf: Buffer, nowMs: number): CanFrame[] {
  if (buf.length < 5) {
    throw new CanFrameError('datagram shorter than the cannelloni header');
  }
  if (buf.readUInt8(0) !== VERSION) {
    throw new CanFrameError(`cannelloni version ${buf.readUInt8(0)}, expected ${VERSION}`);
  }
  if (buf.readUInt8(1) !== OP_DATA) {
    throw new CanFrameError(`cannelloni op code ${buf.readUInt8(1)} is not DATA`);
  }
  const count = buf.readUInt16BE(3);
  const frames: CanFrame[] = [];
  let off = 5;
  for (let i = 0; i < count; i++) {
    if (off + 5 > buf.length) {
      throw new CanFrameError(`datagram announces ${count} frames but ends after ${i}`);
    }
    const rawId = buf.readUInt32BE(off);
    const lenByte = buf.readUInt8(off + 4);
    off += 5;
    const fd = (lenByte & FD_BIT) !== 0;
    if (fd) {
      off += 1; // CAN FD flags (BRS, ESI): not used by carphone
    }
    const len = lenByte & 0x7f;
    if (len > 64) {
      throw new CanFrameError(`frame length ${len} exceeds 64`);
    }
    const rtr = (rawId & CAN_RTR_FLAG) !== 0;
    const dataLen = rtr ? 0 : len;
    if (off + dataLen > buf.length) {
      throw new CanFrameError('frame data runs past the end of the datagram');
    }
    if (rawId & CAN_ERR_FLAG) {
      off += dataLen;
      continue;
    }
    const extended = (rawId & CAN_EFF_FLAG) !== 0;
    const frame: CanFrame = {
      id: extended ? rawId & CAN_EFF_MASK : rawId & 0x7ff,
      extended,
      rtr,
      fd,
      data: Uint8Array.from(buf.subarray(off, off + dataLen)),
      timestampMs: nowMs,
    };
    if (!extended && (rawId & CAN_EFF_MASK) > 0x7ff) {
      throw new CanFrameError(`standard frame with identifier 0x${(rawId & CAN_EFF_MASK).toString(16)}`);
    }
    validateFrame(frame);
    frames.push(frame);
    off += dataLen;
  }
  return frames;
}

/** Listens for cannelloni datagrams on a UDP port. Malformed datagrams are reported and dropped. */
export class CannelloniUdpTransport implements CanTransport {
  readonly description: string;
  private socket: Socket | undefined;

  constructor(
    private readonly port: number,
    private readonly address = '127.0.0.1',
  ) {
    this.description = `udp:${address}:${port}`;
  }

  get boundPort(): number | undefined {
    return this.socket?.address().port;
  }

  async start(onFrame: (frame: CanFrame) => void, onError: (e: Error) => void): Promise<void> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (e) =>
        reject(new CanTransportError(this.description, `cannot listen: ${e.message}`)),
      );
      socket.bind(this.port, this.address, () => resolve());
    });
    socket.on('error', (e) => onError(new CanTransportError(this.description, e.message)));
    socket.on('message', (msg, rinfo) => {
      let frames: CanFrame[];
      try {
        frames = decodeCannelloni(msg, performance.now());
      } catch (e) {
        onError(
          new CanTransportError(
            this.description,
            `datagram from ${rinfo.address}:${rinfo.port} dropped: ${(e as Error).message}`,
          ),
        );
        return;
      }
      frames.forEach(onFrame);
    });
    this.socket = socket;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.socket) {
        resolve();
        return;
      }
      this.socket.close(() => resolve());
      this.socket = undefined;
    });
  }
}
