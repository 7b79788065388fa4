import { assertNever } from '../core/errors.js';
import { backoffMs } from './registration.js';

/**
 * A SUBSCRIBE dialog (RFC 6665) to one event package as a pure machine: `transition(policy, state,
 * event)` returns the next state and the effects for its runner (service/sip/mwi-client.ts).
 *
 * Policy: refresh at half the granted expiry; retry with exponential backoff (1 s doubling to 300 s)
 * while the server is unreachable; a server that has no such event for us (489 Bad Event, 403, 404,
 * 405, 501, or a NOTIFY terminating the subscription as rejected or noresource) is not asked again.
 */
export type SubscriptionStatus = 'unsubscribed' | 'subscribing' | 'subscribed' | 'failed' | 'refused';

export type SubscriptionState =
  | { kind: 'idle' }
  | { kind: 'subscribing'; attempt: number; authSent: boolean; refreshing: boolean }
  | { kind: 'active'; expires: number }
  | { kind: 'backoff'; attempt: number }
  | { kind: 'refused' }
  | { kind: 'unsubscribing'; authSent: boolean }
  | { kind: 'stopped' };

/** RFC 6665 §4.1.3's Subscription-State of a NOTIFY. */
export interface NotifiedState {
  state: 'active' | 'pending' | 'terminated';
  expires?: number;
  reason?: string;
  retryAfter?: number;
}

export type SubscriptionEvent =
  | { type: 'start' }
  | { type: 'stop' }
  | {
      type: 'response';
      status: number;
      grantedExpires?: number;
      usableChallenge?: boolean;
      stale?: boolean;
    }
  | ({ type: 'notify' } & NotifiedState)
  | { type: 'refresh-due' }
  | { type: 'retry-due' };

export type SubscriptionEffect =
  /** `newDialog`: a fresh Call-ID and From tag; otherwise within the dialog (or its first request, again). */
  | { type: 'send-subscribe'; expires: number; withAuth: boolean; newDialog: boolean }
  | { type: 'set-timer'; timer: 'refresh' | 'retry'; ms: number }
  | { type: 'clear-timers' }
  | { type: 'status'; status: SubscriptionStatus; reason: string };

