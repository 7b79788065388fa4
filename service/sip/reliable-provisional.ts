import type * as sip from 'sip';
import { optionTags } from './validate.js';

/**
 * Reliable provisional responses (RFC 3262, "100rel"): a 18x that the far end acknowledges with a
 * PRACK, as IMS cores require so that early media and preconditions cannot be lost with a datagram.
 * The header arithmetic is here; the user agent resends and matches.
 */

/**
 * RSeq and RAck carry numbers from 1 to 2^32 - 1 (RFC 3262 §7.1). The user agent writes them under
 * those keys: the sip package would spell lower-case ones Rseq and Rack.
 */
const MAX_RSEQ = 2 ** 32 - 1;

/** What a PRACK acknowledges: the RSeq of the provisional, and the CSeq number and method it answered. */
export interface Rack {
  rseq: number;
  cseq: number;
  method: string;
}

/** Whether the far end's INVITE requires reliable provisionals of us. */
export function requiresReliable(headers: sip.Headers): boolean {
  return optionTags(headers.require).includes('100rel');
}

/** The RSeq of a provisional response the far end sent reliably (Require: 100rel), if it did. */
export function reliableRseq(rs: sip.Response): number | undefined {
  if (rs.status <= 100 || rs.status >= 200 || !optionTags(rs.headers.require).includes('100rel')) {
    return undefined;
  }
  const raw = rs.headers.rseq;
  const value = typeof raw === 'string' ? raw.trim() : '';
  return /^\d{1,10}$/.test(value) && Number(value) >= 1 && Number(value) <= MAX_RSEQ
    ? Number(value)
    : undefined;
}

export function formatRack(r: Rack): string {
  return `${r.rseq} ${r.cseq} ${r.method}`;
}

/** A PRACK's RAck header, or undefined where it is missing or malformed. */
export function parseRack(value: unknown): Rack | undefined {
  const m = typeof value === 'string' ? /^\s*(\d{1,10})\s+(\d{1,10})\s+([A-Za-z]+)\s*$/.exec(value) : null;
  if (!m?.[1] || !m[2] || !m[3]) {
    return undefined;
  }
  return { rseq: Number(m[1]), cseq: Number(m[2]), method: m[3].toUpperCase() };
}

export function sameRack(a: Rack, b: Rack): boolean {
  return a.rseq === b.rseq && a.cseq === b.cseq && a.method === b.method;
}

/**
 * Whether a reliable provisional with this RSeq is one to acknowledge: the first of the dialog, or
 * the next in order; a retransmission of one acknowledged already, or one out of order, is not
 * (RFC 3262 §4).
 */
export function isNextRseq(rseq: number, lastAcknowledged: number | undefined): boolean {
  return lastAcknowledged === undefined || rseq === lastAcknowledged + 1;
}

/** The first RSeq of a dialog: random, and far enough below 2^31 to count up (RFC 3262 §3). */
export function firstRseq(random: number): number {
  return 1 + Math.floor(random * (2 ** 31 - 1));
}
