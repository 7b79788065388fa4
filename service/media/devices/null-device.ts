import { discard, silence, type AudioDevice, type CallAudio } from './audio-device.js';

/** Sends silence and drops what it hears. */
export class NullDevice implements AudioDevice {
  readonly kind = 'null';
  openCall(): CallAudio {
    return { source: silence, sink: discard };
  }
}
