import { assertNever } from '../core/errors.js';

/**
 * The REGISTER client of one account as a pure machine: `transition(state, event)` returns the next
 * state and the effects for the runner (service/sip/registrar-client.ts) to carry out.
 *
 * Policy: refresh at half the granted expiry; retry with exponential backoff (1 s doubling to 300 s)
 * while the registrar is unreachable or refuses us; a second challenge for the same REGISTER that is
 * not marked stale means the credentials are wrong.
 */
export type RegistrationStatus = 'unregistered' | 'registering' | 'registered' | 'failed';

export type RegistrationState =
  | { kind: 'idle' }
  | { kind: 'registering'; attempt: number; authSent: boolean; refreshing: boolean }
  | { kind: 'registered'; expires: number }
  | { kind: 'backoff'; attempt: number; reason: string }
  | { kind: 'unregistering'; authSent: boolean }
  | { kind: 'stopped' };

export type RegistrationEvent =
  | { type: 'start' }
  | { type: 'stop' }
  | {
      type: 'response';
      status: number;
      grantedExpires?: number;
      usableChallenge?: boolean;
      stale?: boolean;
      /** Why our own stack could not reach the registrar (a 503 it made up): a TLS certificate, say. */
      localFailure?: string;
    }
  | { type: 'refresh-due' }
  | { type: 'retry-due' }
  /**
   * The head unit slept (suspend to RAM while the car was parked): timers stood still, the registrar's
   * binding has likely expired and the network address may have changed.
   */
  | { type: 'woke-up' }
  /**
   * A keep-alive (keep-alive.ts) went unanswered, or showed that the NAT before the registrar maps us
   * to another public address than the one registered: the registrar can no longer reach us.
   */
  | { type: 'flow-lost' }
  /**
   * A keep-alive's answer shows that the NAT maps us to another public address than the one registered:
   * the registrar is there, and its binding must follow, without the line seeming to lose service.
   */
  | { type: 'rebound' }
  /**
   * The head unit's own address changed (a handover, a modem's new address): the binding must follow
   * to the new Contact at once, and a REGISTER on its way went from the old address, whose answer will
   * not come.
   */
  | { type: 'moved' };

export type RegistrationEffect =
  | { type: 'send-register'; expires: number; withAuth: boolean }
  | { type: 'set-timer'; timer: 'refresh' | 'retry'; ms: number }
  | { type: 'clear-timers' }
  | { type: 'status'; status: RegistrationStatus; reason: string };

export interface RegistrationPolicy {
  requestedExpires: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export const defaultPolicy: Omit<RegistrationPolicy, 'requestedExpires'> = {
  backoffBaseMs: 1000,
  backoffMaxMs: 300_000,
};

export type Step = [RegistrationState, RegistrationEffect[]];

export function backoffMs(policy: RegistrationPolicy, attempt: number): number {
  return Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** Math.min(attempt, 20));
}

function describeFailure(status: number, localFailure?: string): string {
  if (status === 401 || status === 407) {
    return 'authentication rejected: wrong user name or password';
  }
  if (status === 403) {
    return 'registration forbidden by the registrar (403)';
  }
  if (status === 408 || status === 503) {
    return `registrar unreachable (${status}${localFailure ? `: ${localFailure}` : ''})`;
  }
  if (status === 423) {
    return 'registrar asks for a longer expiry (423)';
  }
  return `registrar answered ${status}`;
}

function goBackoff(policy: RegistrationPolicy, attempt: number, status: number, localFailure?: string): Step {
  const reason = describeFailure(status, localFailure);
  return [
    { kind: 'backoff', attempt: attempt + 1, reason },
    [
      { type: 'clear-timers' },
      { type: 'status', status: 'failed', reason },
      { type: 'set-timer', timer: 'retry', ms: backoffMs(policy, attempt) },
    ],
  ];
}

function sendFresh(policy: RegistrationPolicy, attempt: number, refreshing: boolean): Step {
  const effects: RegistrationEffect[] = [
    { type: 'send-register', expires: policy.requestedExpires, withAuth: false },
  ];
  if (!refreshing) {
    effects.unshift({ type: 'status', status: 'registering', reason: '' });
  }
  return [{ kind: 'registering', attempt, authSent: false, refreshing }, effects];
}