export interface SubscriptionPolicy {
  requestedExpires: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export type SubscriptionStep = [SubscriptionState, SubscriptionEffect[]];

/** Answers that say the server will not give us this event, whatever we retry. */
const REFUSALS = new Set([403, 404, 405, 489, 501]);
/** NOTIFY reasons after which a new subscription is made at once (RFC 6665 §4.1.3). */
const RESUBSCRIBE_AT_ONCE = new Set(['deactivated', 'timeout']);
/** ... and after which none is made. */
const FINAL_REASONS = new Set(['rejected', 'noresource', 'invariant']);

function subscribeAfresh(policy: SubscriptionPolicy, attempt: number): SubscriptionStep {
  return [
    { kind: 'subscribing', attempt, authSent: false, refreshing: false },
    [
      { type: 'clear-timers' },
      { type: 'status', status: 'subscribing', reason: '' },
      { type: 'send-subscribe', expires: policy.requestedExpires, withAuth: false, newDialog: true },
    ],
  ];
}

function backoff(policy: SubscriptionPolicy, attempt: number, reason: string, ms?: number): SubscriptionStep {
  return [
    { kind: 'backoff', attempt: attempt + 1 },
    [
      { type: 'clear-timers' },
      { type: 'status', status: 'failed', reason },
      { type: 'set-timer', timer: 'retry', ms: ms ?? backoffMs(policy, attempt) },
    ],
  ];
}

function refused(reason: string): SubscriptionStep {
  return [{ kind: 'refused' }, [{ type: 'clear-timers' }, { type: 'status', status: 'refused', reason }]];
}

function activeFor(expires: number): SubscriptionStep {
  return [
    { kind: 'active', expires },
    [
      { type: 'clear-timers' },
      { type: 'status', status: 'subscribed', reason: '' },
      { type: 'set-timer', timer: 'refresh', ms: (expires * 1000) / 2 },
    ],
  ];
}

export function transition(
  policy: SubscriptionPolicy,
  state: SubscriptionState,
  event: SubscriptionEvent,
): SubscriptionStep {
  switch (event.type) {
    case 'start':
      return state.kind === 'idle' || state.kind === 'stopped' ? subscribeAfresh(policy, 0) : [state, []];
    case 'stop':
      if (state.kind === 'active' || (state.kind === 'subscribing' && state.refreshing)) {
        return [
          { kind: 'unsubscribing', authSent: false },
          [
            { type: 'clear-timers' },
            { type: 'send-subscribe', expires: 0, withAuth: false, newDialog: false },
          ],
        ];
      }
      if (state.kind === 'unsubscribing' || state.kind === 'stopped') {
        return [state, []];
      }
      return [
        { kind: 'stopped' },
        [{ type: 'clear-timers' }, { type: 'status', status: 'unsubscribed', reason: 'stopped' }],
      ];
    case 'refresh-due':
      if (state.kind !== 'active') {
        return [state, []];
      }
      return [
        { kind: 'subscribing', attempt: 0, authSent: false, refreshing: true },
        [{ type: 'send-subscribe', expires: policy.requestedExpires, withAuth: false, newDialog: false }],
      ];
    case 'retry-due':
      return state.kind === 'backoff' ? subscribeAfresh(policy, state.attempt) : [state, []];
    case 'response':
      return onResponse(policy, state, event);
    case 'notify':
      return onNotify(policy, state, event);
    default:
      return assertNever(event);
  }
}

function onResponse(
  policy: SubscriptionPolicy,
  state: SubscriptionState,
  event: Extract<SubscriptionEvent, { type: 'response' }>,
): SubscriptionStep {
  const { status } = event;
  if (status < 200) {
    return [state, []];
  }
  const challenged = (status === 401 || status === 407) && event.usableChallenge === true;
  if (state.kind === 'unsubscribing') {
    if (challenged && !state.authSent) {
      return [
        { kind: 'unsubscribing', authSent: true },
        [{ type: 'send-subscribe', expires: 0, withAuth: true, newDialog: false }],
      ];
    }
    return [{ kind: 'stopped' }, [{ type: 'status', status: 'unsubscribed', reason: 'stopped' }]];
  }
  if (state.kind !== 'subscribing') {
    return [state, []];
  }
  if (status < 300) {
    const expires = event.grantedExpires ?? policy.requestedExpires;
    return expires > 0 ? activeFor(expires) : backoff(policy, state.attempt, 'server granted no time');
  }
  if (challenged && (!state.authSent || event.stale === true)) {
    return [
      { ...state, authSent: true },
      [{ type: 'send-subscribe', expires: policy.requestedExpires, withAuth: true, newDialog: false }],
    ];
  }
  if (status === 481 && state.refreshing) {
    // The server lost the subscription (RFC 6665 §4.1.2.2): a new one.
    return subscribeAfresh(policy, 0);
  }
  if (REFUSALS.has(status)) {
    return refused(`the server has no message summary for this line (${status})`);
  }
  if (status === 401 || status === 407) {
    return backoff(policy, state.attempt, 'authentication rejected: wrong user name or password');
  }
  return backoff(policy, state.attempt, `the server answered ${status}`);
}

function onNotify(
  policy: SubscriptionPolicy,
  state: SubscriptionState,
  event: NotifiedState,
): SubscriptionStep {
  if (state.kind === 'unsubscribing' || state.kind === 'stopped' || state.kind === 'idle') {
    return [state, []];
  }
  if (event.state === 'active') {
    // The server's NOTIFY may shorten the subscription (RFC 6665 §4.1.3): refresh by its expiry.
    if (state.kind === 'active' && event.expires !== undefined && event.expires > 0) {
      return activeFor(event.expires);
    }
    return [state, []];
  }
  if (event.state === 'pending') {
    return [state, []];
  }
  const reason = event.reason ?? '';
  if (FINAL_REASONS.has(reason)) {
    return refused(`the server ended the subscription (${reason})`);
  }
  if (RESUBSCRIBE_AT_ONCE.has(reason) || reason === '') {
    return subscribeAfresh(policy, 0);
  }
  // probation, giveup, or a reason RFC 6665 leaves to us: later, as the server asks.
  const attempt = state.kind === 'backoff' || state.kind === 'subscribing' ? state.attempt : 0;
  return backoff(
    policy,
    attempt,
    `the server ended the subscription (${reason})`,
    event.retryAfter !== undefined ? event.retryAfter * 1000 : undefined,
  );
}

/** A Subscription-State header (RFC 6665 §8.2.3), or undefined where it is not one. */
export function parseSubscriptionState(header: string | undefined): NotifiedState | undefined {
  const [value, ...params] = (header ?? '').split(';').map((p) => p.trim());
  const state = value?.toLowerCase();
  if (state !== 'active' && state !== 'pending' && state !== 'terminated') {
    return undefined;
  }
  const parsed: NotifiedState = { state };
  for (const p of params) {
    const [name = '', raw = ''] = p.split('=').map((s) => s.trim());
    const n = Number(raw);
    if (name.toLowerCase() === 'expires' && /^\d{1,9}$/.test(raw)) {
      parsed.expires = n;
    } else if (name.toLowerCase() === 'retry-after' && /^\d{1,9}$/.test(raw)) {
      parsed.retryAfter = n;
    } else if (name.toLowerCase() === 'reason' && raw !== '') {
      parsed.reason = raw.toLowerCase();
    }
  }
  return parsed;
}
