import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../service/core/clock.js';
import { CallManager, formatStartTime, type CallDriver } from '../../../service/calls/manager.js';
import { silentLogger } from '../../../service/log/logger.js';
import type { UaCallInfo } from '../../../service/sip/user-agent.js';
import { ANSWERED, type CallPhase } from '../../../service/calls/call-machine.js';
import { entryFor } from '../../../service/history/call-history.js';

/** A driver that records what the manager asked of it and lets the test play the network. */
function setup(): {
  clock: ManualClock;
  manager: CallManager;
  actions: string[];
  add: (id: string, phase: CallPhase, dir?: 'incoming' | 'outgoing') => void;
  change: (id: string, phase: CallPhase) => void;
  end: (id: string) => void;
} {
  const clock = new ManualClock(Date.UTC(2026, 10, 24, 12, 0, 0));
  const manager = new CallManager(clock, silentLogger);
  const actions: string[] = [];
  const infos = new Map<string, UaCallInfo>();
  const info = (id: string, phase: CallPhase, direction: 'incoming' | 'outgoing'): UaCallInfo => ({
    id,
    direction,
    remoteUri: `sip:${id}@x`,
    lineIdentification: id,
    name: '',
    phase,
  });
  const driver: CallDriver = {
    dial: (uri) => {
      actions.push(`dial ${uri}`);
      const i = info(uri, { phase: 'dialing' }, 'outgoing');
      infos.set(uri, i);
      manager.onCallAdded(i);
      return Promise.resolve(i);
    },
    act: (id, e) => actions.push(`${e.type}${e.type === 'user-hold' && e.bridged ? ' bridged' : ''} ${id}`),
    setWaiting: (id, w) => actions.push(`waiting=${String(w)} ${id}`),
    sendTones: (id, tones) => {
      actions.push(`tones ${tones} ${id}`);
      return Promise.resolve();
    },
    setMultiparty: (ids) => actions.push(`mix [${ids.join(',')}]`),
    transfer: (heldId, activeId) => {
      actions.push(`transfer ${heldId} to ${activeId}`);
      return Promise.resolve();
    },
  };
  manager.attach(driver);
  return {
    clock,
    manager,
    actions,
    add: (id, phase, dir = 'incoming') => {
      const i = info(id, phase, dir);
      infos.set(id, i);
      manager.onCallAdded(i);
    },
    change: (id, phase) => manager.onCallChanged({ ...(infos.get(id) as UaCallInfo), phase }),
    end: (id) =>
      manager.onCallEnded(
        { ...(infos.get(id) as UaCallInfo), phase: { phase: 'ended', reason: 'remote', cancel: 'none' } },
        'remote',
        undefined,
      ),
  };
}

const active: CallPhase = ANSWERED;
const held: CallPhase = { ...ANSWERED, localHold: true };
const bridged: CallPhase = { ...active, bridgedHold: true };

