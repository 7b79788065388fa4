import type { Clock, TimerHandle } from '../core/clock.js';
import type { SmsDeliver } from './tpdu.js';

/**
 * A text sent as several SMS comes as several SIP MESSAGEs, in any order: the parts are held until the
 * last one is in, and the text is handed on whole. Parts that stop coming (one lost in the network)
 * are handed on as they are after PART_WAIT_MS, each gap marked, rather than never.
 */
export const PART_WAIT_MS = 3 * 60_000;
const GAP = '[…]';

interface Pending {
  parts: Map<number, SmsDeliver>;
  total: number;
  timer: TimerHandle;
}

export class Reassembly {
  private readonly pending = new Map<string, Pending>();

  /**
   * `keep` is told every part held, each time they change, before `add` returns: a part is
   * acknowledged to the service centre after that, and must outlive a restart.
   */
  constructor(
    private readonly clock: Clock,
    private readonly complete: (first: SmsDeliver, text: string) => void,
    private readonly keep: (held: SmsDeliver[]) => void = () => undefined,
  ) {}

  /** Parts a previous run held: held again, their wait starting anew. */
  restore(parts: SmsDeliver[]): void {
    for (const sms of parts) {
      this.hold(sms);
    }
    this.keepHeld();
  }

  add(sms: SmsDeliver): void {
    const part = sms.part;
    if (!part || part.total <= 1) {
      this.complete(sms, sms.text);
      return;
    }
    this.hold(sms);
    this.keepHeld();
  }

  private hold(sms: SmsDeliver): void {
    const part = sms.part;
    if (!part) {
      return;
    }
    const key = `${sms.originator}\n${part.reference}\n${part.total}`;
    let entry = this.pending.get(key);
    if (!entry) {
      const timer = this.clock.setTimeout(() => this.finish(key), PART_WAIT_MS);
      entry = { parts: new Map(), total: part.total, timer };
      this.pending.set(key, entry);
    }
    entry.parts.set(part.sequence, sms);
    if (entry.parts.size >= entry.total) {
      this.finish(key);
    }
  }

  private finish(key: string): void {
    const entry = this.pending.get(key);
    if (!entry) {
      return;
    }
    this.pending.delete(key);
    this.clock.clearTimeout(entry.timer);
    const parts = [...Array(entry.total).keys()].map((i) => entry.parts.get(i + 1));
    const first = parts.find((p) => p !== undefined);
    if (first) {
      this.complete(first, parts.map((p) => p?.text ?? GAP).join(''));
    }
    this.keepHeld();
  }

  private keepHeld(): void {
    this.keep([...this.pending.values()].flatMap((e) => [...e.parts.values()]));
  }
}
