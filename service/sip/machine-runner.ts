import type { Clock, TimerHandle } from '../core/clock.js';

/**
 * What a client of a pure SIP machine (registration.ts, subscription.ts) does the same way: feed it
 * events, carry out its effects, keep its timers, and let a caller wait until it has stopped.
 */
export abstract class MachineRunner<S extends { kind: string }, E, F> {
  protected state: S;
  private timers: TimerHandle[] = [];
  private stoppedWaiters: (() => void)[] = [];

  constructor(
    initial: S,
    protected readonly clock: Clock,
    private readonly step: (state: S, event: E) => [S, F[]],
  ) {
    this.state = initial;
  }

  protected abstract run(effect: F): void;

  protected dispatch(event: E): void {
    const [next, effects] = this.step(this.state, event);
    this.state = next;
    for (const effect of effects) {
      this.run(effect);
    }
    if (next.kind === 'stopped') {
      this.stoppedWaiters.splice(0).forEach((w) => w());
    }
  }

  /** `event` dispatched after `ms`, until the timers are cleared. */
  protected setTimer(event: E, ms: number): void {
    this.timers.push(this.clock.setTimeout(() => this.dispatch(event), ms));
  }

  protected clearTimers(): void {
    this.timers.forEach((t) => this.clock.clearTimeout(t));
    this.timers = [];
  }

  /** Dispatches `stop`; resolves once the machine reaches "stopped" (its last answer came) or after `timeoutMs`. */
  protected async stopWithin(stop: E, timeoutMs: number): Promise<void> {
    this.dispatch(stop);
    if (this.state.kind === 'stopped') {
      return;
    }
    await new Promise<void>((resolve) => {
      const t = this.clock.setTimeout(resolve, timeoutMs);
      this.stoppedWaiters.push(() => {
        this.clock.clearTimeout(t);
        resolve();
      });
    });
  }
}
