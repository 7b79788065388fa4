import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { validateFrame, type CanFrame } from '../frame.js';
import { CanTransportError, type CanTransport } from './transport.js';

/** The part of the `socketcan` package's native channel that carphone uses. */
interface RawMessage {
  id: number;
  ext: boolean;
  rtr: boolean;
  data: Buffer;
  err?: boolean;
  ts_sec?: number;
  ts_usec?: number;
}

interface RawChannel {
  addListener(event: 'onMessage' | 'onStopped', callback: (m: RawMessage) => void): void;
  start(): void;
  stop(): void;
  send(m: RawMessage): void;
}

interface SocketCanModule {
  createRawChannel(iface: string, timestamps?: boolean): RawChannel;
}

/**
 * Why a SocketCAN interface cannot be opened, in words an integrator can act on. The `socketcan`
 * package only throws "Error while creating channel" whatever the cause, so the cause is read from
 * the kernel's own files first.
 */
export function diagnoseSocketCan(iface: string, root = ''): string | undefined {
  const protocols = `${root}/proc/net/protocols`;
  const hasCan =
    existsSync(`${root}/proc/net/can`) ||
    (existsSync(protocols) && /^CAN_RAW\b/m.test(readFileSync(protocols, 'utf8')));
  if (!hasCan) {
    return 'the kernel has no SocketCAN (AF_CAN) support: load the can and can-raw modules';
  }
  if (!existsSync(`${root}/sys/class/net/${iface}`)) {
    return `there is no network interface named ${iface}`;
  }
  const operstate = `${root}/sys/class/net/${iface}/operstate`;
  const flags = `${root}/sys/class/net/${iface}/flags`;
  if (existsSync(flags) && (Number(readFileSync(flags, 'utf8').trim()) & 1) === 0) {
    return `${iface} is down (ip link set ${iface} up)`;
  }
  if (existsSync(operstate) && readFileSync(operstate, 'utf8').trim() === 'down') {
    return `${iface} is down (ip link set ${iface} up)`;
  }
  return undefined;
}

/** The car's own bus through Linux SocketCAN (raw socket, kernel receive timestamps). */
export class SocketCanTransport implements CanTransport {
  readonly description: string;
  private channel: RawChannel | undefined;

  constructor(private readonly iface: string) {
    this.description = `socketcan:${iface}`;
  }

  start(onFrame: (frame: CanFrame) => void, onError: (e: Error) => void): Promise<void> {
    const cause = diagnoseSocketCan(this.iface);
    if (cause) {
      return Promise.reject(new CanTransportError(this.description, `cannot open: ${cause}`));
    }
    let mod: SocketCanModule;
    try {
      mod = createRequire(import.meta.url)('socketcan') as SocketCanModule;
    } catch (e) {
      return Promise.reject(
        new CanTransportError(
          this.description,
          `the socketcan package is not usable: ${(e as Error).message}`,
        ),
      );
    }
    let channel: RawChannel;
    try {
      channel = mod.createRawChannel(this.iface, true);
    } catch (e) {
      return Promise.reject(new CanTransportError(this.description, `cannot open: ${(e as Error).message}`));
    }
    channel.addListener('onMessage', (m) => {
      if (m.err) {
        return;
      }
      const frame: CanFrame = {
        id: m.id,
        extended: m.ext,
        rtr: m.rtr,
        fd: m.data.length > 8,
        data: Uint8Array.from(m.data),
        timestampMs: m.ts_sec !== undefined ? m.ts_sec * 1000 + (m.ts_usec ?? 0) / 1000 : performance.now(),
      };
      try {
        validateFrame(frame);
      } catch (e) {
        onError(new CanTransportError(this.description, (e as Error).message));
        return;
      }
      onFrame(frame);
    });
    channel.start();
    this.channel = channel;
    return Promise.resolve();
  }

  /** Sends a frame on the bus (the head unit's own messages; tests). */
  send(frame: Pick<CanFrame, 'id' | 'extended' | 'data'>): void {
    if (!this.channel) {
      throw new CanTransportError(this.description, 'not started');
    }
    this.channel.send({ id: frame.id, ext: frame.extended, rtr: false, data: Buffer.from(frame.data) });
  }

  stop(): Promise<void> {
    this.channel?.stop();
    this.channel = undefined;
    return Promise.resolve();
  }
}
