import { udpAddon } from '../transport/udp-addon.js';
import { KernelFrameClock } from './kernel-frame-clock.js';
import { TimerFrameClock } from './timer-frame-clock.js';

/**
 * Paces a call's frames: one tick per frame period on a fixed schedule, never drifting from it. A
 * frame that came due while the process was held up is still ticked, late, in a row with the others.
 */
export interface FrameClock {
  /**
   * Ticks at `firstAt` (performance.now()'s milliseconds; a time already past: at the event loop's
   * next turn, never from within this call), then every `periodMs`. Replaces any earlier schedule.
   */
  start(firstAt: number, periodMs: number): void;
  /** No tick until started again, not even one already due. */
  stop(): void;
  /** Stopped for good; what it holds is given back. */
  close(): void;
}

/** A stopped clock that calls `onTick` once per frame, the kernel's where native/udp is built. */
export function openFrameClock(onTick: () => void): FrameClock {
  const native = udpAddon();
  return 'addon' in native ? new KernelFrameClock(native.addon, onTick) : new TimerFrameClock(onTick);
}

/** For the daemon's start-up log: which clock calls will get, and why. */
export function frameClockKind(): string {
  const native = udpAddon();
  return 'addon' in native ? 'kernel timer (native/udp)' : `Node timers (${native.reason})`;
}
