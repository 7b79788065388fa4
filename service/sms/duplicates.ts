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

export class RecentDeliveries {
  /** TPDU digest → when it was taken; in the order taken. */
  private readonly taken = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  /** Whether `tpdu` was taken within the window. */
  takenBefore(tpdu: Uint8Array): boolean {
    const at = this.taken.get(digest(tpdu));
    return at !== undefined && this.clock.monotonicMs() - at < DUPLICATE_WINDOW_MS;
  }

  /** `tpdu` was taken now: handed on, after which it is acknowledged. */
  remember(tpdu: Uint8Array): void {
    const now = this.clock.monotonicMs();
    const key = digest(tpdu);
    this.taken.delete(key);
    // The oldest go first: those out of the window, and any beyond the count.
    for (const [oldest, when] of this.taken) {
      if (now - when < DUPLICATE_WINDOW_MS && this.taken.size < REMEMBERED_DELIVERIES) {
        break;
      }
      this.taken.delete(oldest);
    }
    this.taken.set(key, now);
  }
}

const digest = (tpdu: Uint8Array): string => createHash('sha256').update(tpdu).digest('base64');
