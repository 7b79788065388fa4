import { writeWav, readWav } from '../../service/media/wav.js';

/** Writes a 16-bit sine tone, 8 kHz mono unless told otherwise. */
export function writeTone(
  path: string,
  hz: number,
  seconds: number,
  amplitude = 8000,
  sampleRate = 8000,
  channels: 1 | 2 = 1,
): void {
  const n = Math.round(sampleRate * seconds);
  const samples = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    samples[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / sampleRate));
  }
  writeWav(path, { sampleRate, samples }, channels);
}

/** Goertzel's power of one frequency in a block, and the block's energy. */
function goertzel(samples: Int16Array, sampleRate: number, hz: number): { power: number; energy: number } {
  const coeff = 2 * Math.cos((2 * Math.PI * hz) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  for (const x of samples) {
    const s0 = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
    energy += x * x;
  }
  return { power: s1 * s1 + s2 * s2 - coeff * s1 * s2, energy };
}

/** Power of one frequency in a block (Goertzel), normalised by the block's energy. */
export function toneShare(samples: Int16Array, sampleRate: number, hz: number): number {
  const { power, energy } = goertzel(samples, sampleRate, hz);
  return energy === 0 ? 0 : (2 * power) / (samples.length * energy);
}

/**
 * Level of one frequency in a recording between two times, in dB relative to a full-scale sine: its
 * power averaged over 200 ms windows (so that tones which come and go count by how long they sound).
 */
export function toneLevelDb(path: string, hz: number, fromSeconds: number, toSeconds: number): number {
  const wav = readWav(path);
  const size = Math.round(wav.sampleRate / 5);
  const end = Math.min(wav.samples.length, Math.round(toSeconds * wav.sampleRate));
  let sum = 0;
  let windows = 0;
  for (let i = Math.round(fromSeconds * wav.sampleRate); i + size <= end; i += size) {
    // A sine of amplitude A gives a Goertzel power of (A·N/2)² over N samples.
    const amplitude =
      (2 * Math.sqrt(goertzel(wav.samples.subarray(i, i + size), wav.sampleRate, hz).power)) / size;
    sum += amplitude * amplitude;
    windows++;
  }
  return windows === 0 ? -Infinity : 10 * Math.log10(sum / windows / 32767 ** 2);
}

/** The strongest frequency between 100 and 3400 Hz in 10 Hz steps, over two seconds from where sound starts. */
export function dominantFrequency(
  samples: Int16Array,
  sampleRate: number,
): { hz: number; share: number; rms: number } {
  // Skip the silence before the audio starts; filtering quiet samples out would cut every sine cycle.
  const first = samples.findIndex((x) => Math.abs(x) > 200);
  const start = first < 0 ? samples.length : first;
  const block = samples.subarray(start, Math.min(samples.length, start + sampleRate * 2));
  let best = { hz: 0, share: 0 };
  for (let hz = 100; hz <= 3400; hz += 10) {
    const share = toneShare(block, sampleRate, hz);
    if (share > best.share) {
      best = { hz, share };
    }
  }
  const rms = Math.sqrt(block.reduce((a, x) => a + x * x, 0) / Math.max(1, block.length));
  return { ...best, rms };
}

export function analyseWav(path: string): { hz: number; share: number; rms: number; seconds: number } {
  const wav = readWav(path);
  return { ...dominantFrequency(wav.samples, wav.sampleRate), seconds: wav.samples.length / wav.sampleRate };
}

/**
 * The strongest frequency (as dominantFrequency finds it) in most of a recording's 200 ms windows that
 * hold sound: for audio whose time scale a jitter buffer changed. Over one long block, the phase
 * jumps at each stretch and compression spread a tone over its neighbours, and through an impaired
 * link 430 Hz once came out ahead of a 440 Hz tone.
 */
export function windowedDominantFrequency(path: string): number {
  const wav = readWav(path);
  const size = Math.round(wav.sampleRate / 5);
  const votes = new Map<number, number>();
  for (let i = 0; i + size <= wav.samples.length; i += size) {
    const window = dominantFrequency(wav.samples.subarray(i, i + size), wav.sampleRate);
    if (window.share > 0) {
      votes.set(window.hz, (votes.get(window.hz) ?? 0) + 1);
    }
  }
  return [...votes].reduce((best, vote) => (vote[1] > best[1] ? vote : best), [0, 0])[0];
}

/** The first file in `dir` ending in `suffix`, analysed; undefined while there is none. */
export function analyseFirst(files: string[]): ReturnType<typeof analyseWav> | undefined {
  const f = files[0];
  return f ? analyseWav(f) : undefined;
}

/** The share of `hz` in each 200 ms window of a recording, in order. */
export function windowShares(path: string, hz: number): number[] {
  const wav = readWav(path);
  const size = Math.round(wav.sampleRate / 5);
  const shares: number[] = [];
  for (let i = 0; i + size <= wav.samples.length; i += size) {
    shares.push(toneShare(wav.samples.subarray(i, i + size), wav.sampleRate, hz));
  }
  return shares;
}

/**
 * The median share of `hz` over 200 ms windows: for audio whose time scale a jitter buffer changed
 * (frames stretched, compressed, concealed), where a single transform over the whole file loses
 * the tone's phase coherence.
 */
export function medianWindowShare(path: string, hz: number): number {
  const shares = windowShares(path, hz).sort((a, b) => a - b);
  return shares[Math.floor(shares.length / 2)] ?? 0;
}

/** How long each burst of `hz` in a recording lasts, in ms, measured in `stepMs` steps. */
export function toneBursts(path: string, hz: number, stepMs = 50): number[] {
  const wav = readWav(path);
  const size = Math.round((wav.sampleRate * stepMs) / 1000);
  const bursts: number[] = [];
  let run = 0;
  for (let i = 0; i + size <= wav.samples.length; i += size) {
    if (toneShare(wav.samples.subarray(i, i + size), wav.sampleRate, hz) > 0.5) {
      run += stepMs;
    } else if (run > 0) {
      bursts.push(run);
      run = 0;
    }
  }
  return run > 0 ? [...bursts, run] : bursts;
}

/**
 * A recording once its call's audio stream has closed (its WAV header says how long it is only then):
 * a call that failed keeps its stream a moment longer for the busy or congestion tone.
 */
export async function closedRecording(path: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (readWav(path).samples.length === 0) {
    if (Date.now() > deadline) {
      throw new Error(`${path} was not closed within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return path;
}
