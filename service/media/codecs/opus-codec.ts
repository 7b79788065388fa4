import { createRequire } from 'node:module';
import { Encoder as OpusEncoder } from '@evan/opus';
import { OpusDecoder } from 'opus-decoder';
import { CodecError, type AudioCodecSession } from './codec.js';

/**
 * Opus (RFC 6716, RTP per RFC 7587) at the devices' 8 kHz: @evan/opus's libopus encoder in VOIP mode,
 * opus-decoder's libopus decoder, whose packet loss concealment fills lost frames. The RTP clock is
 * 48 kHz whatever the audio rate.
 *
 * The encoder is most of an Opus call's CPU. @evan/opus ships libopus built natively for x64 and arm64
 * Linux inside its npm package (nothing is downloaded or compiled at install) and falls back to its
 * WebAssembly build elsewhere; natively it encodes a frame in about half the time of opusscript's
 * WebAssembly, which carphone used before (figures in docs/performance.md).
 */
export class OpusCodec implements AudioCodecSession {
  /** Which build of libopus encodes: @evan/opus picks one silently, integrators need to know which. */
  static readonly encoderBuild: 'native' | 'wasm' = loadsNativeEncoder() ? 'native' : 'wasm';

  readonly name = 'OPUS';
  readonly clockRate = 48000;
  private closed = false;

  private constructor(
    private readonly encoder: OpusEncoder,
    private readonly decoder: OpusDecoder<8000>,
  ) {}

  static async create(bitrate = 24000): Promise<OpusCodec> {
    const encoder = new OpusEncoder({ channels: 1, sample_rate: 8000, application: 'voip' });
    encoder.bitrate = bitrate;
    const decoder = new OpusDecoder({ sampleRate: 8000, channels: 1 });
    await decoder.ready;
    return new OpusCodec(encoder, decoder);
  }

  encode(pcm: Int16Array): Uint8Array {
    // A copy of the packet, not a view of the encoder's buffer that the next frame overwrites.
    return this.encoder.encode(pcm);
  }

  decode(payload: Uint8Array): Int16Array {
    // An empty payload would decode as 120 ms of concealment; a TOC byte is the least a packet has.
    if (payload.length === 0) {
      throw new CodecError('empty Opus payload');
    }
    const result = this.decoder.decodeFrame(payload);
    if (result.errors.length > 0 || result.samplesDecoded === 0) {
      throw new CodecError(`undecodable Opus packet: ${result.errors[0]?.message ?? 'no samples'}`);
    }
    return toInt16(result.channelData[0] ?? new Float32Array(0));
  }

  conceal(samples: number): Int16Array {
    // opus-decoder runs libopus's concealment for an empty frame, always 120 ms of it: the first frame's
    // worth is what the lost packet would have been.
    const result = this.decoder.decodeFrame(new Uint8Array(0));
    const pcm = toInt16((result.channelData[0] ?? new Float32Array(0)).subarray(0, samples));
    return pcm.length === samples ? pcm : Int16Array.from({ length: samples }, (_, i) => pcm[i] ?? 0);
  }

  close(): void {
    if (!this.closed) {
      this.closed = true;
      this.decoder.free();
    }
  }
}

function toInt16(f: Float32Array): Int16Array {
  const out = new Int16Array(f.length);
  for (let i = 0; i < f.length; i++) {
    out[i] = Math.max(-32768, Math.min(32767, Math.round((f[i] ?? 0) * 32767)));
  }
  return out;
}

function loadsNativeEncoder(): boolean {
  if (process.env.OPUS_FORCE_WASM) {
    return false;
  }
  try {
    createRequire(import.meta.url)('@evan/opus/node/index.js');
    return true;
  } catch {
    return false;
  }
}
