import type { AudioDevice, CallAudio } from './audio-device.js';

/** Returns what it hears: the audio device of the built-in echo test line. */
export class LoopbackDevice implements AudioDevice {
  readonly kind = 'loopback';

  openCall(): CallAudio {
    const queue: Int16Array[] = [];
    let buffered = 0;
    return {
      sink: {
        write(pcm) {
          queue.push(pcm);
          buffered += pcm.length;
          // Keep at most half a second: an echo that lags further behind is useless.
          while (buffered > 4000 && queue.length > 1) {
            buffered -= queue.shift()?.length ?? 0;
          }
        },
        close() {
          queue.length = 0;
        },
      },
      source: {
        read(count) {
          const out = new Int16Array(count);
          let filled = 0;
          while (filled < count && queue.length > 0) {
            const head = queue[0];
            if (!head) {
              break;
            }
            const take = Math.min(count - filled, head.length);
            out.set(head.subarray(0, take), filled);
            filled += take;
            buffered -= take;
            if (take === head.length) {
              queue.shift();
            } else {
              queue[0] = head.subarray(take);
            }
          }
          return out;
        },
      },
    };
  }
}
