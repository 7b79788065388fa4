import { CRC8H2F, crc8, crc8Update } from './crc.js';

/**
 * AUTOSAR E2E protection for classic CAN frames, profiles 1 and 2 (PRS E2E protocol), with the
 * default layout: CRC in byte 0, 4-bit alive counter in the low nibble of byte 1.
 *
 * Profile 1 computes CRC-8 SAE J1850 over the data ID and the data (the ID never travels); profile 2
 * computes CRC8H2F over the data and then one byte of a 16-entry data ID list chosen by the counter.
 */
export type E2eConfig =
  | {
      profile: 'P01';
      /** 16-bit data ID. */
      dataId: number;
      /** Which data ID bytes enter the CRC: both (lo, hi), low only, alternating by counter parity. */
      dataIdMode: 'both' | 'low' | 'alt' | 'nibble';
    }
  | { profile: 'P02'; dataIdList: number[] }
  | { profile: 'none' };

export interface E2eFields {
  crc: number;
  counter: number;
}

export const CRC_BYTE = 0;
const COUNTER_BYTE = 1;

export function readCounter(data: Uint8Array): number {
  return (data[COUNTER_BYTE] ?? 0) & 0x0f;
}

/** Counter values per profile: P01 counts 0..14 (15 is invalid), P02 0..15. */
export function counterModulus(cfg: E2eConfig): number {
  return cfg.profile === 'P01' ? 15 : 16;
}

/** The CRC the sender must have put in byte 0 of `data`. */
export function expectedCrc(cfg: E2eConfig, data: Uint8Array): number {
  const payload = data.subarray(1);
  const counter = readCounter(data);
  switch (cfg.profile) {
    case 'P01': {
      const lo = cfg.dataId & 0xff;
      const hi = (cfg.dataId >> 8) & 0xff;
      const idBytes =
        cfg.dataIdMode === 'both'
          ? [lo, hi]
          : cfg.dataIdMode === 'low'
            ? [lo]
            : cfg.dataIdMode === 'alt'
              ? [counter % 2 === 0 ? lo : hi]
              : [lo, 0];
      // Profile 1 runs CRC8 (J1850) with start value 0x00 and XORs the result with 0xFF:
      // in register terms an initial value of 0x00 and no final XOR.
      return crc8Update(0x1d, 0x00, [...idBytes, ...payload]);
    }
    case 'P02':
      return crc8(CRC8H2F, [...payload, cfg.dataIdList[counter] ?? 0]);
    case 'none':
      return data[CRC_BYTE] ?? 0;
  }
}

/** Protects a frame as a sender does: writes counter and CRC. Tests and simulators use it. */
export function protect(cfg: E2eConfig, data: Uint8Array, counter: number): Uint8Array {
  const out = Uint8Array.from(data);
  if (cfg.profile === 'none') {
    return out;
  }
  out[COUNTER_BYTE] = ((out[COUNTER_BYTE] ?? 0) & 0xf0) | (counter % counterModulus(cfg));
  if (cfg.profile === 'P01' && cfg.dataIdMode === 'nibble') {
    out[COUNTER_BYTE] = ((out[COUNTER_BYTE] ?? 0) & 0x0f) | (((cfg.dataId >> 8) & 0x0f) << 4);
  }
  out[CRC_BYTE] = expectedCrc(cfg, out);
  return out;
}
