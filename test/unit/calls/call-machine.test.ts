import { describe, expect, it } from 'vitest';
import {
  ofonoState,
  reasonForStatus,
  startIncoming,
  startOutgoing,
  transition,
  type CallEvent,
  type CallPhase,
  type CallEffect,
} from '../../../service/calls/call-machine.js';

/** Runs events through the machine from a start step; returns the final phase and every effect. */
function run(
  start: [CallPhase, CallEffect[]],
  ...events: CallEvent[]
): { phase: CallPhase; effects: CallEffect[] } {
  let [phase, effects] = start;
  const all = [...effects];
  for (const e of events) {
    [phase, effects] = transition(phase, e);
    all.push(...effects);
  }
  return { phase, effects: all };
}

const types = (fx: CallEffect[]): string[] => fx.map((f) => f.type);

describe('outgoing call', () => {
  it('remembers in the ended phase whether the call had been answered', () => {
    const answered = (...events: CallEvent[]): unknown => {
      const { phase } = run(startOutgoing(), ...events);
      return phase.phase === 'ended' ? (phase.answered ?? false) : 'not ended';
    };
    const ringing: CallEvent = { type: 'provisional', status: 180, earlyMedia: false };
    expect(answered(ringing, { type: 'final-success' }, { type: 'remote-bye' })).toBe(true);
    expect(answered(ringing, { type: 'final-success' }, { type: 'media-timeout' })).toBe(true);
    expect(answered(ringing, { type: 'final-success' }, { type: 'user-hangup' })).toBe(true);
    expect(answered(ringing, { type: 'final-failure', status: 486 })).toBe(false);
    expect(answered(ringing, { type: 'user-hangup' })).toBe(false);
  });

  it('goes dialing → alerting → active, ACKs the 2xx and starts two-way media', () => {
    const { phase, effects } = run(
      startOutgoing(),
      { type: 'provisional', status: 100, earlyMedia: false },
      { type: 'provisional', status: 180, earlyMedia: false },
      { type: 'final-success' },
    );
    expect(ofonoState(phase)).toBe('active');
    expect(types(effects)).toEqual(['changed', 'changed', 'send-ack', 'media', 'changed']);
    expect(effects).toContainEqual({ type: 'media', mode: { send: true, receive: true, cabin: true } });
  });

  it('plays early media from a 183 with SDP, receive-only', () => {
    const { phase, effects } = run(startOutgoing(), { type: 'provisional', status: 183, earlyMedia: true });
    expect(phase).toEqual({ phase: 'alerting', earlyMedia: true, ringing: false });
    expect(effects).toContainEqual({ type: 'media', mode: { send: false, receive: true } });
  });

  it('knows the far end rings from a 180, and keeps knowing it through later provisional responses', () => {
    const rung = run(
      startOutgoing(),
      { type: 'provisional', status: 183, earlyMedia: false },
      { type: 'provisional', status: 180, earlyMedia: false },
      { type: 'provisional', status: 183, earlyMedia: true },
    );
    expect(rung.phase).toEqual({ phase: 'alerting', earlyMedia: true, ringing: true });
  });

  it('maps final failures to oFono reasons: busy and decline are remote, timeouts and 5xx network', () => {
    expect(run(startOutgoing(), { type: 'final-failure', status: 486 }).effects).toContainEqual({
      type: 'ended',
      reason: 'remote',
      status: 486,
    });
    expect(reasonForStatus(603)).toBe('remote');
    expect(reasonForStatus(404)).toBe('remote');
    expect(reasonForStatus(408)).toBe('network');
    expect(reasonForStatus(503)).toBe('network');
    expect(reasonForStatus(302)).toBe('network');
  });

  it('waits for a provisional response before it CANCELs (RFC 3261 §9.1)', () => {
    const hungUp = run(startOutgoing(), { type: 'user-hangup' });
    expect(ofonoState(hungUp.phase)).toBe('disconnected');
    expect(types(hungUp.effects)).not.toContain('send-cancel');
    const [, fx] = transition(hungUp.phase, { type: 'provisional', status: 180, earlyMedia: false });
    expect(types(fx)).toEqual(['send-cancel']);
  });

  it('CANCELs at once when the far end is already ringing', () => {
    const { effects } = run(
      startOutgoing(),
      { type: 'provisional', status: 180, earlyMedia: false },
      { type: 'user-hangup' },
    );
    expect(types(effects)).toContain('send-cancel');
    expect(effects).toContainEqual({ type: 'ended', reason: 'local' });
  });

  it('ACKs and BYEs a 200 that crosses our CANCEL', () => {
    const { effects } = run(
      startOutgoing(),
      { type: 'provisional', status: 180, earlyMedia: false },
      { type: 'user-hangup' },
      { type: 'final-success' },
    );
    expect(types(effects).slice(-2)).toEqual(['send-ack', 'send-bye']);
  });

  it('re-sends the ACK for a retransmitted 2xx', () => {
    const active = run(startOutgoing(), { type: 'final-success' }).phase;
    expect(transition(active, { type: 'final-success' })[1]).toEqual([{ type: 'send-ack' }]);
  });
});

