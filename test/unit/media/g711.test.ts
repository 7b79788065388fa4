import { describe, expect, it } from 'vitest';
import { decodeG711, encodeG711, linearToAlaw, linearToMulaw } from '../../../service/media/codecs/g711.js';

describe('G.711', () => {
  it('encodes silence as the codes the recommendation gives: 0xFF for µ-law, 0xD5 for A-law', () => {
    expect(linearToMulaw(0)).toBe(0xff);
    expect(linearToAlaw(0)).toBe(0xd5);
  });

  it('encodes full scale to the extreme codes', () => {
    expect(linearToMulaw(32767)).toBe(0x80);
    expect(linearToMulaw(-32768)).toBe(0x00);
    expect(linearToAlaw(32767)).toBe(0xaa);
    expect(linearToAlaw(-32768)).toBe(0x2a);
  });

  for (const law of ['PCMU', 'PCMA'] as const) {
    it(`${law}: every code word survives decode → encode unchanged`, () => {
      const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
      const back = encodeG711(law, decodeG711(law, codes));
      // µ-law has two codes for zero (0x7F and 0xFF); both decode to 0, which encodes as 0xFF.
      const expected = Array.from(codes, (c) => (law === 'PCMU' && c === 0x7f ? 0xff : c));
      expect(Array.from(back)).toEqual(expected);
    });

    it(`${law}: quantisation error stays within the segment step (SNR of a sine > 35 dB)`, () => {
      const pcm = Int16Array.from({ length: 8000 }, (_, i) =>
        Math.round(10000 * Math.sin((2 * Math.PI * 1000 * i) / 8000)),
      );
      const out = decodeG711(law, encodeG711(law, pcm));
      let sig = 0;
      let err = 0;
      pcm.forEach((x, i) => {
        sig += x * x;
        err += (x - (out[i] ?? 0)) ** 2;
      });
      expect(10 * Math.log10(sig / err)).toBeGreaterThan(35);
    });
  }
});