export function transition(
  policy: RegistrationPolicy,
  state: RegistrationState,
  event: RegistrationEvent,
): Step {
  switch (event.type) {
    case 'start':
      if (state.kind === 'idle' || state.kind === 'stopped') {
        return sendFresh(policy, 0, false);
      }
      return [state, []];
    case 'stop':
      if (state.kind === 'registered' || (state.kind === 'registering' && state.refreshing)) {
        return [
          { kind: 'unregistering', authSent: false },
          [{ type: 'clear-timers' }, { type: 'send-register', expires: 0, withAuth: false }],
        ];
      }
      if (state.kind === 'unregistering' || state.kind === 'stopped') {
        return [state, []];
      }
      return [
        { kind: 'stopped' },
        [{ type: 'clear-timers' }, { type: 'status', status: 'unregistered', reason: 'stopped' }],
      ];
    case 'refresh-due':
      if (state.kind === 'registered') {
        return sendFresh(policy, 0, true);
      }
      return [state, []];
    case 'retry-due':
      if (state.kind === 'backoff') {
        return sendFresh(policy, state.attempt, false);
      }
      return [state, []];
    case 'woke-up':
    case 'flow-lost':
      // Registered afresh at once, not at the refresh time the sleep pushed hours away or that would
      // leave the car unreachable until then; a line waiting to retry tries now (the network it failed
      // on is likely another).
      if (state.kind === 'registered' || state.kind === 'backoff') {
        const [next, effects] = sendFresh(policy, state.kind === 'backoff' ? state.attempt : 0, false);
        return [next, [{ type: 'clear-timers' }, ...effects]];
      }
      return [state, []];
    case 'moved':
      if (state.kind === 'registering') {
        return [
          { ...state, authSent: false },
          [{ type: 'send-register', expires: policy.requestedExpires, withAuth: false }],
        ];
      }
      // Waiting to retry, it tries now, from the new network; registered, it refreshes without seeming
      // to lose service, as for a NAT's new mapping.
      return transition(policy, state, { type: state.kind === 'backoff' ? 'woke-up' : 'rebound' });
    case 'rebound':
      if (state.kind === 'registered') {
        const [next, effects] = sendFresh(policy, 0, true);
        return [next, [{ type: 'clear-timers' }, ...effects]];
      }
      return [state, []];
    case 'response':
      return onResponse(policy, state, event);
    default:
      return assertNever(event);
  }
}

function onResponse(
  policy: RegistrationPolicy,
  state: RegistrationState,
  event: Extract<RegistrationEvent, { type: 'response' }>,
): Step {
  const { status } = event;
  if (status < 200) {
    return [state, []];
  }
  const challenged = (status === 401 || status === 407) && event.usableChallenge === true;
  if (state.kind === 'unregistering') {
    if (challenged && (!state.authSent || event.stale === true)) {
      return [
        { kind: 'unregistering', authSent: true },
        [{ type: 'send-register', expires: 0, withAuth: true }],
      ];
    }
    return [{ kind: 'stopped' }, [{ type: 'status', status: 'unregistered', reason: 'stopped' }]];
  }
  if (state.kind !== 'registering') {
    return [state, []];
  }
  if (status >= 200 && status < 300) {
    const expires = event.grantedExpires ?? policy.requestedExpires;
    if (expires <= 0) {
      return goBackoff(policy, state.attempt, 500);
    }
    return [
      { kind: 'registered', expires },
      [
        { type: 'clear-timers' },
        { type: 'status', status: 'registered', reason: '' },
        { type: 'set-timer', timer: 'refresh', ms: (expires * 1000) / 2 },
      ],
    ];
  }
  if (challenged && (!state.authSent || event.stale === true)) {
    return [
      { ...state, authSent: true },
      [{ type: 'send-register', expires: policy.requestedExpires, withAuth: true }],
    ];
  }
  return goBackoff(policy, state.attempt, status, event.localFailure);
}
