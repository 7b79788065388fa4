import { continuationOf } from './time-scale.js';

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
  private recent = new Int16Array(0);
  private kept = 0;
  private expandedFor = 0;

  /** Audio about to be played from the far end's frames (decoded, concealed or silence). */
  played(pcm: Int16Array): void {
    const level = this.level(this.expandedFor);
    for (let i = 0; level < 1 && i < Math.min(FADE_IN_SAMPLES, pcm.length); i++) {
      const gain = level + ((1 - level) * i) / FADE_IN_SAMPLES;
      pcm[i] = Math.round((pcm[i] ?? 0) * gain);
    }
    this.fitTo(pcm.length);
    this.remember(pcm);
    this.expandedFor = 0;
  }

  /** Between one and one and a half frames of `frameSamples` to play while the buffer waits. */
  next(frameSamples: number): Int16Array {
    this.fitTo(frameSamples);
    const continuation = continuationOf(this.recent.subarray(this.recent.length - this.kept), frameSamples);
    // The next continuation repeats this one at full level: fading is applied to what is played only.
    this.remember(continuation);
    const out = continuation.map((v, i) => Math.round(v * this.level(this.expandedFor + i)));
    this.expandedFor += out.length;
    return out;
  }

  /** The far end's audio starts afresh (a hold ended, or the frame length changed). */
  clear(): void {
    this.kept = 0;
    this.expandedFor = 0;
  }

  /** The bridge's level after `samples` of waiting. */
  private level(samples: number): number {
    return Math.min(1, Math.max(0, 1 - (samples - FULL_LEVEL_SAMPLES) / FADE_OUT_SAMPLES));
  }

  /** Room for the longest continuation of a frame and the stretch it is matched against. */
  private fitTo(frameSamples: number): void {
    const room = 2 * frameSamples + 160;
    if (this.recent.length < room) {
      const grown = new Int16Array(room);
      grown.set(this.recent.subarray(this.recent.length - this.kept), room - this.kept);
      this.recent = grown;
    }
  }

  private remember(pcm: Int16Array): void {
    const size = this.recent.length;
    if (pcm.length >= size) {
      this.recent.set(pcm.subarray(pcm.length - size));
      this.kept = size;
      return;
    }
    this.recent.copyWithin(0, pcm.length);
    this.recent.set(pcm, size - pcm.length);
    this.kept = Math.min(size, this.kept + pcm.length);
  }
}
