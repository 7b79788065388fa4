/**
 * The last stretch of audio played, newest last: what made-up audio (an expansion while waiting, a
 * concealment of a lost frame) repeats to continue it.
 */
export class RecentAudio {
  private buf: Int16Array;
  private kept = 0;

  constructor(capacity: number) {
    this.buf = new Int16Array(capacity);
  }

  /** What is kept, oldest first: up to the capacity, less at the start of a stream. */
  get samples(): Int16Array {
    return this.buf.subarray(this.buf.length - this.kept);
  }

  /** Keeps at least `capacity` samples from now on (what is kept stays). */
  reserve(capacity: number): void {
    if (this.buf.length < capacity) {
      const grown = new Int16Array(capacity);
      grown.set(this.samples, capacity - this.kept);
      this.buf = grown;
    }
  }

  push(pcm: Int16Array): void {
    const size = this.buf.length;
    if (pcm.length >= size) {
      this.buf.set(pcm.subarray(pcm.length - size));
    } else {
      this.buf.copyWithin(0, pcm.length);
      this.buf.set(pcm, size - pcm.length);
    }
    this.kept = Math.min(size, this.kept + pcm.length);
  }

  clear(): void {
    this.kept = 0;
  }
}

/** The level of made-up audio `samples` into it: full for `full` samples, then down to silence over `fadeOut`. */
export function fadingLevel(samples: number, full: number, fadeOut: number): number {
  return Math.min(1, Math.max(0, 1 - (samples - full) / fadeOut));
}
