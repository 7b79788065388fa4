import type { FrameClock } from './frame-clock.js';

/** Node's setTimeout, re-armed for each frame at the schedule's next time, so that its lateness never adds up. */
export class TimerFrameClock implements FrameClock {
  private timer: NodeJS.Timeout | undefined;
  private nextAt = 0;
  private periodMs = 20;
  private running = false;

  constructor(private readonly onTick: () => void) {}

  start(firstAt: number, periodMs: number): void {
    this.stop();
    this.nextAt = firstAt;
    this.periodMs = periodMs;
    this.running = true;
    this.arm();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.running = false;
  }

  close(): void {
    this.stop();
  }

  private arm(): void {
    this.timer = setTimeout(this.fire, Math.max(0, this.nextAt - performance.now()));
  }

  /** One function for every frame's timer: nothing made per frame that can be kept. */
  private readonly fire = (): void => {
    this.timer = undefined;
    this.nextAt += this.periodMs;
    this.onTick();
    // A tick that restarted the clock has armed it already; one that stopped it wants no more.
    if (this.running && this.timer === undefined) {
      this.arm();
    }
  };
}
