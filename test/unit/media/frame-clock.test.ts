import { afterEach, describe, expect, it } from 'vitest';
import type { FrameClock } from '../../../service/media/clock/frame-clock.js';
import { KernelFrameClock } from '../../../service/media/clock/kernel-frame-clock.js';
import { TimerFrameClock } from '../../../service/media/clock/timer-frame-clock.js';
import { builtUdpAddon as addon } from '../../harness/udp-addon.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Each kind; how early a tick may come (Node's timers count in whole milliseconds and may fire up to
 * two before a fractional time; the kernel's are early only by the microseconds between reading
 * performance.now() and the kernel's clock); and whether frames missed in a hold-up are ticked at one
 * wake-up (else one per turn of the event loop).
 */
const kinds: [string, (onTick: () => void) => FrameClock, number, boolean][] = [
  ['kernel (native/udp)', (onTick) => new KernelFrameClock(addon(), onTick), 0.1, true],
  ['Node timers', (onTick) => new TimerFrameClock(onTick), 2, false],
];

/** Holds the event loop, as a slow frame or a busy process does. */
function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spinning on purpose
  }
}

describe.each(kinds)('frame clock, %s', (_name, make, EARLY_MS, catchesUpAtOnce) => {
  const clocks: FrameClock[] = [];
  afterEach(() => clocks.splice(0).forEach((c) => c.close()));

  /** A clock that records when each tick came, and runs `onTick` (given the tick's number) in it. */
  function recording(onTick: (n: number) => void = () => undefined): { clock: FrameClock; at: number[] } {
    const at: number[] = [];
    const clock = make(() => {
      at.push(performance.now());
      onTick(at.length);
    });
    clocks.push(clock);
    return { clock, at };
  }

  /** Resolves once `at` holds `n` ticks. */
  async function ticks(at: number[], n: number): Promise<void> {
    while (at.length < n) {
      await sleep(5);
    }
  }

  it('ticks first at the given time, from the event loop, and then once per period, never early', async () => {
    const { clock, at } = recording();
    const firstAt = performance.now() + 30;
    clock.start(firstAt, 20);
    expect(at).toHaveLength(0);
    await ticks(at, 8);
    at.forEach((t, i) => expect(t).toBeGreaterThanOrEqual(firstAt + 20 * i - EARLY_MS));
  });

  it('ticks every frame that came due while the event loop was held up, none skipped', async () => {
    let held = false;
    const { clock, at } = recording((n) => {
      if (n === 3 && !held) {
        held = true;
        busyFor(150);
      }
    });
    const firstAt = performance.now();
    clock.start(firstAt, 10);
    await sleep(400);
    const now = performance.now();
    clock.stop();
    // A clock that skipped what came due in the hold would be 15 frames behind its schedule.
    const due = Math.floor((now + EARLY_MS - firstAt) / 10) + 1;
    expect(at.length).toBeLessThanOrEqual(due);
    expect(at.length).toBeGreaterThanOrEqual(due - 5);
    at.forEach((t, i) => expect(t).toBeGreaterThanOrEqual(firstAt + 10 * i - EARLY_MS));
    if (catchesUpAtOnce) {
      // The kernel reports every frame due at one wake-up: the 15 or so are ticked in a row.
      const burst = at.slice(3, 17);
      expect(burst[burst.length - 1]! - burst[0]!).toBeLessThan(5);
    }
  });

  it('gives no tick after it is stopped, nor one already due, until started again', async () => {
    const { clock, at } = recording((n) => {
      if (n === 2) {
        // A frame comes due while this tick runs; stopping now must drop it.
        busyFor(25);
        clock.stop();
      }
    });
    clock.start(performance.now(), 10);
    await ticks(at, 2);
    await sleep(60);
    expect(at).toHaveLength(2);
    const againAt = performance.now() + 5;
    clock.start(againAt, 10);
    await ticks(at, 4);
    expect(at[2]).toBeGreaterThanOrEqual(againAt - EARLY_MS);
  });

  it('takes a new period from within a tick, from the time it is given', async () => {
    let restartAt = 0;
    const { clock, at } = recording((n) => {
      if (n === 3) {
        restartAt = performance.now() + 40;
        clock.start(restartAt, 40);
      }
    });
    clock.start(performance.now(), 10);
    await ticks(at, 6);
    clock.stop();
    // Against the schedule, not the gap between ticks: a tick that comes late (a loaded machine) may
    // be followed by one on time, closer to it than a period.
    [0, 1, 2].forEach((k) => expect(at[3 + k]).toBeGreaterThanOrEqual(restartAt + 40 * k - EARLY_MS));
  });

  it('does nothing once closed, whatever it is asked', async () => {
    const { clock, at } = recording();
    clock.start(performance.now(), 10);
    await ticks(at, 1);
    clock.close();
    clock.start(performance.now(), 10);
    clock.stop();
    clock.close();
    await sleep(50);
    expect(at).toHaveLength(1);
  });
});

describe('frame clock addon, misuse', () => {
  it('refuses a period out of range and a closed clock with a TypeError', () => {
    const native = addon();
    const handle = native.clockOpen(() => undefined);
    expect(() => native.clockStart(handle, 0, 0)).toThrow(TypeError);
    expect(() => native.clockStart(handle, -1, 20)).toThrow(TypeError);
    expect(() => native.clockStart(handle, 0, Number.NaN)).toThrow(TypeError);
    native.clockClose(handle);
    expect(() => native.clockStart(handle, 0, 20)).toThrow(TypeError);
    expect(() => native.clockStop(handle)).toThrow(TypeError);
    expect(() => native.clockClose(handle)).not.toThrow();
  });
});
