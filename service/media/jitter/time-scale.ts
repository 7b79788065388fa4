/**
 * Time-scale modification for the jitter buffer (WSOLA-style), both ways.
 *
 * Accelerate: two frames of speech made shorter by cutting out of them the stretch, close to a frame
 * long, whose two ends match best, with a short cross-fade across the cut. Voiced speech is nearly
 * periodic, so the best cut is a whole number of pitch periods: the waveform runs on in phase, without
 * a click. (Cutting exactly one frame, as this did before, jumps the phase by whatever part of a period
 * a frame is not: for a 440 Hz tone, 0.8 of one.) The result is between one and one and a half frames
 * long; the session's playout queue carries what is over into the next frame.
 *
 * Expand: while the buffer waits for a frame, the audio played so far is lengthened by repeating its
 * last stretch of about a frame whose start matches its end best, again whole pitch periods. The
 * repeat ends where the audio played so far ended, so the frame waited for joins it as it would have
 * joined that audio. The decoder is not told: the frame is late, not lost, and a codec's concealment
 * (Opus's, above all) would leave the decoder expecting the frame after it.
 */
const FADE = 40; // 5 ms at 8 kHz, each side of the cut

/** A length other than the preferred one is taken only where it matches this much better. */
const PREFERENCE = 0.02;

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
 * The length from `preferred` to `other` (either way round) that scores best, the one nearer
 * `preferred` where scores are close. The time scaling prefers lengths near a frame, which change the
 * delay as the jitter buffer counted on.
 */
function bestLength(preferred: number, other: number, score: (length: number) => number): number {
  const step = other >= preferred ? 1 : -1;
  let best = preferred;
  let bestScore = score(preferred);
  for (let length = preferred + step; length !== other + step; length += step) {
    const s = score(length);
    if (s > bestScore + PREFERENCE) {
      bestScore = s;
      best = length;
    }
  }
  return best;
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
  const cut = bestLength(Math.min(n, x.length - at - FADE), Math.ceil(n / 2), (length) =>
    similarity(x, at, length),
  );
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

/** How much played audio bestRepeat needs to weigh repeats of up to `longest` samples. */
export function repeatHistoryLength(longest: number): number {
  return longest + 2 * FADE;
}

/**
 * How much of the end of `played` to repeat so that the repeat continues it best: between `preferred`
 * and `other` samples (either way round), the length whose start follows on from the audio before it
 * as the audio's end does, `preferred` where the match is about as good. Undefined where too little
 * has been played to compare.
 */
export function bestRepeat(played: Int16Array, preferred: number, other: number): number | undefined {
  const end = played.length;
  if (repeatHistoryLength(Math.max(preferred, other)) > end) {
    return undefined;
  }
  return bestLength(preferred, other, (shift) => similarity(played, end - FADE - shift, shift));
}

/**
 * What to play while waiting, continuing `played` (the audio played so far, newest last): its last
 * stretch of between one and one and a half frames (n samples) that best continues its end, or a
 * frame of silence where too little has been played to find one.
 */
export function continuationOf(played: Int16Array, n: number): Int16Array {
  const length = bestRepeat(played, n, Math.min(longestContinuation(n), played.length - 2 * FADE));
  return length === undefined ? new Int16Array(n) : played.slice(played.length - length);
}

/** The longest continuation of frames of `n` samples: one and a half frames. */
export function longestContinuation(n: number): number {
  return Math.floor((3 * n) / 2);
}
