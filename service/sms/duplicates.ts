import { createHash } from 'node:crypto';
import type { Clock } from '../core/clock.js';

/**
 * How long, and how many, SMS-DELIVERs are remembered to recognise one sent again. A service centre
 * sends an SMS again when the phone's RP-ACK did not reach it (the MESSAGE carrying it was lost), with
 * the very same TPDU; shown again, the driver would read the text twice, and a part of a text already
 * shown would start a new text that ends, three minutes later, in gaps.
 */
export const DUPLICATE_WINDOW_MS = 24 * 3600 * 1000;
export const REMEMBERED_DELIVERIES = 256;

/** One SMS taken: its TPDU's digest, and when (wall time: it is kept across a restart). */
export interface TakenSms {
  digest: string;
  at: number;
}

/**
 * The SMS taken lately. Kept across a restart (`keep` is told of every change before `remember`
 * returns, so before the RP-ACK goes): a centre whose RP-ACK was lost when carphoned stopped sends the
 * SMS again to the next run. Wall time, as monotonic time does not outlive the process; a wall clock
 * that jumps costs at most a copy shown or a digest kept longer, never a text lost: the TPDU carries
 * the centre's own time stamp, so another SMS never has the same digest.
 */
export class RecentDeliveries {
  /** TPDU digest → when it was taken; in the order taken. */
  private readonly taken = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly keep: (taken: TakenSms[]) => void = () => undefined,
  ) {}

  /** What a previous run had taken: remembered again, oldest first. */
  restore(taken: readonly TakenSms[]): void {
    for (const { digest: key, at } of taken) {
      this.taken.delete(key);
      this.taken.set(key, at);
    }
    this.forgetOld(this.clock.now());
  }

  /** Whether `tpdu` was taken within the window. */
  takenBefore(tpdu: Uint8Array): boolean {
    const at = this.taken.get(digest(tpdu));
    return at !== undefined && this.clock.now() - at < DUPLICATE_WINDOW_MS;
  }

  /** `tpdu` was taken now: handed on, after which it is acknowledged. */
  remember(tpdu: Uint8Array): void {
    const now = this.clock.now();
    const key = digest(tpdu);
    this.taken.delete(key);
    this.forgetOld(now, 1);
    this.taken.set(key, now);
    this.keep([...this.taken].map(([d, at]) => ({ digest: d, at })));
  }

  /** The oldest go first: those out of the window, and any beyond the count (leaving `room`). */
  private forgetOld(now: number, room = 0): void {
    for (const [oldest, when] of this.taken) {
      if (now - when < DUPLICATE_WINDOW_MS && this.taken.size + room <= REMEMBERED_DELIVERIES) {
        break;
      }
      this.taken.delete(oldest);
    }
  }
}

const digest = (tpdu: Uint8Array): string => createHash('sha256').update(tpdu).digest('base64');
