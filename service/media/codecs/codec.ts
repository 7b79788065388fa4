/**
 * An audio codec as the RTP session uses it. Audio devices work in 8 kHz 16-bit mono frames; a codec
 * turns one such frame into one RTP payload and back, and makes up a frame for a packet that never came.
 */
export interface AudioCodecSession {
  readonly name: string;
  /** RTP clock rate (RFC 3551 / RFC 7587): 8000 for G.711, 48000 for Opus whatever its audio rate. */
  readonly clockRate: number;
  /** The payload for a frame, valid until the next encode (a codec may reuse its buffer). */
  encode(pcm: Int16Array): Uint8Array;
  /** Decodes a payload into 8 kHz PCM; throws CodecError for one that cannot be decoded. */
  decode(payload: Uint8Array): Int16Array;
  /** A frame of `samples` to play in place of a lost packet (packet loss concealment). */
  conceal(samples: number): Int16Array;
  close(): void;
}

export class CodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CodecError';
  }
}
