import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { packageFile } from '../../core/package-files.js';

/** A kernel timer of native/udp's, as JavaScript holds it. */
export interface NativeClock {
  readonly __nativeClock: unique symbol;
}

/**
 * native/udp (a Node addon in C): a UDP socket that only its caller reads, never the event loop, and
 * the media clock that reads it.
 */
export interface UdpAddon {
  /** A bound, non-blocking socket's descriptor; throws an Error whose code is the errno's name. */
  open(address: string, port: number): number;
  localPort(fd: number): number;
  /** 0, or the negative errno of a datagram the network refused. */
  send(fd: number, data: Uint8Array, address: string, port: number): number;
  /**
   * The datagrams waiting, as many as fit: each in its `slotSize` slot of `slots`, described by
   * META_FIELDS numbers in `meta` (length or -1 when it did not fit; address family, 4 or 6; the
   * address as four 32-bit words, an IPv4 one in the first; port; ms since the kernel received it).
   * Returns how many, or a negative errno.
   */
  receive(fd: number, slots: Uint8Array, slotSize: number, meta: Float64Array): number;
  close(fd: number): void;
  /** A stopped kernel timer that will call onTick with the number of frames come due since its last call. */
  clockOpen(onTick: (frames: number) => void): NativeClock;
  /** First tick firstInMs from now (0: at the event loop's next turn), then one every periodMs (1-1000). */
  clockStart(clock: NativeClock, firstInMs: number, periodMs: number): void;
  clockStop(clock: NativeClock): void;
  /** Stops it for good; later calls with it throw, except clockClose. */
  clockClose(clock: NativeClock): void;
}

/** Fields per datagram in `receive`'s meta array. */
export const META_FIELDS = 8;

const BUILT_ADDON = 'native/udp/build/Release/carphone_udp.node';
const ADDON_FUNCTIONS: readonly (keyof UdpAddon)[] = [
  'open',
  'localPort',
  'send',
  'receive',
  'close',
  'clockOpen',
  'clockStart',
  'clockStop',
  'clockClose',
];

let loaded: { addon: UdpAddon } | { reason: string } | undefined;

/** Where `npm ci` built the addon (binding.gyp, node-gyp); undefined where it is not built. */
export function builtUdpAddonPath(): string | undefined {
  const path = packageFile(BUILT_ADDON);
  return existsSync(path) ? path : undefined;
}

/** The addon, loaded once; `CARPHONE_UDP_ADDON=off` leaves it unused. */
export function udpAddon(): { addon: UdpAddon } | { reason: string } {
  if (loaded) {
    return loaded;
  }
  const path = builtUdpAddonPath();
  if (process.env['CARPHONE_UDP_ADDON'] === 'off') {
    loaded = { reason: 'CARPHONE_UDP_ADDON=off' };
  } else if (path === undefined) {
    loaded = { reason: `${BUILT_ADDON} is not built (npm ci builds it with node-gyp)` };
  } else {
    try {
      const addon = createRequire(import.meta.url)(path) as Record<string, unknown>;
      const missing = ADDON_FUNCTIONS.filter((name) => typeof addon[name] !== 'function');
      loaded =
        missing.length === 0
          ? { addon: addon as unknown as UdpAddon }
          : {
              reason: `${BUILT_ADDON} lacks ${missing.join(', ')}: built from older sources (npm ci rebuilds it)`,
            };
    } catch (e) {
      loaded = { reason: `${BUILT_ADDON} did not load: ${e instanceof Error ? e.message : String(e)}` };
    }
  }
  return loaded;
}
