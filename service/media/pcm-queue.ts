/**
 * Received audio between the jitter buffer, which hands out one packet's worth at a time, and the
 * device, which takes one of our frames per tick: the far end may send packets of another length than
 * ours (RFC 3551 §4.2, RFC 7587 §4.2), 10, 30 or 40 ms against our 20, say.
 */
export class PcmQueue {
  private buf = new Int16Array(1920);
  private start = 0;
  private end = 0;

  get length(): number {
    return this.end - this.start;
  }

  push(pcm: Int16Array): void {
    if (this.end + pcm.length > this.buf.length) {
      const kept = this.length;
      if (kept + pcm.length <= this.buf.length) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        const grown = new Int16Array(2 * (kept + pcm.length));
        grown.set(this.buf.subarray(this.start, this.end));
        this.buf = grown;
      }
      this.start = 0;
      this.end = kept;
    }
    this.buf.set(pcm, this.end);
    this.end += pcm.length;
  }

  /** The next `count` samples (fewer if it holds fewer), as an array of their own: sinks may keep it. */
  take(count: number): Int16Array {
    const n = Math.min(count, this.length);
    const out = this.buf.slice(this.start, this.start + n);
    this.start += n;
    if (this.start === this.end) {
      this.start = this.end = 0;
    }
    return out;
  }

  clear(): void {
    this.start = this.end = 0;
  }
}
