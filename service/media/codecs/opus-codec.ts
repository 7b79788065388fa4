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
  /** The TOC byte's configuration (mode, bandwidth, frame length) of the last packet decoded. */
  private lastConfiguration: number | undefined;

  private constructor(
    private readonly encoder: OpusEncoder,
    private readonly decoder: OpusDecoder<8000>,
  ) {}

  /** The codec the next call takes, made while nobody waits for it (forNextCall). */
  private static spare: Promise<OpusCodec> | undefined;

  /**
   * A codec for a new call, made before the call asked for it. opus-decoder sets its WebAssembly up
   * asynchronously, about 15-25 ms for the first codec of a process and up to 8 ms for later ones, and
   * a call's INVITE (an eCall's above all) waited for that. One codec is kept ready; each one taken
   * has the next made a second later, since making one also holds the event loop for some
   * milliseconds, which would fall on the call that is setting up.
   */
  static forNextCall(): Promise<OpusCodec> {
    const ready = OpusCodec.spare ?? OpusCodec.create();
    OpusCodec.spare = undefined;
    setTimeout(() => OpusCodec.prepareForNextCall(), SPARE_AFTER_MS).unref();
    return ready;
  }

  /** Makes the spare codec unless there is one: a line that may negotiate Opus asks when it starts. */
  static prepareForNextCall(): void {
    if (!OpusCodec.spare) {
      const spare = OpusCodec.create();
      // Nothing awaits the spare until a call takes it, and a failure to make it is that call's.
      spare.catch(() => undefined);
      OpusCodec.spare = spare;
    }
  }

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
    const toc = payload[0];
    if (toc === undefined) {
      throw new CodecError('empty Opus payload');
    }
    const result = this.decoder.decodeFrame(payload);
    if (result.errors.length > 0 || result.samplesDecoded === 0) {
      throw new CodecError(`undecodable Opus packet: ${result.errors[0]?.message ?? 'no samples'}`);
    }
    this.lastConfiguration = toc & ~TOC_FRAME_COUNT_CODE;
    return toInt16(result.channelData[0] ?? new Float32Array(0));
  }

  /**
   * In-band FEC (RFC 6716 §2.1.7): each packet also carries a coarser copy of the frame before it, which
   * the peer's decoder plays in place of that frame if it was lost. Only for a peer whose SDP asks for it
   * (useinbandfec=1); libopus spends bits on it only while it expects loss (expectLoss).
   */
  sendInbandFec(on: boolean): void {
    this.encoder.inband_fec = on;
  }

  /**
   * The share of our packets the peer reports lost (RTCP): libopus makes its packets more robust the
   * more loss it expects, at some cost in quality where none is lost, and adds in-band FEC from 1 %.
   */
  expectLoss(percent: number): void {
    this.encoder.packet_loss = Math.min(100, Math.max(0, Math.round(percent)));
  }

  /**
   * libopus's concealment, exactly as long as the lost audio. opus-decoder can only ask for it with an
   * empty packet, which libopus conceals for the longest frame Opus has (120 ms): taking the first frame
   * of that and dropping the rest left the decoder 120 ms further on at every lost frame, so a burst of
   * losses clicked at each frame and faded far too fast. A packet of nothing but a TOC byte (one frame of
   * zero bytes, RFC 6716 §3.2.1) is concealed for the TOC's frame length, so each lost frame is asked for
   * with the last real packet's TOC, as many times as its frames fit the lost audio.
   */
  conceal(samples: number): Int16Array {
    const out = new Int16Array(samples);
    if (this.lastConfiguration === undefined) {
      return out; // nothing heard yet that the lost audio could continue
    }
    const lostFrame = Uint8Array.of(this.lastConfiguration);
    for (let filled = 0; filled < samples;) {
      const result = this.decoder.decodeFrame(lostFrame);
      const pcm = result.channelData[0];
      if (result.samplesDecoded === 0 || !pcm) {
        break;
      }
      const part = toInt16(pcm.subarray(0, samples - filled));
      out.set(part, filled);
      filled += part.length;
    }
    return out;
  }

  close(): void {
    if (!this.closed) {
      this.closed = true;
      this.decoder.free();
    }
  }
}

const SPARE_AFTER_MS = 1000;

/** The two low bits of an Opus TOC byte: how many frames the packet holds (code 0: exactly one). */
const TOC_FRAME_COUNT_CODE = 0b11;

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
