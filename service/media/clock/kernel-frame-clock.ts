import type { NativeClock, UdpAddon } from '../transport/udp-addon.js';
import type { FrameClock } from './frame-clock.js';

/**
 * A timerfd on an absolute schedule (native/udp/frame_clock.c): the kernel keeps the period, and one
 * wake-up reports every frame come due, with none of the garbage Node's timers make per expiry.
 */
export class KernelFrameClock implements FrameClock {
  private readonly handle: NativeClock;
  /** Changed by every start and stop: frames reported under an older schedule are not ticked. */
  private schedule = 0;
  private closed = false;

  constructor(
    private readonly addon: UdpAddon,
    private readonly onTick: () => void,
  ) {
    this.handle = addon.clockOpen(this.onFrames);
  }

  private readonly onFrames = (frames: number): void => {
    const schedule = this.schedule;
    for (let i = 0; i < frames && schedule === this.schedule; i++) {
      this.onTick();
    }
  };

  start(firstAt: number, periodMs: number): void {
    if (this.closed) {
      return;
    }
    this.schedule++;
    this.addon.clockStart(this.handle, Math.max(0, firstAt - performance.now()), periodMs);
  }

  stop(): void {
    if (this.closed) {
      return;
    }
    this.schedule++;
    this.addon.clockStop(this.handle);
  }

  close(): void {
    if (!this.closed) {
      this.closed = true;
      this.schedule++;
      this.addon.clockClose(this.handle);
    }
  }
}