describe('incoming call', () => {
  it('rings with 180, and Answer sends 200 with two-way media', () => {
    const { phase, effects } = run(startIncoming(false), { type: 'user-answer' });
    expect(ofonoState(phase)).toBe('active');
    expect(types(effects)).toEqual(['send-ringing', 'changed', 'accept', 'media', 'changed']);
  });

  it("rejects a ringing call with 603 and a waiting one with 486 (oFono's UDUB)", () => {
    expect(run(startIncoming(false), { type: 'user-hangup' }).effects).toContainEqual({
      type: 'reject',
      status: 603,
    });
    expect(run(startIncoming(true), { type: 'user-hangup' }).effects).toContainEqual({
      type: 'reject',
      status: 486,
    });
  });

  it('deflects a ringing or waiting call with a redirect to the new number, and nothing else', () => {
    for (const waiting of [false, true]) {
      const { phase, effects } = run(startIncoming(waiting), { type: 'user-deflect', target: 'sip:2001@x' });
      expect(phase.phase).toBe('ended');
      expect(effects.slice(-3)).toEqual([
        { type: 'redirect', target: 'sip:2001@x' },
        expect.objectContaining({ type: 'media', mode: 'stop' }) as unknown,
        expect.objectContaining({ type: 'ended', reason: 'local' }) as unknown,
      ]);
    }
    const answered = run(startIncoming(false), { type: 'user-answer' });
    expect(transition(answered.phase, { type: 'user-deflect', target: 'sip:2001@x' })).toEqual([
      answered.phase,
      [],
    ]);
    expect(transition({ phase: 'dialing' }, { type: 'user-deflect', target: 'sip:2001@x' })).toEqual([
      { phase: 'dialing' },
      [],
    ]);
  });

  it("answers the caller's CANCEL with 487 and ends as remote", () => {
    const { effects } = run(startIncoming(false), { type: 'remote-cancel' });
    expect(effects).toContainEqual({ type: 'reject', status: 487 });
    expect(effects).toContainEqual({ type: 'ended', reason: 'remote' });
  });

  it('shows waiting, and becomes incoming when the manager says so', () => {
    const w = run(startIncoming(true));
    expect(ofonoState(w.phase)).toBe('waiting');
    const [p] = transition(w.phase, { type: 'set-waiting', waiting: false });
    expect(ofonoState(p)).toBe('incoming');
  });

  it('ends on a network timeout when no ACK arrives for its 200', () => {
    const { effects } = run(startIncoming(false), { type: 'user-answer' }, { type: 'ack-timeout' });
    expect(effects).toContainEqual({ type: 'ended', reason: 'network' });
    expect(types(effects)).toContain('send-bye');
  });
});

describe('hold', () => {
  const active = run(startOutgoing(), { type: 'final-success' }).phase;

  it('holds with a sendonly re-offer and becomes held when it is accepted; the microphone stops', () => {
    const [pending, fx] = transition(active, { type: 'user-hold' });
    expect(fx).toEqual([{ type: 'send-reinvite', direction: 'sendonly' }]);
    expect(ofonoState(pending)).toBe('active');
    const [held, fx2] = transition(pending, { type: 'reinvite-result', status: 200 });
    expect(ofonoState(held)).toBe('held');
    expect(fx2).toContainEqual({ type: 'media', mode: { send: false, receive: false, cabin: true } });
  });

  it('resumes with sendrecv', () => {
    const [p1] = transition(active, { type: 'user-hold' });
    const [held] = transition(p1, { type: 'reinvite-result', status: 200 });
    const [p2, fx] = transition(held, { type: 'user-resume' });
    expect(fx).toEqual([{ type: 'send-reinvite', direction: 'sendrecv' }]);
    expect(ofonoState(transition(p2, { type: 'reinvite-result', status: 200 })[0])).toBe('active');
  });

  it('stays active if the far end refuses the hold, and ends if it lost the dialog (481)', () => {
    const [pending] = transition(active, { type: 'user-hold' });
    expect(ofonoState(transition(pending, { type: 'reinvite-result', status: 488 })[0])).toBe('active');
    expect(ofonoState(transition(pending, { type: 'reinvite-result', status: 481 })[0])).toBe('disconnected');
  });

  it("accepts the far end's hold (sendonly) with recvonly, and offers inactive when both hold", () => {
    const [remoteHeld, fx] = transition(active, { type: 'remote-reoffer', direction: 'sendonly' });
    expect(fx[0]).toEqual({ type: 'accept-reoffer', wanted: 'recvonly' });
    expect(remoteHeld).toMatchObject({ remoteHold: true });
    const [, fx2] = transition(remoteHeld, { type: 'user-hold' });
    expect(fx2).toEqual([{ type: 'send-reinvite', direction: 'inactive' }]);
  });

  it('ignores a second hold while one is pending', () => {
    const [pending] = transition(active, { type: 'user-hold' });
    expect(transition(pending, { type: 'user-hold' })[1]).toEqual([]);
  });
});

