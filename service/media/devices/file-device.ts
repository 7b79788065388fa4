import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readWav, WavFormatError, WavWriter } from '../wav.js';
import { discard, silence, type AudioDevice, type AudioSource, type CallAudio } from './audio-device.js';

const RATE = 8000;

/** The file to play or the directory to record to cannot be used: which of the two, and why. */
export class FileDeviceError extends Error {
  constructor(
    readonly part: 'play' | 'record',
    message: string,
  ) {
    super(message);
    this.name = 'FileDeviceError';
  }
}

/** Plays a WAV file into every call (looped) and records each call's received audio to its own WAV. */
export class FileDevice implements AudioDevice {
  readonly kind = 'file';
  private readonly play: Int16Array | undefined;

  constructor(
    playPath: string | undefined,
    private readonly recordDir: string | undefined,
  ) {
    if (playPath) {
      this.play = readPlayable(playPath);
    }
    if (recordDir) {
      try {
        mkdirSync(recordDir, { recursive: true });
      } catch (e) {
        throw new FileDeviceError(
          'record',
          `cannot make ${recordDir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
        );
      }
    }
  }

  openCall(callTag: string): CallAudio {
    return {
      source: this.play ? loopingSource(this.play) : silence,
      sink: this.recordDir ? new WavWriter(join(this.recordDir, `call-${callTag}.wav`), RATE) : discard,
    };
  }
}

function readPlayable(path: string): Int16Array {
  let wav;
  try {
    wav = readWav(path);
  } catch (e) {
    throw new FileDeviceError(
      'play',
      e instanceof WavFormatError
        ? e.message
        : `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    );
  }
  if (wav.sampleRate !== RATE) {
    throw new FileDeviceError(
      'play',
      `${path}: sample rate ${wav.sampleRate} Hz; the file device plays 8000 Hz`,
    );
  }
  if (wav.samples.length === 0) {
    throw new FileDeviceError('play', `${path}: no samples`);
  }
  return wav.samples;
}

function loopingSource(samples: Int16Array): AudioSource {
  let pos = 0;
  let out = new Int16Array(0);
  return {
    read(count) {
      if (out.length !== count) {
        out = new Int16Array(count);
      }
      for (let filled = 0; filled < count;) {
        const run = Math.min(count - filled, samples.length - pos);
        out.set(samples.subarray(pos, pos + run), filled);
        filled += run;
        pos = (pos + run) % samples.length;
      }
      return out;
    },
  };
}
