import { describe, expect, it } from 'vitest';
import {
  parseSubscriptionState,
  transition,
  type SubscriptionEvent,
  type SubscriptionState,
} from '../../../service/sip/subscription.js';

const policy = { requestedExpires: 3600, backoffBaseMs: 1000, backoffMaxMs: 300_000 };

/** The state after `events` from idle, and the effects of the last one. */
function after(...events: SubscriptionEvent[]): [SubscriptionState, unknown[]] {
  let state: SubscriptionState = { kind: 'idle' };
  let effects: unknown[] = [];
  for (const e of events) {
    [state, effects] = transition(policy, state, e);
  }
  return [state, effects];
}

describe('subscription machine (RFC 6665)', () => {
  it('subscribes in a new dialog, answers one challenge, and refreshes within the dialog at half the granted expiry', () => {
    let [s, fx] = after({ type: 'start' });
    expect(fx).toContainEqual({ type: 'send-subscribe', expires: 3600, withAuth: false, newDialog: true });
    [s, fx] = transition(policy, s, { type: 'response', status: 407, usableChallenge: true });
    expect(fx).toEqual([{ type: 'send-subscribe', expires: 3600, withAuth: true, newDialog: false }]);
    [s, fx] = transition(policy, s, { type: 'response', status: 200, grantedExpires: 600 });
    expect(s).toEqual({ kind: 'active', expires: 600 });
    expect(fx).toContainEqual({ type: 'set-timer', timer: 'refresh', ms: 300_000 });
    expect(fx).toContainEqual({ type: 'status', status: 'subscribed', reason: '' });
    [, fx] = transition(policy, s, { type: 'refresh-due' });
    expect(fx).toEqual([{ type: 'send-subscribe', expires: 3600, withAuth: false, newDialog: false }]);
  });

  it('does not ask again a server that has no message summary for the line (489, 404, 405, 501, 403)', () => {
    for (const status of [403, 404, 405, 489, 501]) {
      const [s, fx] = after({ type: 'start' }, { type: 'response', status });
      expect(s).toEqual({ kind: 'refused' });
      expect(fx.some((e) => (e as { type: string }).type === 'set-timer')).toBe(false);
    }
  });

  it('backs off, doubling, from a server that cannot be reached or fails, and tries again when due', () => {
    let [s, fx] = after({ type: 'start' }, { type: 'response', status: 503 });
    expect(fx).toContainEqual({ type: 'set-timer', timer: 'retry', ms: 1000 });
    [s] = transition(policy, s, { type: 'retry-due' });
    [s, fx] = transition(policy, s, { type: 'response', status: 408 });
    expect(fx).toContainEqual({ type: 'set-timer', timer: 'retry', ms: 2000 });
    expect(s.kind).toBe('backoff');
  });

  it('gives up on a second challenge for the same SUBSCRIBE: the credentials are wrong', () => {
    const [s, fx] = after(
      { type: 'start' },
      { type: 'response', status: 401, usableChallenge: true },
      { type: 'response', status: 401, usableChallenge: true },
    );
    expect(s.kind).toBe('backoff');
    expect(fx).toContainEqual({
      type: 'status',
      status: 'failed',
      reason: 'authentication rejected: wrong user name or password',
    });
  });

  it('subscribes afresh when a refresh finds the subscription gone (481) or the server ends it as timed out', () => {
    const active = after({ type: 'start' }, { type: 'response', status: 200, grantedExpires: 60 })[0];
    let [, fx] = transition(policy, transition(policy, active, { type: 'refresh-due' })[0], {
      type: 'response',
      status: 481,
    });
    expect(fx).toContainEqual({ type: 'send-subscribe', expires: 3600, withAuth: false, newDialog: true });
    [, fx] = transition(policy, active, { type: 'notify', state: 'terminated', reason: 'timeout' });
    expect(fx).toContainEqual({ type: 'send-subscribe', expires: 3600, withAuth: false, newDialog: true });
  });

  it('waits as long as the server asks after probation, and stops for good when it rejects', () => {
    const active = after({ type: 'start' }, { type: 'response', status: 200, grantedExpires: 60 })[0];
    const [, later] = transition(policy, active, {
      type: 'notify',
      state: 'terminated',
      reason: 'probation',
      retryAfter: 90,
    });
    expect(later).toContainEqual({ type: 'set-timer', timer: 'retry', ms: 90_000 });
    const [gone] = transition(policy, active, { type: 'notify', state: 'terminated', reason: 'rejected' });
    expect(gone).toEqual({ kind: 'refused' });
  });

  it("takes a NOTIFY's shorter expiry for the refresh, and ends with an un-SUBSCRIBE in the dialog", () => {
    const active = after({ type: 'start' }, { type: 'response', status: 200, grantedExpires: 3600 })[0];
    let [s, fx] = transition(policy, active, { type: 'notify', state: 'active', expires: 100 });
    expect(fx).toContainEqual({ type: 'set-timer', timer: 'refresh', ms: 50_000 });
    [s, fx] = transition(policy, s, { type: 'stop' });
    expect(fx).toContainEqual({ type: 'send-subscribe', expires: 0, withAuth: false, newDialog: false });
    // The final NOTIFY the server sends for it changes nothing; the answer ends it.
    [s] = transition(policy, s, { type: 'notify', state: 'terminated', reason: 'timeout' });
    expect(s.kind).toBe('unsubscribing');
    [s] = transition(policy, s, { type: 'response', status: 200 });
    expect(s).toEqual({ kind: 'stopped' });
  });

  it('reads Subscription-State headers, and refuses what is not one', () => {
    expect(parseSubscriptionState('active;expires=600')).toEqual({ state: 'active', expires: 600 });
    expect(parseSubscriptionState('Terminated; reason=Probation; retry-after=30')).toEqual({
      state: 'terminated',
      reason: 'probation',
      retryAfter: 30,
    });
    expect(parseSubscriptionState('pending')).toEqual({ state: 'pending' });
    expect(parseSubscriptionState('sleeping')).toBeUndefined();
    expect(parseSubscriptionState(undefined)).toBeUndefined();
    expect(parseSubscriptionState('active;expires=soon')).toEqual({ state: 'active' });
  });
});