describe('bridged hold (a held multiparty call)', () => {
  const active = run(startOutgoing(), { type: 'final-success' }).phase;
  const bridgedHold: CallEvent = { type: 'user-hold', bridged: true };

  it('is held at once without a re-INVITE: the far end still sends and hears, the cabin leaves', () => {
    const [held, fx] = transition(active, bridgedHold);
    expect(ofonoState(held)).toBe('held');
    expect(fx).toEqual([
      { type: 'media', mode: { send: true, receive: true, cabin: false } },
      { type: 'changed' },
    ]);
    const [resumed, fx2] = transition(held, { type: 'user-resume' });
    expect(ofonoState(resumed)).toBe('active');
    expect(fx2).toEqual([
      { type: 'media', mode: { send: true, receive: true, cabin: true } },
      { type: 'changed' },
    ]);
  });

  it('becomes a hold by re-INVITE when asked for one, staying held throughout', () => {
    const [bridged] = transition(active, bridgedHold);
    const [holding, fx] = transition(bridged, { type: 'user-hold' });
    expect(fx).toEqual([{ type: 'send-reinvite', direction: 'sendonly' }]);
    expect(ofonoState(holding)).toBe('held');
    const [held, fx2] = transition(holding, { type: 'reinvite-result', status: 200 });
    expect(held).toMatchObject({ localHold: true, bridgedHold: false });
    expect(fx2).toContainEqual({ type: 'media', mode: { send: false, receive: false, cabin: true } });
    // And resumes as any held call does.
    expect(transition(held, { type: 'user-resume' })[1]).toEqual([
      { type: 'send-reinvite', direction: 'sendrecv' },
    ]);
  });

  it('keeps the session as it is in a refresh and in the answer to a re-offer', () => {
    const [bridged] = transition(active, bridgedHold);
    expect(transition(bridged, { type: 'session-refresh-due' })[1]).toEqual([
      { type: 'send-reinvite', direction: 'sendrecv' },
    ]);
    const [remoteHeld, fx] = transition(bridged, { type: 'remote-reoffer', direction: 'sendonly' });
    expect(fx).toEqual([
      { type: 'accept-reoffer', wanted: 'recvonly' },
      { type: 'media', mode: { send: false, receive: true, cabin: false } },
      { type: 'changed' },
    ]);
    expect(ofonoState(remoteHeld)).toBe('held');
  });

  it('does nothing to a call already held by re-INVITE', () => {
    const held = run([active, []], { type: 'user-hold' }, { type: 'reinvite-result', status: 200 }).phase;
    expect(transition(held, bridgedHold)).toEqual([held, []]);
  });
});

