/**
 * The 8-bit CRCs of AUTOSAR's CRC library (SWS_Crc), table-driven, MSB first, no reflection.
 * Check values (CRC of ASCII "123456789"): CRC8 SAE J1850 0x4B, CRC8H2F 0xDF.
 */
export interface Crc8Params {
  poly: number;
  init: number;
  xorOut: number;
}

export const CRC8_SAE_J1850: Crc8Params = { poly: 0x1d, init: 0xff, xorOut: 0xff };
export const CRC8H2F: Crc8Params = { poly: 0x2f, init: 0xff, xorOut: 0xff };

const tables = new Map<number, Uint8Array>();

function table(poly: number): Uint8Array {
  let t = tables.get(poly);
  if (!t) {
    t = new Uint8Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let b = 0; b < 8; b++) {
        c = c & 0x80 ? ((c << 1) ^ poly) & 0xff : (c << 1) & 0xff;
      }
      t[i] = c;
    }
    tables.set(poly, t);
  }
  return t;
}

/** Runs the CRC register over `bytes` starting from `register` (no init, no final XOR applied). */
export function crc8Update(poly: number, register: number, bytes: Iterable<number>): number {
  const t = table(poly);
  let r = register & 0xff;
  for (const b of bytes) {
    r = t[(r ^ b) & 0xff] ?? 0;
  }
  return r;
}

export function crc8(p: Crc8Params, bytes: Iterable<number>): number {
  return crc8Update(p.poly, p.init, bytes) ^ p.xorOut;
}
