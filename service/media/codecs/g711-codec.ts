import { fadingLevel, RecentAudio } from '../jitter/recent-audio.js';
import { bestRepeat, repeatHistoryLength } from '../jitter/time-scale.js';
import type { AudioCodecSession } from './codec.js';
import { decodeG711, encodeG711Into } from './g711.js';

/** Pitch periods from 15 ms down to 5 ms (67-200 Hz), as G.711 Appendix I searches. */
const LONGEST_PERIOD = 120;
const SHORTEST_PERIOD = 40;
/** Enough heard audio to match the longest period against the stretch before it. */
const HEARD_SAMPLES = repeatHistoryLength(LONGEST_PERIOD);
/** Lost audio is played at full level for 10 ms, then falls by a fifth each 10 ms: silent at 60 ms. */
const FULL_LEVEL_SAMPLES = 80;
const FADE_OUT_SAMPLES = 400;
/** The first frame after a loss is overlapped with the concealment's continuation over 5 ms. */
const OVERLAP_SAMPLES = 40;

/**
 * G.711 with a concealment in the spirit of G.711 Appendix I: a lost frame is filled by repeating the
 * last pitch period heard (or a whole number of them, which repeats a short period more exactly),
 * continuing through a burst of losses, fading out from 10 ms to silence at 60 ms; the first frame
 * heard after a loss starts overlapped with where the concealment would have gone, not with a click.
 * (This repeated the whole last frame before: a voiced sound's phase jumped at every lost frame.)
 */
export class G711Codec implements AudioCodecSession {
  readonly clockRate = 8000;
  private readonly heard = new RecentAudio(HEARD_SAMPLES);
  /** The pitch period repeated through the current loss, and how much of the loss has been played. */
  private period: number | undefined;
  private concealedSamples = 0;
  /** What encode() returns, reused: a frame is sent before the next is encoded. */
  private encoded = new Uint8Array(0);

  constructor(readonly name: 'PCMU' | 'PCMA') {}

  encode(pcm: Int16Array): Uint8Array {
    if (this.encoded.length !== pcm.length) {
      this.encoded = new Uint8Array(pcm.length);
    }
    return encodeG711Into(this.name, pcm, this.encoded);
  }

  decode(payload: Uint8Array): Int16Array {
    const pcm = decodeG711(this.name, payload);
    if (this.concealedSamples > 0) {
      const overlap = Math.min(OVERLAP_SAMPLES, pcm.length);
      for (let i = 0; i < overlap; i++) {
        const w = i / overlap;
        pcm[i] = Math.round((pcm[i] ?? 0) * w + this.concealment(this.concealedSamples + i) * (1 - w));
      }
      this.concealedSamples = 0;
      this.period = undefined;
    }
    this.heard.push(pcm);
    return pcm;
  }

  conceal(samples: number): Int16Array {
    if (this.concealedSamples === 0) {
      this.period = bestRepeat(this.heard.samples, LONGEST_PERIOD, SHORTEST_PERIOD);
    }
    const out = new Int16Array(samples);
    for (let i = 0; i < samples; i++) {
      out[i] = this.concealment(this.concealedSamples + i);
    }
    this.concealedSamples += samples;
    return out;
  }

  close(): void {
    this.heard.clear();
    this.concealedSamples = 0;
    this.period = undefined;
  }

  /** Sample `k` of the current loss: the repeated period at its level (silence if none was found). */
  private concealment(k: number): number {
    if (this.period === undefined) {
      return 0;
    }
    const heard = this.heard.samples;
    const repeated = heard[heard.length - this.period + (k % this.period)] ?? 0;
    return Math.round(repeated * fadingLevel(k, FULL_LEVEL_SAMPLES, FADE_OUT_SAMPLES));
  }
}
