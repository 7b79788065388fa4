/**
 * Time as an input. Every protocol timer in carphone goes through a Clock so that state machines and
 * their runners can be driven by a simulated clock in tests (registration refresh, backoff, 2xx
 * retransmission) instead of by wall time.
 *
 * Two readings: the wall clock for what is recorded or sent as a time of day (call history, StartTime,
 * the MSD's timestamp, a deadline kept across restarts), and a monotonic one for how long something
 * took or has lasted. A head unit's wall clock jumps, often by years, when GNSS, the cellular network or
 * NTP first sets it after boot: measured on it, a held key would become a long press and a CAN message
 * that stopped arriving would not time out until the clock caught up again.
 */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Wall time: milliseconds since the epoch. */
  now(): number;
  /** Milliseconds on a clock that never jumps, from an arbitrary origin: for durations only. */
  monotonicMs(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

export const systemClock: Clock = (() => {
  let nextId = 1;
  const timers = new Map<number, NodeJS.Timeout>();
  return {
    now: () => Date.now(),
    monotonicMs: () => performance.now(),
    setTimeout(fn, ms) {
      const id = nextId++;
      const t = setTimeout(() => {
        timers.delete(id);
        fn();
      }, ms);
      timers.set(id, t);
      return { id };
    },
    clearTimeout(handle) {
      if (!handle) {
        return;
      }
      const t = timers.get(handle.id);
      if (t) {
        clearTimeout(t);
        timers.delete(handle.id);
      }
    },
  };
})();

/** A clock that only moves when told to: for tests of timer-driven behaviour. */
export class ManualClock implements Clock {
  /** Monotonic time; timers run on it, as Node's do. */
  private current: number;
  /** How far the wall clock is from the monotonic one: changed when the wall clock is set. */
  private wallOffset = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();

  constructor(start = 1_700_000_000_000) {
    this.current = start;
  }

  now(): number {
    return this.current + this.wallOffset;
  }

  monotonicMs(): number {
    return this.current;
  }

  /** The wall clock set to `wallMs` (as GNSS or NTP would), monotonic time and timers unmoved. */
  setWallClock(wallMs: number): void {
    this.wallOffset = wallMs - this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.pending.set(id, { at: this.current + Math.max(0, ms), fn });
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) {
      this.pending.delete(handle.id);
    }
  }

  /** Moves time forward, firing due timers in order of their due time. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let nextId: number | undefined;
      let nextAt = Infinity;
      for (const [id, t] of this.pending) {
        if (t.at <= target && t.at < nextAt) {
          nextAt = t.at;
          nextId = id;
        }
      }
      if (nextId === undefined) {
        break;
      }
      const timer = this.pending.get(nextId);
      this.pending.delete(nextId);
      this.current = nextAt;
      timer?.fn();
    }
    this.current = target;
  }

  get pendingCount(): number {
    return this.pending.size;
  }
}
