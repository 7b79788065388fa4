/**
 * Where a call's audio comes from and goes to. Frames are 8 kHz, 16-bit mono PCM. A source or sink that
 * throws loses that frame only: the session's clock goes on (RtpAudioSession counts it in framesFailed).
 */
export interface AudioSource {
  /**
   * Returns exactly `count` samples; silence when there is nothing to play. They are valid until the
   * next read, and not to be changed: a source may hand out its own buffer, or a view of audio it plays
   * again.
   */
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

let zeros = new Int16Array(960);

/** `count` samples of silence, shared: nobody may write into them (AudioSource.read). */
export function silent(count: number): Int16Array {
  if (zeros.length < count) {
    zeros = new Int16Array(count);
  }
  return zeros.subarray(0, count);
}

export const silence: AudioSource = { read: silent };
export const discard: AudioSink = { write: () => undefined, close: () => undefined };
