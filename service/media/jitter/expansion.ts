import { fadingLevel, RecentAudio } from './recent-audio.js';
import { continuationOf, longestContinuation, repeatHistoryLength } from './time-scale.js';

/** A wait of up to this long is bridged at full level; a pitch period repeated for longer buzzes. */
const FULL_LEVEL_SAMPLES = 480; // 60 ms at 8 kHz
/** Beyond it the bridge fades out over as long again. */
const FADE_OUT_SAMPLES = 480;
/** After a faded bridge, the far end's audio comes back to full level over this long, not in a step. */
const FADE_IN_SAMPLES = 40; // 5 ms

/**
 * The audio the jitter buffer's expansions play: the received audio as played so far, lengthened by
 * whole pitch periods (time-scale.ts) at every expansion, fading to silence when the wait goes on.
 */
export class Expansion {
  private readonly recent = new RecentAudio(0);
  private expandedFor = 0;

  /** Audio about to be played from the far end's frames (decoded, concealed or silence). */
  played(pcm: Int16Array): void {
    const level = this.level(this.expandedFor);
    for (let i = 0; level < 1 && i < Math.min(FADE_IN_SAMPLES, pcm.length); i++) {
      const gain = level + ((1 - level) * i) / FADE_IN_SAMPLES;
      pcm[i] = Math.round((pcm[i] ?? 0) * gain);
    }
    this.recent.reserve(room(pcm.length));
    this.recent.push(pcm);
    this.expandedFor = 0;
  }

  /** Between one and one and a half frames of `frameSamples` to play while the buffer waits. */
  next(frameSamples: number): Int16Array {
    this.recent.reserve(room(frameSamples));
    const continuation = continuationOf(this.recent.samples, frameSamples);
    // The next continuation repeats this one at full level: fading is applied to what is played only.
    this.recent.push(continuation);
    const out = continuation.map((v, i) => Math.round(v * this.level(this.expandedFor + i)));
    this.expandedFor += out.length;
    return out;
  }

  /** The far end's audio starts afresh (a hold ended, or the frame length changed). */
  clear(): void {
    this.recent.clear();
    this.expandedFor = 0;
  }

  /** The bridge's level after `samples` of waiting. */
  private level(samples: number): number {
    return fadingLevel(samples, FULL_LEVEL_SAMPLES, FADE_OUT_SAMPLES);
  }
}

/** Room for the longest continuation of a frame and the stretch it is matched against. */
function room(frameSamples: number): number {
  return repeatHistoryLength(longestContinuation(frameSamples));
}
