import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readWav, WavFormatError, WavWriter } from '../wav.js';
import { discard, silence, type AudioDevice, type AudioSource, type CallAudio } from './audio-device.js';

const RATE = 8000;

/** Plays a WAV file into every call (looped) and records each call's received audio to its own WAV. */
export class FileDevice implements AudioDevice {
  readonly kind = 'file';
  private readonly play: Int16Array | undefined;

  constructor(
    playPath: string | undefined,
    private readonly recordDir: string | undefined,
  ) {
    if (playPath) {
      const wav = readWav(playPath);
      if (wav.sampleRate !== RATE) {
        throw new WavFormatError(playPath, `sample rate ${wav.sampleRate} Hz; the file device plays 8000 Hz`);
      }
      if (wav.samples.length === 0) {
        throw new WavFormatError(playPath, 'no samples');
      }
      this.play = wav.samples;
    }
    if (recordDir) {
      mkdirSync(recordDir, { recursive: true });
    }
  }

  openCall(callTag: string): CallAudio {
    return {
      source: this.play ? loopingSource(this.play) : silence,
      sink: this.recordDir ? new WavWriter(join(this.recordDir, `call-${callTag}.wav`), RATE) : discard,
    };
  }
}

function loopingSource(samples: Int16Array): AudioSource {
  let pos = 0;
  return {
    read(count) {
      const out = new Int16Array(count);
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
