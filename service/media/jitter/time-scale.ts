/**
 * Time-scale compression for the jitter buffer's accelerate (WSOLA-style): two frames of speech made
 * shorter by cutting out of them the stretch, close to a frame long, whose two ends match best, with a
 * short cross-fade across the cut. Voiced speech is nearly periodic, so the best cut is a whole number
 * of pitch periods: the waveform runs on in phase, without a click. (Cutting exactly one frame, as this
 * did before, jumps the phase by whatever part of a period a frame is not: for a 440 Hz tone, 0.8 of
 * one.) The result is between one and one and a half frames long; the session's playout queue carries
 * what is over into the next frame.
 */
const FADE = 40; // 5 ms at 8 kHz, each side of the cut

/** A shorter cut is taken only where it matches this much better than a longer one. */
const PREFER_LONGER = 0.02;

/** Normalised correlation of x around `at` and around `at + shift`. */
function similarity(x: Int16Array, at: number, shift: number): number {
  let dot = 0;
  let ea = 0;
  let eb = 0;
  for (let i = at - FADE; i < at + FADE; i++) {
    const a = x[i] ?? 0;
    const b = x[i + shift] ?? 0;
    dot += a * b;
    ea += a * a;
    eb += b * b;
  }
  return ea === 0 || eb === 0 ? 0 : dot / Math.sqrt(ea * eb);
}

/**
 * `a` then `b` (frames of n samples) with a cut of between n/2 and n samples taken out after the
 * middle of `a`: the start of `a` and the end of `b` are kept as they were, so the result joins the
 * frames before and after it without a seam.
 */
export function compressTwoFrames(a: Int16Array, b: Int16Array): Int16Array {
  const n = a.length;
  const x = new Int16Array(n + b.length);
  x.set(a);
  x.set(b, n);
  const at = Math.max(FADE, Math.floor(n / 2));
  const longest = Math.min(n, x.length - at - FADE);
  let cut = longest;
  let bestScore = -Infinity;
  for (let length = longest; length >= Math.ceil(n / 2); length--) {
    const score = similarity(x, at, length);
    if (score > bestScore + (bestScore === -Infinity ? 0 : PREFER_LONGER)) {
      bestScore = score;
      cut = length;
    }
  }
  const out = new Int16Array(x.length - cut);
  for (let i = 0; i < out.length; i++) {
    if (i < at - FADE) {
      out[i] = x[i] ?? 0;
    } else if (i >= at + FADE) {
      out[i] = x[i + cut] ?? 0;
    } else {
      const w = (i - (at - FADE)) / (2 * FADE);
      out[i] = Math.round((x[i] ?? 0) * (1 - w) + (x[i + cut] ?? 0) * w);
    }
  }
  return out;
}
