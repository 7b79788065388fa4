import type { AudioCodecSession } from './codec.js';
import { decodeG711, encodeG711 } from './g711.js';

/**
 * G.711 with a simple concealment: the last good frame repeated with falling gain, silent after 60 ms,
 * in the spirit of G.711 Appendix I (which also stretches the pitch period; not done here).
 */
export class G711Codec implements AudioCodecSession {
  readonly clockRate = 8000;
  private last: Int16Array = new Int16Array(0);
  private concealed = 0;

  constructor(readonly name: 'PCMU' | 'PCMA') {}

  encode(pcm: Int16Array): Uint8Array {
    return encodeG711(this.name, pcm);
  }

  decode(payload: Uint8Array): Int16Array {
    const pcm = decodeG711(this.name, payload);
    this.last = pcm;
    this.concealed = 0;
    return pcm;
  }

  conceal(samples: number): Int16Array {
    const out = new Int16Array(samples);
    this.concealed++;
    const gain = Math.max(0, 1 - this.concealed / 3);
    if (gain > 0 && this.last.length > 0) {
      for (let i = 0; i < samples; i++) {
        out[i] = Math.round((this.last[i % this.last.length] ?? 0) * gain);
      }
    }
    return out;
  }

  close(): void {
    this.last = new Int16Array(0);
  }
}
