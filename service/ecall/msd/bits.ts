/**
 * Bit-level writer and reader for ASN.1 unaligned PER (ITU-T X.691): fields are packed MSB first
 * with no padding between them.
 */
export class PerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PerError';
  }
}

export class BitWriter {
  private bytes: number[] = [];
  private bitLength = 0;

  get length(): number {
    return this.bitLength;
  }

  bit(b: boolean | 0 | 1): void {
    const i = this.bitLength >> 3;
    if (i === this.bytes.length) {
      this.bytes.push(0);
    }
    if (b) {
      this.bytes[i] = (this.bytes[i] ?? 0) | (0x80 >> (this.bitLength & 7));
    }
    this.bitLength++;
  }

  /** `count` bits of a non-negative integer, MSB first (up to 32 bits). */
  uint(value: number, count: number): void {
    for (let i = count - 1; i >= 0; i--) {
      this.bit(Math.floor(value / 2 ** i) % 2 === 1);
    }
  }

  bytesOf(data: Uint8Array): void {
    for (const b of data) {
      this.uint(b, 8);
    }
  }

  /** The encoding padded with zero bits to whole octets (X.691 §11.1: a complete encoding). */
  toBytes(): Uint8Array {
    return Uint8Array.from(this.bytes.length === 0 ? [0] : this.bytes);
  }
}

export class BitReader {
  private pos = 0;

  constructor(private readonly data: Uint8Array) {}

  get position(): number {
    return this.pos;
  }

  bit(): boolean {
    if (this.pos >= this.data.length * 8) {
      throw new PerError(`encoding ends early (at bit ${this.pos})`);
    }
    const v = ((this.data[this.pos >> 3] ?? 0) >> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return v === 1;
  }

  uint(count: number): number {
    let v = 0;
    for (let i = 0; i < count; i++) {
      v = v * 2 + (this.bit() ? 1 : 0);
    }
    return v;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = this.uint(8);
    }
    return out;
  }
}

/** Bits needed for a constrained whole number with `range` values (X.691 §11.5.7.1). */
export function bitsFor(range: number): number {
  return range <= 1 ? 0 : Math.ceil(Math.log2(range));
}

export function writeConstrained(w: BitWriter, value: number, lb: number, ub: number): void {
  if (!Number.isInteger(value) || value < lb || value > ub) {
    throw new PerError(`${value} is outside ${lb}..${ub}`);
  }
  w.uint(value - lb, bitsFor(ub - lb + 1));
}

export function readConstrained(r: BitReader, lb: number, ub: number): number {
  return r.uint(bitsFor(ub - lb + 1)) + lb;
}

/** Unconstrained length determinant, unaligned (X.691 §11.9.3.6-8): lengths below 16384. */
export function writeLength(w: BitWriter, n: number): void {
  if (n < 128) {
    w.uint(n, 8);
  } else if (n < 16384) {
    w.uint(0x8000 | n, 16);
  } else {
    throw new PerError(`length ${n} needs fragmentation, which an MSD never needs`);
  }
}

export function readLength(r: BitReader): number {
  if (!r.bit()) {
    return r.uint(7);
  }
  if (!r.bit()) {
    return r.uint(14);
  }
  throw new PerError('fragmented length: not an MSD');
}
