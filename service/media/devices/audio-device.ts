/**
 * Where a call's audio comes from and goes to. Frames are 8 kHz, 16-bit mono PCM. A source or sink that
 * throws loses that frame only: the session's clock goes on (RtpAudioSession counts it in framesFailed).
 */
export interface AudioSource {
  /** Returns exactly `count` samples; silence when there is nothing to play. */
  read(count: number): Int16Array;
}

export interface AudioSink {
  write(pcm: Int16Array): void;
  close(): void;
}

export interface CallAudio {
  source: AudioSource;
  sink: AudioSink;
}

export interface AudioDevice {
  readonly kind: string;
  openCall(callTag: string): CallAudio;
}

export const silence: AudioSource = { read: (count) => new Int16Array(count) };
export const discard: AudioSink = { write: () => undefined, close: () => undefined };
