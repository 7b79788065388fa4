import { describe, expect, it } from 'vitest';
import { Expansion } from '../../../service/media/jitter/expansion.js';
import { compressTwoFrames, continuationOf } from '../../../service/media/jitter/time-scale.js';
import { toneShare } from '../../harness/audio.js';

/** Frames of 160 samples (20 ms at 8 kHz) cut from one signal. */
function frames(signal: (t: number) => number, count: number): Int16Array[] {
  return Array.from({ length: count }, (_, k) =>
    Int16Array.from({ length: 160 }, (_, i) => Math.round(signal(160 * k + i))),
  );
}

const tone = (hz: number) => (t: number) => 8000 * Math.sin((2 * Math.PI * hz * t) / 8000);

function joined(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A tone's steepest step from one sample to the next, at the amplitude of `tone`. */
const steepestStep = (hz: number): number => (8000 * 2 * Math.PI * hz) / 8000;

function largestStep(pcm: Int16Array): number {
  let largest = 0;
  for (let i = 1; i < pcm.length; i++) {
    largest = Math.max(largest, Math.abs((pcm[i] ?? 0) - (pcm[i - 1] ?? 0)));
  }
  return largest;
}

/** The frames as played with frames 2 and 3 accelerated into one. */
function playedWithAcceleration(f: Int16Array[]): Int16Array {
  const [f0, f1, f2, f3, ...rest] = f;
  if (!f0 || !f1 || !f2 || !f3) {
    throw new Error('too few frames');
  }
  return joined([f0, f1, compressTwoFrames(f2, f3), ...rest]);
}

describe('time-scale compression (accelerate)', () => {
  it.each([440, 700, 1000, 210])('keeps a %i Hz tone in phase across the cut', (hz) => {
    const played = playedWithAcceleration(frames(tone(hz), 30));
    // A phase jump anywhere in the window would split its energy between two phases: cutting exactly
    // one frame out of a 440 Hz tone scored 0.88 here.
    expect(toneShare(played.subarray(0, 4000), 8000, hz)).toBeGreaterThan(0.98);
  });

  it('takes out close to a frame: whole pitch periods of a voiced sound, a frame where that is exact', () => {
    const [a, b] = frames(tone(440), 2);
    // 440 Hz: a period is 18.18 samples; 8 of them (145.5) are the longest cut that stays in phase.
    const cut = 320 - compressTwoFrames(a ?? new Int16Array(), b ?? new Int16Array()).length;
    expect(Math.abs(cut - (8 * 8000) / 440)).toBeLessThan(1);
    // 100 Hz: two periods are exactly one frame.
    const [c, d] = frames(tone(100), 2);
    expect(compressTwoFrames(c ?? new Int16Array(), d ?? new Int16Array()).length).toBe(160);
  });

  it("keeps the first frame's start and the second frame's end as they were", () => {
    const f = frames((t) => 6000 * Math.sin(t / 7) + 2000 * Math.sin(t / 3.1), 2);
    const [a, b] = [f[0] ?? new Int16Array(), f[1] ?? new Int16Array()];
    const out = compressTwoFrames(a, b);
    expect(Array.from(out.subarray(0, 40))).toEqual(Array.from(a.subarray(0, 40)));
    expect(Array.from(out.subarray(out.length - 40))).toEqual(Array.from(b.subarray(120)));
    expect(out.length).toBeGreaterThanOrEqual(160);
    expect(out.length).toBeLessThanOrEqual(240);
  });

  it('takes a whole frame out of silence', () => {
    expect(compressTwoFrames(new Int16Array(160), new Int16Array(160))).toEqual(new Int16Array(160));
  });
});

describe('time-scale expansion (waiting for a late frame)', () => {
  it.each([440, 700, 1000, 210])(
    'continues a %i Hz tone in phase, and the frame waited for joins it without a seam',
    (hz) => {
      const f = frames(tone(hz), 30);
      const before = joined(f.slice(0, 5));
      const played = joined([before, continuationOf(before, 160), ...f.slice(5)]);
      // Repeating the last frame instead scored 0.78 at 440 and 210 Hz.
      expect(toneShare(played.subarray(0, 4000), 8000, hz)).toBeGreaterThan(0.98);
      // Whole samples can only come within half a sample of a whole number of periods: a small step.
      expect(largestStep(played)).toBeLessThan(1.5 * steepestStep(hz));
    },
  );

  it('lengthens by whole pitch periods, between one and one and a half frames', () => {
    const length = continuationOf(joined(frames(tone(440), 5)), 160).length;
    expect(length).toBeGreaterThanOrEqual(160);
    expect(length).toBeLessThanOrEqual(240);
    const periods = length / (8000 / 440);
    expect(Math.abs(periods - Math.round(periods)) * (8000 / 440)).toBeLessThan(1);
  });

  it('waits with a frame of silence when too little has been played to continue', () => {
    expect(continuationOf(new Int16Array(100).fill(3000), 160)).toEqual(new Int16Array(160));
  });

  it("bridges 60 ms at full level, then fades to silence, and the far end's audio comes back without a step", () => {
    const expansion = new Expansion();
    const f = frames(tone(440), 20);
    f.slice(0, 5).forEach((frame) => expansion.played(frame));
    const bridge: Int16Array[] = [];
    while (bridge.reduce((n, p) => n + p.length, 0) < 1600) {
      bridge.push(expansion.next(160));
    }
    const waited = joined(bridge);
    const peak = (from: number, to: number): number =>
      Math.max(...Array.from(waited.subarray(from, to), Math.abs));
    expect(peak(400, 480)).toBeGreaterThan(7900); // 50-60 ms: full level
    expect(peak(720, 800)).toBeLessThan(4100); // 90-100 ms: half level and falling
    expect(peak(720, 800)).toBeGreaterThan(2000);
    expect(peak(960, 1600)).toBe(0); // 120 ms on: silent
    const back = f[5] ?? new Int16Array();
    expansion.played(back);
    expect(largestStep(joined([waited, back]))).toBeLessThan(1.1 * steepestStep(440));
  });
});
