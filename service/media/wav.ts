import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';

/** 16-bit PCM mono WAV files: what carphone plays into calls and records from them. */
export class WavFormatError extends Error {
  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.name = 'WavFormatError';
  }
}

export interface PcmAudio {
  sampleRate: number;
  samples: Int16Array;
}

export function readWav(path: string): PcmAudio {
  const buf = readFileSync(path);
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new WavFormatError(path, 'not a RIFF/WAVE file');
  }
  let offset = 12;
  let format: { channels: number; rate: number; bits: number; tag: number } | undefined;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ' && size >= 16) {
      format = {
        tag: buf.readUInt16LE(body),
        channels: buf.readUInt16LE(body + 2),
        rate: buf.readUInt32LE(body + 4),
        bits: buf.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!format) {
        throw new WavFormatError(path, 'data chunk before fmt chunk');
      }
      const isPcm = format.tag === 1 || format.tag === 0xfffe;
      if (!isPcm || format.bits !== 16 || format.channels !== 1) {
        throw new WavFormatError(path, 'must be 16-bit PCM mono');
      }
      const end = Math.min(buf.length, body + size);
      const count = Math.floor((end - body) / 2);
      const samples = new Int16Array(count);
      for (let i = 0; i < count; i++) {
        samples[i] = buf.readInt16LE(body + 2 * i);
      }
      return { sampleRate: format.rate, samples };
    }
    offset = body + size + (size & 1);
  }
  throw new WavFormatError(path, 'no data chunk');
}

function header(sampleRate: number, dataBytes: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

export function writeWav(path: string, audio: PcmAudio): void {
  const w = new WavWriter(path, audio.sampleRate);
  w.write(audio.samples);
  w.close();
}

/** Streams samples to a WAV file; the header's sizes are fixed up on close. */
export class WavWriter {
  private readonly fd: number;
  private bytes = 0;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly sampleRate: number,
  ) {
    this.fd = openSync(path, 'w');
    writeSync(this.fd, header(sampleRate, 0));
  }

  write(samples: Int16Array): void {
    if (this.closed) {
      return;
    }
    const b = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
    writeSync(this.fd, b);
    this.bytes += b.length;
  }

  close(): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    writeSync(this.fd, header(this.sampleRate, this.bytes), 0, 44, 0);
    closeSync(this.fd);
  }
}
