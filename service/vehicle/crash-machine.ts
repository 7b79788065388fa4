/**
 * The automatic eCall trigger as a pure machine. A crash is believed only when it shows in
 * `confirmFrames` consecutive usable frames (E2E OK, state machine VALID, no inhibitor); any unusable
 * frame in between starts the count again. Once triggered it stays latched until the crash signals
 * have been clear for `rearmAfterMs`: one crash, one eCall.
 */
export type CrashState =
  { kind: 'armed'; counts: Record<string, number> } | { kind: 'triggered'; at: number; clearSince?: number };

export type CrashEvent =
  | { type: 'frame'; message: string; usable: boolean; crash: boolean; at: number }
  /** A repeated frame (same counter): neither evidence for nor against a crash. */
  | { type: 'repeat' }
  | { type: 'invalid'; message: string };

export interface CrashTrigger {
  message: string;
  at: number;
  frames: number;
}

export interface CrashPolicy {
  confirmFrames: number;
  rearmAfterMs: number;
}

export const armed: CrashState = { kind: 'armed', counts: {} };

export function crashTransition(p: CrashPolicy, s: CrashState, e: CrashEvent): [CrashState, CrashTrigger[]] {
  if (e.type === 'repeat') {
    return [s, []];
  }
  if (s.kind === 'triggered') {
    if (e.type !== 'frame' || !e.usable) {
      return [s, []];
    }
    if (e.crash) {
      return [{ kind: 'triggered', at: s.at }, []];
    }
    const clearSince = s.clearSince ?? e.at;
    return e.at - clearSince >= p.rearmAfterMs ? [armed, []] : [{ ...s, clearSince }, []];
  }
  const message = e.message;
  if (e.type === 'invalid' || !e.usable || !e.crash) {
    return [{ kind: 'armed', counts: { ...s.counts, [message]: 0 } }, []];
  }
  const count = (s.counts[message] ?? 0) + 1;
  if (count >= p.confirmFrames) {
    return [{ kind: 'triggered', at: e.at }, [{ message, at: e.at, frames: count }]];
  }
  return [{ kind: 'armed', counts: { ...s.counts, [message]: count } }, []];
}
