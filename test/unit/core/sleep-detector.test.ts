import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { procUptimeMs, SleepDetector, SLEEP_THRESHOLD_MS } from '../../../service/core/sleep-detector.js';

/** Both clocks under the test's hand: time passes awake (both move) or asleep (boot time only). */
function rig() {
  let monotonic = 50_000;
  let boot = 80_000;
  const wakes: number[] = [];
  const detector = new SleepDetector({ monotonicMs: () => monotonic, bootTimeMs: () => boot }, (slept) =>
    wakes.push(slept),
  );
  return {
    wakes,
    detector,
    awake(ms: number) {
      monotonic += ms;
      boot += ms;
    },
    asleep(ms: number) {
      boot += ms;
    },
  };
}

describe('noticing that the system slept', () => {
  it('reports a night parked, with how long it slept, at the first check after waking', () => {
    const r = rig();
    r.awake(5000);
    r.detector.check();
    r.awake(2000);
    r.asleep(9 * 3600_000);
    r.awake(1000);
    r.detector.check();
    expect(r.wakes).toEqual([9 * 3600_000]);
    r.awake(5000);
    r.detector.check();
    expect(r.wakes).toHaveLength(1);
  });

  it('reports nothing while the system stays awake, however long', () => {
    const r = rig();
    for (let i = 0; i < 1000; i++) {
      r.awake(5000);
      r.detector.check();
    }
    expect(r.wakes).toEqual([]);
  });

  it('takes a suspend shorter than the threshold for the clocks drifting apart, and one at it for a sleep', () => {
    const r = rig();
    r.asleep(SLEEP_THRESHOLD_MS - 10);
    r.detector.check();
    expect(r.wakes).toEqual([]);
    r.asleep(SLEEP_THRESHOLD_MS);
    r.detector.check();
    expect(r.wakes).toEqual([SLEEP_THRESHOLD_MS]);
  });
});

describe("Linux's boot time", () => {
  it('is read from /proc/uptime in milliseconds', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'uptime-')), 'uptime');
    writeFileSync(file, '35149.87 68877.46\n');
    expect(procUptimeMs(file)).toBeCloseTo(35_149_870, 3);
  });

  it('is undefined where the file is missing or not a number', () => {
    const dir = mkdtempSync(join(tmpdir(), 'uptime-'));
    writeFileSync(join(dir, 'garbage'), 'up a long time');
    expect(procUptimeMs(join(dir, 'missing'))).toBeUndefined();
    expect(procUptimeMs(join(dir, 'garbage'))).toBeUndefined();
  });

  it("goes on with this machine's monotonic clock while it is awake", async () => {
    // Each boot-time reading is bracketed by two monotonic ones, so a pause between reads cannot fail it.
    const read = (): { before: number; boot: number; after: number } => {
      const before = performance.now();
      const boot = procUptimeMs() ?? NaN;
      return { before, boot, after: performance.now() };
    };
    const first = read();
    await new Promise((r) => setTimeout(r, 300));
    const second = read();
    const bootDelta = second.boot - first.boot;
    // /proc/uptime counts in 10 ms steps.
    expect(bootDelta).toBeGreaterThanOrEqual(second.before - first.after - 10);
    expect(bootDelta).toBeLessThanOrEqual(second.after - first.before + 10);
  });
});
