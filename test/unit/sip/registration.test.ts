import { describe, expect, it } from 'vitest';
import {
  backoffMs,
  defaultPolicy,
  transition,
  type RegistrationState,
} from '../../../service/sip/registration.js';

const policy = { ...defaultPolicy, requestedExpires: 600 };

describe('registration machine', () => {
  it('starts by sending an unauthenticated REGISTER and reporting "registering"', () => {
    const [s, fx] = transition(policy, { kind: 'idle' }, { type: 'start' });
    expect(s).toEqual({ kind: 'registering', attempt: 0, authSent: false, refreshing: false });
    expect(fx).toEqual([
      { type: 'status', status: 'registering', reason: '' },
      { type: 'send-register', expires: 600, withAuth: false },
    ]);
  });

  it('answers a challenge once with credentials, then registers and schedules the refresh at half the granted expiry', () => {
    let [s] = transition(policy, { kind: 'idle' }, { type: 'start' });
    let fx;
    [s, fx] = transition(policy, s, { type: 'response', status: 401, usableChallenge: true });
    expect(fx).toEqual([{ type: 'send-register', expires: 600, withAuth: true }]);
    [s, fx] = transition(policy, s, { type: 'response', status: 200, grantedExpires: 120 });
    expect(s).toEqual({ kind: 'registered', expires: 120 });
    expect(fx).toContainEqual({ type: 'set-timer', timer: 'refresh', ms: 60_000 });
    expect(fx).toContainEqual({ type: 'status', status: 'registered', reason: '' });
  });

  it('takes a second non-stale challenge as wrong credentials and backs off', () => {
    let [s] = transition(policy, { kind: 'idle' }, { type: 'start' });
    [s] = transition(policy, s, { type: 'response', status: 401, usableChallenge: true });
    const [next, fx] = transition(policy, s, { type: 'response', status: 401, usableChallenge: true });
    expect(next).toMatchObject({ kind: 'backoff', attempt: 1 });
    expect(fx).toContainEqual({
      type: 'status',
      status: 'failed',
      reason: 'authentication rejected: wrong user name or password',
    });
    expect(fx).toContainEqual({ type: 'set-timer', timer: 'retry', ms: 1000 });
  });

  it('answers a stale challenge again instead of failing', () => {
    let [s] = transition(policy, { kind: 'idle' }, { type: 'start' });
    [s] = transition(policy, s, { type: 'response', status: 407, usableChallenge: true });
    const [next, fx] = transition(policy, s, {
      type: 'response',
      status: 407,
      usableChallenge: true,
      stale: true,
    });
    expect(next.kind).toBe('registering');
    expect(fx).toEqual([{ type: 'send-register', expires: 600, withAuth: true }]);
  });

  it('retries an unreachable registrar with exponential backoff capped at five minutes', () => {
    let s: RegistrationState = { kind: 'idle' };
    const delays: number[] = [];
    [s] = transition(policy, s, { type: 'start' });
    for (let i = 0; i < 12; i++) {
      const [next, fx] = transition(policy, s, { type: 'response', status: 408 });
      const timer = fx.find((f) => f.type === 'set-timer');
      delays.push(timer && timer.type === 'set-timer' ? timer.ms : -1);
      [s] = transition(policy, next, { type: 'retry-due' });
    }
    expect(delays.slice(0, 5)).toEqual([1000, 2000, 4000, 8000, 16000]);
    expect(Math.max(...delays)).toBe(300_000);
    expect(backoffMs(policy, 40)).toBe(300_000);
  });

  it('says why its own stack could not reach the registrar (a TLS certificate, a refused connection)', () => {
    const [s] = transition(policy, { kind: 'idle' }, { type: 'start' });
    const [, fx] = transition(policy, s, {
      type: 'response',
      status: 503,
      localFailure: 'self-signed certificate',
    });
    expect(fx).toContainEqual({
      type: 'status',
      status: 'failed',
      reason: 'registrar unreachable (503: self-signed certificate)',
    });
    const [, remote] = transition(policy, s, { type: 'response', status: 503 });
    expect(remote).toContainEqual({
      type: 'status',
      status: 'failed',
      reason: 'registrar unreachable (503)',
    });
  });

  it('refreshes silently: no "registering" status while the old registration still holds', () => {
    const [s, fx] = transition(policy, { kind: 'registered', expires: 600 }, { type: 'refresh-due' });
    expect(s).toMatchObject({ kind: 'registering', refreshing: true });
    expect(fx).toEqual([{ type: 'send-register', expires: 600, withAuth: false }]);
  });

  it('un-registers with expires 0 on stop, authenticating if challenged, and ends stopped', () => {
    let [s, fx] = transition(policy, { kind: 'registered', expires: 600 }, { type: 'stop' });
    expect(fx).toContainEqual({ type: 'send-register', expires: 0, withAuth: false });
    [s, fx] = transition(policy, s, { type: 'response', status: 401, usableChallenge: true });
    expect(fx).toEqual([{ type: 'send-register', expires: 0, withAuth: true }]);
    [s, fx] = transition(policy, s, { type: 'response', status: 200 });
    expect(s).toEqual({ kind: 'stopped' });
    expect(fx).toEqual([{ type: 'status', status: 'unregistered', reason: 'stopped' }]);
  });

  it('stops at once, without a REGISTER, when it was never registered', () => {
    const [s, fx] = transition(policy, { kind: 'backoff', attempt: 3, reason: 'x' }, { type: 'stop' });
    expect(s).toEqual({ kind: 'stopped' });
    expect(fx.some((f) => f.type === 'send-register')).toBe(false);
  });

  it.each(['woke-up', 'flow-lost'] as const)(
    'registers afresh at once on %s (slept, or a keep-alive lost), instead of at the refresh time',
    (type) => {
      const registered: RegistrationState = { kind: 'registered', expires: 3600 };
      const [s, fx] = transition(policy, registered, { type });
      expect(s).toEqual({ kind: 'registering', attempt: 0, authSent: false, refreshing: false });
      expect(fx).toEqual([
        { type: 'clear-timers' },
        { type: 'status', status: 'registering', reason: '' },
        { type: 'send-register', expires: 600, withAuth: false },
      ]);
    },
  );

  it('refreshes at once on a rebinding without showing the line as registering, and only while registered', () => {
    const registered: RegistrationState = { kind: 'registered', expires: 3600 };
    const [s, fx] = transition(policy, registered, { type: 'rebound' });
    expect(s).toEqual({ kind: 'registering', attempt: 0, authSent: false, refreshing: true });
    expect(fx).toEqual([{ type: 'clear-timers' }, { type: 'send-register', expires: 600, withAuth: false }]);
    const backoff: RegistrationState = { kind: 'backoff', attempt: 2, reason: 'x' };
    expect(transition(policy, backoff, { type: 'rebound' })).toEqual([backoff, []]);
  });

  it('registers the new Contact at once when the line moves, whatever its REGISTER was doing', () => {
    const moved = { type: 'moved' } as const;
    const [s, fx] = transition(policy, { kind: 'registered', expires: 3600 }, moved);
    expect(s).toEqual({ kind: 'registering', attempt: 0, authSent: false, refreshing: true });
    expect(fx).toEqual([{ type: 'clear-timers' }, { type: 'send-register', expires: 600, withAuth: false }]);
    // The REGISTER on its way (challenged and answered, say) went from the old address: sent again.
    const onItsWay: RegistrationState = {
      kind: 'registering',
      attempt: 1,
      authSent: true,
      refreshing: false,
    };
    expect(transition(policy, onItsWay, moved)).toEqual([
      { ...onItsWay, authSent: false },
      [{ type: 'send-register', expires: 600, withAuth: false }],
    ]);
    const [retrying, fx2] = transition(policy, { kind: 'backoff', attempt: 3, reason: 'x' }, moved);
    expect(retrying).toMatchObject({ kind: 'registering', attempt: 3 });
    expect(fx2).toContainEqual({ type: 'send-register', expires: 600, withAuth: false });
    for (const still of [{ kind: 'idle' }, { kind: 'stopped' }] as RegistrationState[]) {
      expect(transition(policy, still, moved)).toEqual([still, []]);
    }
  });

  it('retries at once on waking when it was waiting to retry, keeping its backoff count', () => {
    const [s, fx] = transition(policy, { kind: 'backoff', attempt: 4, reason: 'x' }, { type: 'woke-up' });
    expect(s).toMatchObject({ kind: 'registering', attempt: 4 });
    expect(fx[0]).toEqual({ type: 'clear-timers' });
    expect(fx).toContainEqual({ type: 'send-register', expires: 600, withAuth: false });
  });

  it('lets a REGISTER already under way, an un-registration or a stopped line be on waking', () => {
    for (const state of [
      { kind: 'registering', attempt: 0, authSent: true, refreshing: false },
      { kind: 'unregistering', authSent: false },
      { kind: 'stopped' },
      { kind: 'idle' },
    ] as RegistrationState[]) {
      expect(transition(policy, state, { type: 'woke-up' })).toEqual([state, []]);
    }
  });

  it('ignores provisional responses and stray timer events', () => {
    const reg: RegistrationState = { kind: 'registering', attempt: 0, authSent: false, refreshing: false };
    expect(transition(policy, reg, { type: 'response', status: 100 })).toEqual([reg, []]);
    expect(transition(policy, reg, { type: 'refresh-due' })).toEqual([reg, []]);
    expect(transition(policy, { kind: 'registered', expires: 60 }, { type: 'retry-due' })[1]).toEqual([]);
  });
});
