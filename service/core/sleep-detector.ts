import { readFileSync } from 'node:fs';

/** The two system clocks that tell a sleep apart from the wall clock being set. */
export interface SleepClocks {
  /** CLOCK_MONOTONIC: stands still while the system is suspended. */
  monotonicMs(): number;
  /** CLOCK_BOOTTIME: goes on while it is suspended. */
  bootTimeMs(): number;
}

/** How much more boot time than monotonic time between two checks counts as a sleep. */
export const SLEEP_THRESHOLD_MS = 2000;
/**
 * How often the daemon looks at the system (these clocks, network addresses): a wake, or a new address
 * to move the calls to, is noticed within this long. Reading /proc/uptime and the interface table once
 * a second costs next to nothing; each second more is a second of silence in the calls at a handover.
 */
export const SYSTEM_CHECK_INTERVAL_MS = 1000;

/**
 * Notices that the system was suspended (a head unit sleeps whenever the car is parked): Node's timers
 * run on the monotonic clock, which stands still meanwhile, so a registration refresh due in ten minutes
 * is still ten minutes away after a night asleep, long after the registrar forgot the binding. The wall
 * clock cannot tell, as it is also set by GNSS or NTP; boot time can.
 */
export class SleepDetector {
  private lastMonotonic: number;
  private lastBoot: number;

  constructor(
    private readonly clocks: SleepClocks,
    private readonly onWake: (sleptMs: number) => void,
  ) {
    this.lastMonotonic = clocks.monotonicMs();
    this.lastBoot = clocks.bootTimeMs();
  }

  check(): void {
    const monotonic = this.clocks.monotonicMs();
    const boot = this.clocks.bootTimeMs();
    const slept = boot - this.lastBoot - (monotonic - this.lastMonotonic);
    this.lastMonotonic = monotonic;
    this.lastBoot = boot;
    if (slept >= SLEEP_THRESHOLD_MS) {
      this.onWake(slept);
    }
  }
}

/** Linux's boot time, from /proc/uptime (seconds, two decimals); undefined where it cannot be read. */
export function procUptimeMs(path = '/proc/uptime'): number | undefined {
  try {
    const seconds = Number(readFileSync(path, 'utf8').split(' ')[0]);
    return Number.isFinite(seconds) ? seconds * 1000 : undefined;
  } catch {
    return undefined;
  }
}
