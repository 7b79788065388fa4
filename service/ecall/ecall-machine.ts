import { assertNever } from '../core/errors.js';

/**
 * An eCall's life as a pure machine. The rules it encodes:
 * - an eCall takes precedence: starting one releases every other call;
 * - the occupants cannot end it (the D-Bus layer refuses Hangup); only the PSAP clears it down;
 * - a call that fails to set up, or drops before the PSAP clears it down, is redialled after the
 *   configured intervals, up to the configured number of attempts;
 * - after the PSAP's clear-down the vehicle stays reachable for the callback period, and calls
 *   arriving then are answered automatically;
 * - every MSD sent carries the next message identifier (1 for the first of an eCall session).
 * The state is plain JSON so that a restarted daemon can resume an eCall in progress.
 */
export type Activation = 'automatic' | 'manual';

export interface Trigger {
  activation: Activation;
  test: boolean;
  at: number;
}

export type EcallState =
  | { kind: 'idle' }
  | { kind: 'calling'; trigger: Trigger; attempt: number; msdId: number }
  | { kind: 'active'; trigger: Trigger; attempt: number; msdId: number; acknowledged: boolean }
  | { kind: 'redial-wait'; trigger: Trigger; attempt: number; msdId: number; reason: string }
  | { kind: 'callback'; until: number; answered: boolean }
  | { kind: 'failed'; trigger: Trigger; reason: string };

export type EcallEvent =
  | { type: 'trigger'; trigger: Trigger }
  | { type: 'answered' }
  | { type: 'acknowledged' }
  | { type: 'cleared-by-psap'; now: number }
  | { type: 'call-failed'; reason: string }
  | { type: 'redial-due' }
  | { type: 'msd-requested' }
  | { type: 'incoming-call' }
  | { type: 'callback-ended'; now: number }
  /** The callback timer set for the period ending at `until` fired. */
  | { type: 'callback-expired'; until: number }
  /** Start-up with a persisted state: pick the eCall up again. */
  | { type: 'resume'; now: number };

export type EcallEffect =
  | { type: 'release-other-calls' }
  | { type: 'place-call'; trigger: Trigger; msdId: number; attempt: number }
  | { type: 'send-msd'; msdId: number }
  | { type: 'set-timer'; timer: 'redial'; ms: number }
  | { type: 'set-timer'; timer: 'callback'; ms: number; until: number }
  | { type: 'answer-incoming' }
  | { type: 'changed' };

export interface EcallPolicy {
  /** Delay before attempt n+1 (index n-1); their count is the number of redials. */
  redialIntervalsMs: number[];
  callbackMs: number;
}

export type Step = [EcallState, EcallEffect[]];

const changed: EcallEffect = { type: 'changed' };

function start(trigger: Trigger, msdId: number, attempt: number): Step {
  return [
    { kind: 'calling', trigger, attempt, msdId },
    [{ type: 'release-other-calls' }, { type: 'place-call', trigger, msdId, attempt }, changed],
  ];
}

function failOrRedial(
  p: EcallPolicy,
  trigger: Trigger,
  attempt: number,
  msdId: number,
  reason: string,
): Step {
  const interval = p.redialIntervalsMs[attempt - 1];
  if (interval === undefined) {
    return [{ kind: 'failed', trigger, reason: `${reason}; ${attempt} attempts made` }, [changed]];
  }
  return [
    { kind: 'redial-wait', trigger, attempt: attempt + 1, msdId, reason },
    [{ type: 'set-timer', timer: 'redial', ms: interval }, changed],
  ];
}

export function transition(p: EcallPolicy, s: EcallState, e: EcallEvent): Step {
  switch (e.type) {
    case 'trigger':
      // One eCall at a time; a new trigger during the callback period starts a new eCall.
      return s.kind === 'idle' || s.kind === 'callback' || s.kind === 'failed'
        ? start(e.trigger, 1, 1)
        : [s, []];
    case 'answered':
      return s.kind === 'calling' ? [{ ...s, kind: 'active', acknowledged: false }, [changed]] : [s, []];
    case 'acknowledged':
      return s.kind === 'active' && !s.acknowledged ? [{ ...s, acknowledged: true }, [changed]] : [s, []];
    case 'msd-requested':
      return s.kind === 'active'
        ? [
            { ...s, msdId: s.msdId + 1, acknowledged: false },
            [{ type: 'send-msd', msdId: s.msdId + 1 }, changed],
          ]
        : [s, []];
    case 'cleared-by-psap':
      if (s.kind === 'active' || s.kind === 'calling') {
        return [
          { kind: 'callback', until: e.now + p.callbackMs, answered: false },
          [{ type: 'set-timer', timer: 'callback', ms: p.callbackMs, until: e.now + p.callbackMs }, changed],
        ];
      }
      if (s.kind === 'callback') {
        return [{ ...s, answered: false }, [changed]];
      }
      return [s, []];
    case 'call-failed':
      if (s.kind === 'calling' || s.kind === 'active') {
        return failOrRedial(p, s.trigger, s.attempt, s.msdId, e.reason);
      }
      if (s.kind === 'callback') {
        return [{ ...s, answered: false }, [changed]];
      }
      return [s, []];
    case 'redial-due':
      return s.kind === 'redial-wait' ? start(s.trigger, s.msdId + 1, s.attempt) : [s, []];
    case 'incoming-call':
      return s.kind === 'callback' && !s.answered
        ? [{ ...s, answered: true }, [{ type: 'answer-incoming' }, changed]]
        : [s, []];
    case 'callback-ended':
      if (s.kind !== 'callback') {
        return [s, []];
      }
      // The window may have run out during the callback call: it ends with the call.
      return e.now >= s.until ? [{ kind: 'idle' }, [changed]] : [{ ...s, answered: false }, [changed]];
    case 'callback-expired':
      // Matched by its deadline, not by the clock: a timer may fire a moment before Date.now() says so.
      return s.kind === 'callback' && e.until === s.until && !s.answered
        ? [{ kind: 'idle' }, [changed]]
        : [s, []];
    case 'resume':
      switch (s.kind) {
        case 'calling':
        case 'active':
        case 'redial-wait':
          // The daemon died with the eCall open: set it up again at once, with the next MSD identifier.
          return start(s.trigger, s.msdId + 1, s.attempt);
        case 'callback': {
          if (e.now >= s.until) {
            return [{ kind: 'idle' }, [changed]];
          }
          // The deadline is on the wall clock, which a head unit may have had set back since (an RTC
          // that lost its time, then GNSS): never more than a whole callback period from now.
          const until = Math.min(s.until, e.now + p.callbackMs);
          return [
            { ...s, until, answered: false },
            [{ type: 'set-timer', timer: 'callback', ms: until - e.now, until }, changed],
          ];
        }
        case 'idle':
        case 'failed':
          return [s, []];
        default:
          return assertNever(s);
      }
    default:
      return assertNever(e);
  }
}

/** The name the D-Bus State property shows. */
export function stateName(s: EcallState): string {
  switch (s.kind) {
    case 'idle':
      return 'idle';
    case 'calling':
      return s.attempt > 1 ? 'redialling' : 'calling';
    case 'active':
      return s.acknowledged ? 'msd-acknowledged' : 'active';
    case 'redial-wait':
      return 'waiting-to-redial';
    case 'callback':
      return 'callback';
    case 'failed':
      return 'failed';
    default:
      return assertNever(s);
  }
}
