import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';

/**
 * 16-bit PCM WAV files: what carphone plays into calls and records from them. Stereo files are read
 * as their mono downmix; carphone writes mono.
 */
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
      const channels = format.channels;
      if (!isPcm || format.bits !== 16 || (channels !== 1 && channels !== 2)) {
        throw new WavFormatError(path, 'must be 16-bit PCM, mono or stereo');
      }
      const end = Math.min(buf.length, body + size);
      const count = Math.floor((end - body) / (2 * channels));
      const samples = new Int16Array(count);
      for (let i = 0; i < count; i++) {
        let sum = 0;
        for (let c = 0; c < channels; c++) {
          sum += buf.readInt16LE(body + 2 * (i * channels + c));
        }
        samples[i] = Math.round(sum / channels);
      }
      return { sampleRate: format.rate, samples };
    }
    offset = body + size + (size & 1);
  }
  throw new WavFormatError(path, 'no data chunk');
}

function header(sampleRate: number, dataBytes: number, channels = 1): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * 2 * channels, 28);
  h.writeUInt16LE(2 * channels, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/** Writes mono audio; with `channels` 2, the same signal on both channels. */
export function writeWav(path: string, audio: PcmAudio, channels: 1 | 2 = 1): void {
  const data = new Int16Array(audio.samples.length * channels);
  audio.samples.forEach((v, i) => data.fill(v, i * channels, (i + 1) * channels));
  const fd = openSync(path, 'w');
  writeSync(fd, header(audio.sampleRate, data.byteLength, channels));
  writeSync(fd, Buffer.from(data.buffer));
  closeSync(fd);
}

/**
 * Streams samples to a WAV file; the header's sizes are fixed up on close. Samples are written a quarter
 * of a second at a time: a call's recording is one write per frame otherwise, fifty system calls a second.
 */
export class WavWriter {
  private readonly fd: number;
  private readonly pending = Buffer.alloc(4000);
  private readonly pendingSamples = new Int16Array(this.pending.buffer, this.pending.byteOffset, 2000);
  private pendingBytes = 0;
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
    const length = samples.byteLength;
    if (this.pendingBytes + length > this.pending.length) {
      this.flush();
    }
    if (length > this.pending.length) {
      writeSync(this.fd, samples);
    } else {
      // Copied as samples into a view made once: a Buffer made per frame is garbage per frame.
      this.pendingSamples.set(samples, this.pendingBytes / 2);
      this.pendingBytes += length;
    }
    this.bytes += length;
  }

  private flush(): void {
    if (this.pendingBytes > 0) {
      writeSync(this.fd, this.pending, 0, this.pendingBytes);
      this.pendingBytes = 0;
    }
  }

  close(): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    this.flush();
    writeSync(this.fd, header(this.sampleRate, this.bytes), 0, 44, 0);
    closeSync(this.fd);
  }
}
