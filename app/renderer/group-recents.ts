import type { RecentView } from '../shared/api.js';

/** A row of Recents: the newest of the calls it stands for, and how many they are. */
export interface RecentRow extends RecentView {
  count: number;
}

/**
 * Consecutive calls with the same number, of the same kind and forwarded the same way, as one row
 * "2002 (3)", as phones show them: eight rows then reach further back, and a caller who tried three
 * times reads as one who tried three times, not as three rows to scan. Newest first in, newest first
 * out; at most `rows` rows.
 */
export function groupRecents(calls: readonly RecentView[], rows: number): RecentRow[] {
  const out: RecentRow[] = [];
  for (const call of calls) {
    const last = out.at(-1);
    if (
      last &&
      last.number === call.number &&
      last.kind === call.kind &&
      last.forwarded === call.forwarded &&
      last.forwardedFrom === call.forwardedFrom
    ) {
      last.count++;
      continue;
    }
    if (out.length === rows) {
      break;
    }
    out.push({ ...call, count: 1 });
  }
  return out;
}