describe('CallManager (oFono call rules)', () => {
  it('makes a new call waiting while another call exists, and busy while one is already ringing', () => {
    const t = setup();
    expect(t.manager.decideIncoming()).toBe('incoming');
    t.add('a', active);
    expect(t.manager.decideIncoming()).toBe('waiting');
    t.add('b', { phase: 'incoming', waiting: true });
    expect(t.manager.decideIncoming()).toBe('busy');
  });

  it('puts the active call on hold when the driver dials a second one', async () => {
    const t = setup();
    t.add('a', active);
    await t.manager.dial('2002', 'sip:2002@x');
    expect(t.actions).toEqual(['user-hold a', 'dial sip:2002@x']);
  });

  it('refuses to dial while a call rings or when active and held calls both exist', async () => {
    const t = setup();
    t.add('r', { phase: 'incoming', waiting: false });
    await expect(t.manager.dial('1', 'sip:1@x')).rejects.toMatchObject({ code: 'FAILED' });
    const u = setup();
    u.add('a', active);
    u.add('h', held);
    await expect(u.manager.dial('1', 'sip:1@x')).rejects.toMatchObject({ code: 'FAILED' });
  });

  it('HoldAndAnswer holds the active call and answers the waiting one', () => {
    const t = setup();
    t.add('a', active);
    t.add('w', { phase: 'incoming', waiting: true });
    t.manager.holdAndAnswer();
    expect(t.actions).toEqual(['user-hold a', 'waiting=false w', 'user-answer w']);
  });

  it('ReleaseAndAnswer ends the active call and answers the waiting one', () => {
    const t = setup();
    t.add('a', active);
    t.add('w', { phase: 'incoming', waiting: true });
    t.manager.releaseAndAnswer();
    expect(t.actions).toEqual(['user-hangup a', 'waiting=false w', 'user-answer w']);
  });

  it('HangupAll leaves a waiting call alone', () => {
    const t = setup();
    t.add('a', active);
    t.add('h', held);
    t.add('w', { phase: 'incoming', waiting: true });
    t.manager.hangupAll();
    expect(t.actions).toEqual(['user-hangup a', 'user-hangup h']);
  });

  it('SwapCalls holds the active and resumes the held call', () => {
    const t = setup();
    t.add('a', active);
    t.add('h', held);
    t.manager.swapCalls();
    expect(t.actions).toEqual(['user-hold a', 'user-resume h']);
    expect(() => setup().manager.swapCalls()).toThrow(/no active or held call/);
  });

  it('turns a waiting call into an incoming one when the only other call ends', () => {
    const t = setup();
    t.add('a', active);
    t.add('w', { phase: 'incoming', waiting: true });
    t.manager.onCallEnded(
      {
        id: 'a',
        direction: 'outgoing',
        remoteUri: '',
        lineIdentification: 'a',
        name: '',
        phase: { phase: 'ended', reason: 'remote', cancel: 'none' },
      },
      'remote',
      undefined,
    );
    expect(t.actions).toEqual(['waiting=false w']);
  });

  it('emits DisconnectReason before the State change, then removes the call', () => {
    const t = setup();
    const order: string[] = [];
    t.manager.events.on('disconnect-reason', (_r, reason) => order.push(`reason ${reason}`));
    t.manager.events.on('changed', (r, keys) => order.push(`changed ${keys.join()} ${r.props.State}`));
    t.manager.events.on('removed', () => order.push('removed'));
    t.add('a', active);
    t.manager.onCallEnded(
      {
        id: 'a',
        direction: 'incoming',
        remoteUri: '',
        lineIdentification: 'a',
        name: '',
        phase: { phase: 'ended', reason: 'local', cancel: 'none' },
      },
      'local',
      undefined,
    );
    expect(order).toEqual(['reason local', 'changed State disconnected', 'removed']);
    expect(t.manager.calls()).toEqual([]);
  });

  it("stamps StartTime once, on the first entry to active, in oFono's format", () => {
    const t = setup();
    t.add('o', { phase: 'dialing' }, 'outgoing');
    t.change('o', active);
    const first = t.manager.get('o')?.props.StartTime;
    expect(first).toBe('2026-11-24T12:00:00+0000');
    t.change('o', held);
    t.change('o', active);
    expect(t.manager.get('o')?.props.StartTime).toBe(first);
    expect(formatStartTime(Date.UTC(2027, 0, 2, 3, 4, 5))).toBe('2027-01-02T03:04:05+0000');
  });

  it('logs the talk time of a call during which the wall clock was set a year back', () => {
    const t = setup();
    const logged: ReturnType<typeof entryFor>[] = [];
    t.manager.events.on('removed', (rec, reason) => logged.push(entryFor('sip0', rec, reason)));
    t.add('o', { phase: 'dialing' }, 'outgoing');
    t.clock.advance(5_000);
    t.change('o', active);
    t.clock.setWallClock(t.clock.now() - 365 * 24 * 3600_000);
    t.clock.advance(42_000);
    t.manager.onCallEnded(
      {
        id: 'o',
        direction: 'outgoing',
        remoteUri: '',
        lineIdentification: 'o',
        name: '',
        phase: { phase: 'ended', reason: 'local', cancel: 'none' },
      },
      'local',
      undefined,
    );
    expect(logged).toMatchObject([
      { kind: 'outgoing', duration: 42, startedAt: Date.UTC(2026, 10, 24, 12, 0, 0) },
    ]);
  });

  it('marks calls to 112 and 911 as emergency calls', async () => {
    const t = setup();
    const rec = await t.manager.dial('112', 'sip:112@x');
    expect(rec.props.Emergency).toBe(true);
  });
});

