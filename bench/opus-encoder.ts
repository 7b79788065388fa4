import { execFileSync } from 'node:child_process';
import { cHarness } from '../test/harness/c-harness.js';
import { OpusCodec } from '../service/media/codecs/opus-codec.js';
import { seeded } from './jitter/traces.js';

const FRAME = 160;
const SECONDS = 60;
const ROUNDS = 5;

/**
 * A minute of voiced, speech-like 8 kHz audio: a glottal-like harmonic series on a wandering pitch,
 * syllable-rate envelope, a little noise. Deterministic, so that every encoder gets the same frames.
 */
function speechLikePcm(seconds = SECONDS): Int16Array {
  const rand = seeded(11);
  const pcm = new Int16Array(seconds * 8000);
  let phase = 0;
  for (let i = 0; i < pcm.length; i++) {
    const t = i / 8000;
    const pitch = 110 + 30 * Math.sin(2 * Math.PI * 0.7 * t);
    phase += (2 * Math.PI * pitch) / 8000;
    let v = 0;
    for (let h = 1; h <= 12; h++) {
      v += Math.sin(h * phase) / h;
    }
    const envelope = Math.max(0, Math.sin(2 * Math.PI * 2.5 * t)) ** 0.5;
    pcm[i] = Math.round(6000 * envelope * v + 300 * (rand() - 0.5));
  }
  return pcm;
}

/** Fastest of `ROUNDS` passes over the audio through carphone's Opus codec, in ns per frame. */
async function carphoneEncoder(pcm: Int16Array): Promise<{ ns: number; bytes: number }> {
  const frames = Math.floor(pcm.length / FRAME);
  let best = Infinity;
  let bytes = 0;
  for (let r = 0; r < ROUNDS; r++) {
    // A fresh codec per pass, as the C peer resets its encoder.
    const codec = await OpusCodec.create();
    bytes = 0;
    const t0 = process.hrtime.bigint();
    for (let f = 0; f < frames; f++) {
      bytes += codec.encode(pcm.subarray(f * FRAME, (f + 1) * FRAME)).length;
    }
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / frames);
    codec.close();
  }
  return { ns: best, bytes: bytes / frames };
}

export interface OpusEncoderCost {
  /** Which build of @evan/opus carphone loaded: its native libopus or its WebAssembly fallback. */
  build: 'native' | 'wasm';
  carphoneNs: number;
  libopusNs: number;
  carphoneBytes: number;
  libopusBytes: number;
}

/**
 * Opus encoding, the largest share of an Opus call's CPU: carphone's encoder against Debian's libopus
 * (the library baresip uses) called from C, same frames, same settings (8 kHz mono, VOIP, 24 kb/s).
 */
export async function opusEncoderCost(): Promise<OpusEncoderCost> {
  const pcm = speechLikePcm();
  const ours = await carphoneEncoder(pcm);
  const out = execFileSync(
    cHarness(new URL('./opus/opus-harness.c', import.meta.url), ['-lopus']),
    [String(ROUNDS)],
    {
      input: Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength),
    },
  )
    .toString()
    .trim()
    .split(' ');
  return {
    build: OpusCodec.encoderBuild,
    carphoneNs: ours.ns,
    libopusNs: Number(out[0]),
    carphoneBytes: ours.bytes,
    libopusBytes: Number(out[1]),
  };
}
