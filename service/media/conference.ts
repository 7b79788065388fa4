import { PcmQueue } from './pcm-queue.js';

/**
 * Frames of one member's far end kept for another member at most; beyond that the oldest are dropped.
 * Each call ticks on its own timer, so what one member heard waits for the other's next tick: two frames
 * of head room ride out a late timer without a gap, and a member that stops reading (held) does not
 * come back to old audio.
 */
const MAX_FRAMES_WAITING = 4;
/** What a member starts from, and returns to after an underrun or an overflow: one frame of slack. */
const PRIMED_FRAMES = 2;

/** Two 16-bit samples added, clipped rather than wrapped. */
function saturatedSum(a: number, b: number): number {
  const s = a + b;
  return s > 32767 ? 32767 : s < -32768 ? -32768 : s;
}

/** What one member's far end said, on its way to one other member. */
class Feed {
  readonly queue = new PcmQueue();
  /** Until the queue holds PRIMED_FRAMES, nothing is taken: a half-empty queue would play in gaps. */
  primed = false;
}

/**
 * The calls of a local multiparty call, mixed on the head unit (a SIP line has no network conference
 * to ask for): every member's far end hears the cabin and every other member's far end. The cabin hears
 * each member through that call's own playback, as before; the audio server mixes them as it mixes any
 * two streams. A member's own far end is never sent back to it, so the mix holds no echo path.
 */
export class ConferenceRoom {
  private readonly seats = new Set<ConferenceSeat>();

  get size(): number {
    return this.seats.size;
  }

  join(): ConferenceSeat {
    const seat = new ConferenceSeat(this, (s) => this.seats.delete(s));
    for (const other of this.seats) {
      other.open(seat);
      seat.open(other);
    }
    this.seats.add(seat);
    return seat;
  }

  /** @internal Hands what `from` heard to every other seat. */
  deliver(from: ConferenceSeat, pcm: Int16Array): void {
    for (const seat of this.seats) {
      if (seat !== from) {
        seat.receive(from, pcm);
      }
    }
  }
}

/** One call's place in a ConferenceRoom. */
export class ConferenceSeat {
  private readonly feeds = new Map<ConferenceSeat, Feed>();
  private mixed = new Int16Array(0);
  private left = false;

  constructor(
    readonly room: ConferenceRoom,
    private readonly vacate: (seat: ConferenceSeat) => void,
  ) {}

  /** @internal */
  open(from: ConferenceSeat): void {
    this.feeds.set(from, new Feed());
  }

  /** @internal */
  receive(from: ConferenceSeat, pcm: Int16Array): void {
    const feed = this.feeds.get(from);
    if (!feed) {
      return;
    }
    feed.queue.push(pcm);
    const frame = Math.max(pcm.length, this.mixed.length);
    if (feed.queue.length > MAX_FRAMES_WAITING * frame) {
      feed.queue.take(feed.queue.length - PRIMED_FRAMES * frame);
    }
  }

  /** What this call's far end said (what the cabin hears of it), for the other members. */
  heard(pcm: Int16Array): void {
    if (!this.left) {
      this.room.deliver(this, pcm);
    }
  }

  /**
   * The frame this call sends: the cabin's `frame` with every other member's far end added. The result
   * is this seat's own buffer, valid until the next call; `frame` itself is not changed (a source may
   * hand out views of audio it plays again).
   */
  mix(frame: Int16Array): Int16Array {
    const n = frame.length;
    if (this.mixed.length !== n) {
      this.mixed = new Int16Array(n);
    }
    const out = this.mixed;
    out.set(frame);
    for (const feed of this.feeds.values()) {
      if (!feed.primed) {
        feed.primed = feed.queue.length >= PRIMED_FRAMES * n;
        if (!feed.primed) {
          continue;
        }
      }
      if (feed.queue.length < n) {
        // The other call's tick fell behind: start over from a primed queue rather than play in gaps.
        feed.primed = false;
        continue;
      }
      const part = feed.queue.take(n);
      for (let i = 0; i < n; i++) {
        out[i] = saturatedSum(out[i] ?? 0, part[i] ?? 0);
      }
    }
    return out;
  }

  leave(): void {
    if (this.left) {
      return;
    }
    this.left = true;
    this.vacate(this);
    for (const other of this.feeds.keys()) {
      other.feeds.delete(this);
    }
    this.feeds.clear();
  }
}