describe('the head unit moving to a new address', () => {
  const active = run(startOutgoing(), { type: 'final-success' }).phase;
  const moved: CallEvent = { type: 'address-changed' };

  it('keeps an answered call and re-INVITEs its far end with the session as it is', () => {
    const [moving, fx] = transition(active, moved);
    expect(fx).toEqual([{ type: 'send-reinvite', direction: 'sendrecv' }]);
    expect(ofonoState(moving)).toBe('active');
    expect(transition(moving, { type: 'reinvite-result', status: 200 })).toEqual([active, []]);
    const held = run([active, []], { type: 'user-hold' }, { type: 'reinvite-result', status: 200 }).phase;
    expect(transition(held, moved)[1]).toEqual([{ type: 'send-reinvite', direction: 'sendonly' }]);
  });

  it('sends a hold that was on its way again, from the new address, and holds on its answer', () => {
    const { phase, effects } = run([active, []], { type: 'user-hold' }, moved);
    expect(effects.filter((f) => f.type === 'send-reinvite')).toEqual([
      { type: 'send-reinvite', direction: 'sendonly' },
      { type: 'send-reinvite', direction: 'sendonly' },
    ]);
    expect(ofonoState(transition(phase, { type: 'reinvite-result', status: 200 })[0])).toBe('held');
    const resumed = run([active, []], { type: 'user-hold' }, { type: 'reinvite-result', status: 200 });
    const { effects: again } = run([resumed.phase, []], { type: 'user-resume' }, moved);
    expect(again.filter((f) => f.type === 'send-reinvite').at(-1)).toEqual({
      type: 'send-reinvite',
      direction: 'sendrecv',
    });
  });

  it('ends a call not yet answered as a network loss, CANCELling one the far end rings for', () => {
    const alerting = run(startOutgoing(), { type: 'provisional', status: 180, earlyMedia: false }).phase;
    const [gone, fx] = transition(alerting, moved);
    expect(gone).toMatchObject({ phase: 'ended', reason: 'network' });
    expect(types(fx)).toEqual(['send-cancel', 'media', 'ended']);
    expect(types(transition(startOutgoing()[0], moved)[1])).toEqual(['media', 'ended']);
    const [missed, fx2] = transition(startIncoming(false)[0], moved);
    expect(missed).toMatchObject({ phase: 'ended', reason: 'network' });
    expect(types(fx2)).toEqual(['media', 'ended']);
    const over = transition(active, { type: 'remote-bye' })[0];
    expect(transition(over, moved)).toEqual([over, []]);
  });
});

describe('session refresh (RFC 4028)', () => {
  const active = run(startOutgoing(), { type: 'final-success' }).phase;

  it('refreshes with a re-INVITE of the session as it is, and nothing changes on the 2xx', () => {
    const [refreshing, fx] = transition(active, { type: 'session-refresh-due' });
    expect(fx).toEqual([{ type: 'send-reinvite', direction: 'sendrecv' }]);
    const [after, fx2] = transition(refreshing, { type: 'reinvite-result', status: 200 });
    expect(after).toEqual(active);
    expect(fx2).toEqual([]);
    const held = run([active, []], { type: 'user-hold' }, { type: 'reinvite-result', status: 200 }).phase;
    expect(transition(held, { type: 'session-refresh-due' })[1]).toEqual([
      { type: 'send-reinvite', direction: 'sendonly' },
    ]);
  });

  it('sends a hold asked for during a refresh once the refresh is answered, whatever its answer', () => {
    for (const status of [200, 491]) {
      const { phase, effects } = run(
        [active, []],
        { type: 'session-refresh-due' },
        { type: 'user-hold' },
        { type: 'reinvite-result', status },
      );
      expect(effects.filter((f) => f.type === 'send-reinvite')).toEqual([
        { type: 'send-reinvite', direction: 'sendrecv' },
        { type: 'send-reinvite', direction: 'sendonly' },
      ]);
      expect(ofonoState(transition(phase, { type: 'reinvite-result', status: 200 })[0])).toBe('held');
    }
    // Held and resumed again before the refresh came back: nothing to send.
    const { effects } = run(
      [active, []],
      { type: 'session-refresh-due' },
      { type: 'user-hold' },
      { type: 'user-resume' },
      { type: 'reinvite-result', status: 200 },
    );
    expect(effects.filter((f) => f.type === 'send-reinvite')).toHaveLength(1);
  });

  it('leaves the refresh to a hold on its way, and ends the call if the far end lost it', () => {
    const [holding] = transition(active, { type: 'user-hold' });
    expect(transition(holding, { type: 'session-refresh-due' })[1]).toEqual([]);
    const [refreshing] = transition(active, { type: 'session-refresh-due' });
    const [gone, fx] = transition(refreshing, { type: 'reinvite-result', status: 481 });
    expect(ofonoState(gone)).toBe('disconnected');
    expect(types(fx)).toContain('send-bye');
  });

  it('ends a call the far end stopped refreshing as a network drop, with a BYE', () => {
    const [ended, fx] = transition(active, { type: 'session-expired' });
    expect(ended).toMatchObject({ phase: 'ended', reason: 'network' });
    expect(types(fx)).toEqual(['send-bye', 'media', 'ended']);
    // Not before the call is established.
    expect(transition(startIncoming(false)[0], { type: 'session-expired' })[1]).toEqual([]);
  });
});

describe('after the end', () => {
  it('ignores everything a late peer or user sends', () => {
    const ended = run(startIncoming(false), { type: 'user-hangup' }).phase;
    for (const e of [
      { type: 'user-answer' },
      { type: 'remote-bye' },
      { type: 'user-hold' },
      { type: 'final-success' },
    ] as CallEvent[]) {
      expect(transition(ended, e)).toEqual([ended, []]);
    }
  });
});
