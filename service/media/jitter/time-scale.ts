/**
 * Time-scale compression for the jitter buffer's accelerate: two frames of speech made into one
 * frame's time by splicing the first into the second where the two waveforms are most alike (a
 * WSOLA-style search over the splice point, with a short cross-fade), so the delay drops by a frame
 * without a click or a skipped syllable's edge.
 */
const FADE = 40; // 5 ms at 8 kHz

function similarity(a: Int16Array, b: Int16Array, at: number): number {
  let dot = 0;
  let ea = 0;
  let eb = 0;
  for (let i = at - FADE; i < at + FADE; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    ea += x * x;
    eb += y * y;
  }
  return ea === 0 || eb === 0 ? 0 : dot / Math.sqrt(ea * eb);
}

/** Returns one frame (a.length samples): the start of `a` running into the end of `b`. */
export function compressTwoFrames(a: Int16Array, b: Int16Array): Int16Array {
  const n = a.length;
  let best = Math.floor(n / 2);
  let bestScore = -Infinity;
  for (let p = FADE; p <= n - FADE; p += 2) {
    const score = similarity(a, b, p);
    if (score > bestScore) {
      bestScore = score;
      best = p;
    }
  }
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    if (i < best - FADE) {
      out[i] = a[i] ?? 0;
    } else if (i >= best + FADE) {
      out[i] = b[i] ?? 0;
    } else {
      const w = (i - (best - FADE)) / (2 * FADE);
      out[i] = Math.round((a[i] ?? 0) * (1 - w) + (b[i] ?? 0) * w);
    }
  }
  return out;
}