describe('CallManager multiparty calls (CreateMultiparty, PrivateChat, HangupMultiparty)', () => {
  const multiparty = (t: ReturnType<typeof setup>): string[] => t.manager.multipartyCalls().map((c) => c.id);
  /** An active 'a' and a held 'b' joined, both active again, and what the driver was asked so far forgotten. */
  const joinedPair = (): ReturnType<typeof setup> => {
    const t = setup();
    t.add('a', active);
    t.add('b', held);
    t.manager.createMultiparty();
    t.change('b', active);
    t.actions.length = 0;
    return t;
  };

  it('joins an active and a held call into one: the held one is resumed and both are mixed', () => {
    const t = setup();
    const changes: string[] = [];
    t.manager.events.on('changed', (rec, keys) => changes.push(`${rec.id}:${keys.join(',')}`));
    t.add('a', held);
    t.add('b', active);
    const joined = t.manager.createMultiparty().map((c) => c.id);
    expect(joined).toEqual(['a', 'b']);
    expect(t.actions).toEqual(['user-resume a', 'mix [a,b]']);
    expect(changes).toEqual(['a:Multiparty', 'b:Multiparty']);
    expect(t.manager.get('a')?.props.Multiparty).toBe(true);
  });

  it('refuses to join without both an active and a held call, and leaves the calls as they were', () => {
    const t = setup();
    t.add('a', active);
    expect(() => t.manager.createMultiparty()).toThrow(/active call and a held one/);
    t.add('w', { phase: 'incoming', waiting: true });
    expect(() => t.manager.createMultiparty()).toThrow(/active call and a held one/);
    expect(t.actions).toEqual([]);
    expect(multiparty(t)).toEqual([]);
  });

  it('adds a further held call to an active multiparty call, up to five parties', () => {
    const t = setup();
    t.add('a', active);
    t.add('b', held);
    t.manager.createMultiparty();
    t.change('b', active);
    for (const id of ['c', 'd', 'e']) {
      // The multiparty call is held while the next party is called, then joined with it.
      t.change('a', held);
      t.change('b', held);
      for (const m of ['c', 'd', 'e'].slice(0, ['c', 'd', 'e'].indexOf(id))) {
        t.change(m, held);
      }
      t.add(id, active, 'outgoing');
      t.manager.createMultiparty();
      for (const m of multiparty(t)) {
        t.change(m, active);
      }
    }
    expect(multiparty(t)).toEqual(['a', 'b', 'c', 'd', 'e']);
    t.manager.swapCalls();
    for (const m of multiparty(t)) {
      t.change(m, held);
    }
    t.add('f', active, 'outgoing');
    expect(() => t.manager.createMultiparty()).toThrow(/at most 5 other parties/);
    expect(multiparty(t)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('splits a party out for a private chat: it stays active, the rest is held and stays joined', () => {
    const t = setup();
    for (const id of ['a', 'b', 'c']) {
      t.add(id, active);
    }
    t.change('c', held);
    t.manager.createMultiparty();
    t.change('c', active);
    t.actions.length = 0;
    const rest = t.manager.privateChat('b').map((c) => c.id);
    expect(rest).toEqual(['a', 'c']);
    // Held together, the two go on talking with each other: held on the head unit only.
    expect(t.actions).toEqual(['mix [a,c]', 'user-hold bridged a', 'user-hold bridged c']);
    expect(t.manager.get('b')?.props.Multiparty).toBe(false);
  });

  it('ends the multiparty call when a private chat leaves one party on each side', () => {
    const t = joinedPair();
    expect(t.manager.privateChat('a')).toEqual([]);
    expect(t.actions).toEqual(['mix []', 'user-hold b']);
    expect(multiparty(t)).toEqual([]);
  });

  it('refuses a private chat with a call outside the multiparty call, or while a call is held', () => {
    const t = setup();
    t.add('a', active);
    t.add('b', held);
    expect(() => t.manager.privateChat('a')).toThrow(/not part of a multiparty call/);
    t.manager.createMultiparty();
    // 'b' is still held until its re-INVITE is answered.
    expect(() => t.manager.privateChat('a')).toThrow(/no held call/);
  });

  it('holds the multiparty call on the head unit only when a call is dialled, so its parties go on talking', async () => {
    const t = joinedPair();
    await t.manager.dial('2004', 'sip:2004@x');
    expect(t.actions).toEqual(['user-hold bridged a', 'user-hold bridged b', 'dial sip:2004@x']);
  });

  it('SwapCalls holds the multiparty call on the head unit only and a plain call by re-INVITE', () => {
    const t = joinedPair();
    t.add('c', held);
    t.manager.swapCalls();
    expect(t.actions).toEqual(['user-hold bridged a', 'user-hold bridged b', 'user-resume c']);
    t.actions.length = 0;
    t.change('a', bridged);
    t.change('b', bridged);
    t.change('c', active);
    t.manager.swapCalls();
    expect(t.actions).toEqual(['user-hold c', 'user-resume a', 'user-resume b']);
  });

  it('holds the party left on its own by re-INVITE when the other party of a held multiparty call hangs up', () => {
    const t = joinedPair();
    t.change('a', bridged);
    t.change('b', bridged);
    t.end('a');
    expect(t.actions).toEqual(['mix []', 'user-hold b']);
    expect(t.manager.get('b')?.props.Multiparty).toBe(false);
  });

  it('leaves a party on its own as a plain call when the other one hangs up', () => {
    const t = joinedPair();
    t.end('a');
    expect(t.actions).toEqual(['mix []']);
    expect(t.manager.get('b')?.props.Multiparty).toBe(false);
  });

  it('hangs up every party of the multiparty call and nothing else', () => {
    const t = setup();
    t.add('a', active);
    t.add('b', held);
    expect(() => t.manager.hangupMultiparty()).toThrow(/no multiparty call/);
    t.manager.createMultiparty();
    t.add('w', { phase: 'incoming', waiting: true });
    t.actions.length = 0;
    t.manager.hangupMultiparty();
    expect(t.actions).toEqual(['user-hangup a', 'user-hangup b']);
  });

  it('will not join an eCall with other calls', async () => {
    const t = setup();
    t.add('a', held);
    const uri = 'urn:service:sos.ecall.manual';
    await t.manager.dialEmergency('eCall', uri, { urn: uri, route: 'sip:psap@x', msd: new Uint8Array(1) });
    // The driver here does not end the other call as the line would: it is left held beside the eCall.
    t.change(uri, active);
    expect(() => t.manager.createMultiparty()).toThrow(/emergency call cannot be joined/);
    expect(multiparty(t)).toEqual([]);
  });
});

describe('CallManager transfers asked for by a far end (REFER)', () => {
  it('lets the far end of an active call transfer it, and dials the target as the driver would', async () => {
    const t = setup();
    t.add('a', active, 'outgoing');
    expect(t.manager.transferRefusal('a')).toBeUndefined();
    await t.manager.dial('2003', 'sip:2003@x', { transfer: { from: 'a' } });
    expect(t.actions).toEqual(['user-hold a', 'dial sip:2003@x']);
  });

  it('refuses while another call rings or is being dialled, and for an eCall', async () => {
    const t = setup();
    t.add('a', active);
    t.add('w', { phase: 'incoming', waiting: true });
    expect(t.manager.transferRefusal('a')).toMatch(/incoming or waiting/);
    const u = setup();
    const uri = 'urn:service:sos.ecall.manual';
    await u.manager.dialEmergency('eCall', uri, { urn: uri, route: 'sip:psap@x', msd: new Uint8Array(1) });
    u.change(uri, active);
    expect(u.manager.transferRefusal(uri)).toMatch(/eCall is not transferred/);
  });
});

describe('CallManager Transfer (explicit call transfer)', () => {
  it('hands the held call over to the active one', async () => {
    const t = setup();
    t.add('a', held);
    t.add('b', active);
    await t.manager.transfer();
    expect(t.actions).toEqual(['transfer a to b']);
  });

  it('refuses without exactly one active and one held call, or with a multiparty call', async () => {
    const t = setup();
    t.add('a', active);
    await expect(t.manager.transfer()).rejects.toThrow(/one active call with one held call/);
    t.add('b', held);
    t.add('c', held);
    await expect(t.manager.transfer()).rejects.toThrow(/one active call with one held call/);
    expect(t.actions).toEqual([]);
  });
});
