import { describe, expect, it } from 'vitest';
import { compressTwoFrames } from '../../../service/media/jitter/time-scale.js';
import { toneShare } from '../../harness/audio.js';

/** Frames of 160 samples (20 ms at 8 kHz) cut from one signal. */
function frames(signal: (t: number) => number, count: number): Int16Array[] {
  return Array.from({ length: count }, (_, k) =>
    Int16Array.from({ length: 160 }, (_, i) => Math.round(signal(160 * k + i))),
  );
}

const tone = (hz: number) => (t: number) => 8000 * Math.sin((2 * Math.PI * hz * t) / 8000);

/** The frames as played with frames 2 and 3 accelerated into one. */
function playedWithAcceleration(f: Int16Array[]): Int16Array {
  const [f0, f1, f2, f3, ...rest] = f;
  if (!f0 || !f1 || !f2 || !f3) {
    throw new Error('too few frames');
  }
  const parts = [f0, f1, compressTwoFrames(f2, f3), ...rest];
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
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
