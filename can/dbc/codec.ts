import type { MessageDef, SignalDef } from './model.js';

/**
 * Signal extraction and insertion, bit by bit, following the Vector DBC convention: Intel signals
 * start at their LSB and grow upwards; Motorola signals start at their MSB (bit 7 of a byte is its
 * MSB) and continue to bit 0, then to bit 7 of the next byte.
 */
function bitAt(data: Uint8Array, bit: number): number {
  return ((data[bit >> 3] ?? 0) >> (bit & 7)) & 1;
}

function setBit(data: Uint8Array, bit: number, v: number): void {
  const i = bit >> 3;
  data[i] = v ? (data[i] ?? 0) | (1 << (bit & 7)) : (data[i] ?? 0) & ~(1 << (bit & 7));
}

/** Bit positions of a signal from its most significant to its least significant bit. */
export function bitPositions(sig: Pick<SignalDef, 'startBit' | 'length' | 'byteOrder'>): number[] {
  const out: number[] = [];
  if (sig.byteOrder === 'intel') {
    for (let i = sig.length - 1; i >= 0; i--) {
      out.push(sig.startBit + i);
    }
    return out;
  }
  let bit = sig.startBit;
  for (let i = 0; i < sig.length; i++) {
    out.push(bit);
    bit = bit % 8 === 0 ? bit + 15 : bit - 1;
  }
  return out;
}

const positionsCache = new WeakMap<SignalDef, number[]>();

function positions(sig: SignalDef): number[] {
  let p = positionsCache.get(sig);
  if (!p) {
    p = bitPositions(sig);
    positionsCache.set(sig, p);
  }
  return p;
}

/** The raw (unscaled) value; signed signals in two's complement. Signals over 52 bits come as bigint. */
export function extractRaw(data: Uint8Array, sig: SignalDef): number | bigint {
  const pos = positions(sig);
  if (sig.length <= 52) {
    let v = 0;
    for (const b of pos) {
      v = v * 2 + bitAt(data, b);
    }
    if (sig.signed && v >= 2 ** (sig.length - 1)) {
      v -= 2 ** sig.length;
    }
    return v;
  }
  let v = 0n;
  for (const b of pos) {
    v = (v << 1n) | BigInt(bitAt(data, b));
  }
  if (sig.signed && v >= 1n << BigInt(sig.length - 1)) {
    v -= 1n << BigInt(sig.length);
  }
  return v;
}

export function physical(sig: SignalDef, raw: number | bigint): number {
  if (sig.float) {
    const buf = new DataView(new ArrayBuffer(8));
    const u = BigInt.asUintN(sig.float, BigInt(raw));
    if (sig.float === 32) {
      buf.setUint32(0, Number(u));
      return buf.getFloat32(0) * sig.factor + sig.offset;
    }
    buf.setBigUint64(0, u);
    return buf.getFloat64(0) * sig.factor + sig.offset;
  }
  return Number(raw) * sig.factor + sig.offset;
}

export interface DecodedSignal {
  raw: number | bigint;
  value: number;
  /** The value table's text for the raw value, if any. */
  label?: string;
  /** Outside the DBC's [min|max] (when the DBC gives a range). */
  outOfRange: boolean;
}

/** Decodes every signal present in the frame (multiplexed ones only under their multiplexer value). */
export function decodeMessage(msg: MessageDef, data: Uint8Array): Map<string, DecodedSignal> {
  const out = new Map<string, DecodedSignal>();
  let muxValue: number | undefined;
  for (const sig of msg.signals.values()) {
    if (sig.isMultiplexer) {
      muxValue = Number(extractRaw(data, sig));
    }
  }
  for (const sig of msg.signals.values()) {
    if (sig.multiplexValue !== undefined && sig.multiplexValue !== muxValue) {
      continue;
    }
    const raw = extractRaw(data, sig);
    const value = physical(sig, raw);
    const label = sig.values.get(Number(raw));
    const ranged = sig.min !== 0 || sig.max !== 0;
    out.set(sig.name, {
      raw,
      value,
      outOfRange: ranged && (value < sig.min - 1e-9 || value > sig.max + 1e-9),
      ...(label !== undefined ? { label } : {}),
    });
  }
  return out;
}

/** Writes a raw value into the frame (tests and simulators build frames with it). */
export function insertRaw(data: Uint8Array, sig: SignalDef, raw: number | bigint): void {
  let v = BigInt.asUintN(sig.length, BigInt(raw));
  const pos = positions(sig);
  for (let i = pos.length - 1; i >= 0; i--) {
    setBit(data, pos[i] ?? 0, Number(v & 1n));
    v >>= 1n;
  }
}

/** Builds a frame's data from physical values (unnamed signals stay 0). */
export function encodeMessage(msg: MessageDef, values: Record<string, number>): Uint8Array {
  const data = new Uint8Array(msg.length);
  for (const [name, value] of Object.entries(values)) {
    const sig = msg.signals.get(name);
    if (!sig) {
      throw new Error(`${msg.name} has no signal ${name}`);
    }
    insertRaw(data, sig, Math.round((value - sig.offset) / sig.factor));
  }
  return data;
}
