/**
 * ITU-T G.711 companding, µ-law (PCMU) and A-law (PCMA), implemented from the segment tables of the
 * recommendation. Decoding goes through 256-entry tables built once; encoding computes the segment.
 */
const MULAW_BIAS = 0x84;
const MULAW_CLIP = 32635;

export function linearToMulaw(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) {
    s = -s;
  }
  s = Math.min(s, MULAW_CLIP) + MULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) {
    exponent--;
  }
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

function mulawToLinearSlow(code: number): number {
  const u = ~code & 0xff;
  const sign = u & 0x80;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + MULAW_BIAS) << exponent) - MULAW_BIAS;
  return sign ? -magnitude : magnitude;
}

const ALAW_SEGMENT_ENDS = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];

export function linearToAlaw(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample))) >> 3; // A-law works on 13 bits
  const sign = s >= 0 ? 0x80 : 0;
  if (s < 0) {
    s = -s - 1;
  }
  let segment = ALAW_SEGMENT_ENDS.findIndex((end) => s <= end);
  if (segment < 0) {
    segment = 7;
    s = 0xfff;
  }
  const mantissa = (segment < 2 ? s >> 1 : s >> segment) & 0x0f;
  return (sign | (segment << 4) | mantissa) ^ 0x55;
}

function alawToLinearSlow(code: number): number {
  const a = code ^ 0x55;
  const sign = a & 0x80;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  let magnitude = (mantissa << 4) + 8;
  if (exponent > 0) {
    magnitude = (magnitude + 0x100) << (exponent - 1);
  }
  return sign ? magnitude : -magnitude;
}

const MULAW_TABLE = Int16Array.from({ length: 256 }, (_, i) => mulawToLinearSlow(i));
const ALAW_TABLE = Int16Array.from({ length: 256 }, (_, i) => alawToLinearSlow(i));

export type G711Law = 'PCMU' | 'PCMA';

export function encodeG711(law: G711Law, pcm: Int16Array): Uint8Array {
  return encodeG711Into(law, pcm, new Uint8Array(pcm.length));
}

/** Encodes into `out` (at least as long as `pcm`); returns the part of it written. */
export function encodeG711Into(law: G711Law, pcm: Int16Array, out: Uint8Array): Uint8Array {
  const enc = law === 'PCMU' ? linearToMulaw : linearToAlaw;
  for (let i = 0; i < pcm.length; i++) {
    out[i] = enc(pcm[i] ?? 0);
  }
  return out.length === pcm.length ? out : out.subarray(0, pcm.length);
}

export function decodeG711(law: G711Law, payload: Uint8Array): Int16Array {
  const table = law === 'PCMU' ? MULAW_TABLE : ALAW_TABLE;
  const out = new Int16Array(payload.length);
  for (let i = 0; i < payload.length; i++) {
    out[i] = table[payload[i] ?? 0] ?? 0;
  }
  return out;
}
