import { readFileSync } from 'node:fs';
import { packageFile } from '../../core/package-files.js';

/**
 * The adaptive jitter buffer of native/jitter/jitter.c, compiled to WebAssembly (native/build.sh), as
 * a TypeScript object. Packets go in with their arrival time; once per frame the buffer says what to
 * play. The clock is the caller's: tests and benchmarks replay traces through the same code.
 */
export interface JitterFrame {
  /** Extended sequence number. */
  seq: number;
  /** A view into the buffer's memory: valid until the buffer's next call, copied by whoever keeps it. */
  payload: Uint8Array;
}

export type Playout =
  | { kind: 'normal'; frames: [JitterFrame] }
  /** Both frames time-compressed into one frame's time: the delay drops by a frame. */
  | { kind: 'accelerate'; frames: [JitterFrame, JitterFrame] }
  /** The next frame is missing: conceal it. */
  | { kind: 'conceal' }
  /** Play the audio so far stretched by about a frame and consume nothing: the delay grows by as much. */
  | { kind: 'expand' }
  /** Nothing due: comfort noise. */
  | { kind: 'silence' };

export type PutResult = 'stored' | 'late' | 'duplicate' | 'invalid' | 'full';
const PUT_RESULTS: readonly PutResult[] = ['stored', 'late', 'duplicate', 'invalid', 'full'];
const KINDS = ['normal', 'conceal', 'expand', 'accelerate', 'silence'] as const;
export type PlayoutKind = (typeof KINDS)[number];

export interface JitterStats {
  delayMs: number;
  targetMs: number;
  jitterMs: number;
  put: number;
  played: number;
  late: number;
  duplicate: number;
  concealed: number;
  accelerated: number;
  expanded: number;
  silence: number;
  resets: number;
}
const STAT_KEYS: readonly (keyof JitterStats)[] = [
  'delayMs',
  'targetMs',
  'jitterMs',
  'put',
  'played',
  'late',
  'duplicate',
  'concealed',
  'accelerated',
  'expanded',
  'silence',
  'resets',
];

export const MAX_PAYLOAD = 1280;

interface Exports {
  memory: WebAssembly.Memory;
  jb_create(frameMs: number, clockRate: number): number;
  jb_destroy(h: number): void;
  jb_reset(h: number): void;
  jb_input(h: number): number;
  jb_put(h: number, seq: number, ts: number, arrivalMs: number, len: number): number;
  jb_get(h: number, nowMs: number): number;
  jb_output(h: number): number;
  jb_statistics(h: number): number;
}

export class JitterBufferError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JitterBufferError';
  }
}

let module: Exports | undefined;

/** One module instance serves every call: the C side holds up to 8 buffers in its static memory. */
function wasm(): Exports {
  if (!module) {
    const bytes = readFileSync(packageFile('native/jitter/jitter.wasm'));
    module = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as Exports;
  }
  return module;
}

export class JitterBuffer {
  private readonly w = wasm();
  private destroyed = false;
  /** Views of the module's memory, made again only when it grows (which detaches the old ones). */
  private bytes = new Uint8Array(0);
  private words = new DataView(new ArrayBuffer(0));

  private constructor(private readonly handle: number) {}

  static create(frameMs: number, clockRate: number): JitterBuffer {
    const h = wasm().jb_create(frameMs, clockRate);
    if (h < 0) {
      throw new JitterBufferError('no jitter buffer free (at most 8 calls at once) or bad frame size');
    }
    return new JitterBuffer(h);
  }

  /** Takes a packet: 16-bit RTP sequence number, RTP timestamp, arrival time in ms. */
  put(seq: number, timestamp: number, arrivalMs: number, payload: Uint8Array): PutResult {
    if (payload.length === 0 || payload.length > MAX_PAYLOAD) {
      return 'invalid';
    }
    this.memory().set(payload, this.w.jb_input(this.handle));
    return (
      PUT_RESULTS[this.w.jb_put(this.handle, seq & 0xffff, timestamp >>> 0, arrivalMs, payload.length)] ??
      'invalid'
    );
  }

  /** What to play for the frame that starts at `nowMs`. */
  get(nowMs: number): Playout {
    const kind = this.decide(nowMs);
    if (kind === 'normal' || kind === 'accelerate') {
      const out = this.w.jb_output(this.handle);
      const first = this.outputFrame(out, 0);
      return kind === 'normal'
        ? { kind, frames: [first] }
        : { kind, frames: [first, this.outputFrame(out, 1)] };
    }
    return { kind };
  }

  /** jb_frame (jitter.h): seq, len, seq2, len2, then the two payloads. */
  private outputFrame(out: number, which: 0 | 1): JitterFrame {
    this.memory();
    const seq = this.words.getUint32(out + 8 * which, true);
    const length = this.words.getUint32(out + 8 * which + 4, true);
    const dataAt = out + 16 + which * MAX_PAYLOAD;
    return { seq, payload: this.bytes.subarray(dataAt, dataAt + length) };
  }

  private memory(): Uint8Array {
    if (this.bytes.byteLength === 0) {
      this.bytes = new Uint8Array(this.w.memory.buffer);
      this.words = new DataView(this.w.memory.buffer);
    }
    return this.bytes;
  }

  /** The decision alone, without copying frames out: what benchmarks of the control path call. */
  decide(nowMs: number): PlayoutKind {
    const code = this.w.jb_get(this.handle, nowMs);
    const kind = KINDS[code];
    if (!kind) {
      throw new JitterBufferError('jitter buffer used after it was destroyed');
    }
    return kind;
  }

  /** The sequence numbers that the last decide() or get() released (one, or two when accelerating). */
  lastSequences(): number[] {
    const at = this.w.jb_output(this.handle);
    this.memory();
    const out: number[] = [];
    if (this.words.getUint32(at + 4, true) > 0) {
      out.push(this.words.getUint32(at, true));
    }
    if (this.words.getUint32(at + 12, true) > 0) {
      out.push(this.words.getUint32(at + 8, true));
    }
    return out;
  }

  stats(): JitterStats {
    const values = new Float64Array(
      this.w.memory.buffer,
      this.w.jb_statistics(this.handle),
      STAT_KEYS.length,
    );
    return Object.fromEntries(STAT_KEYS.map((k, i) => [k, values[i] ?? 0])) as unknown as JitterStats;
  }

  /** A new source (SSRC change): start over, keeping the counters. */
  reset(): void {
    this.w.jb_reset(this.handle);
  }

  destroy(): void {
    if (!this.destroyed) {
      this.destroyed = true;
      this.w.jb_destroy(this.handle);
    }
  }
}
