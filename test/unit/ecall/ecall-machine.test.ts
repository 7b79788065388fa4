import { describe, expect, it } from 'vitest';
import {
  stateName,
  transition,
  type EcallEvent,
  type EcallState,
  type Trigger,
} from '../../../service/ecall/ecall-machine.js';

const policy = { redialIntervalsMs: [0, 5000], callbackMs: 60_000 };
const crash: Trigger = { activation: 'automatic', test: false, at: 1000 };

function run(
  events: EcallEvent[],
  from: EcallState = { kind: 'idle' },
): { state: EcallState; effects: string[] } {
  let state = from;
  const effects: string[] = [];
  for (const e of events) {
    const [next, fx] = transition(policy, state, e);
    state = next;
    effects.push(
      ...fx.map((f) =>
        f.type === 'place-call'
          ? `place-call#${f.msdId}`
          : f.type === 'set-timer'
            ? `timer:${f.timer}:${f.ms}`
            : f.type,
      ),
    );
  }
  return { state, effects };
}

describe('eCall machine', () => {
  it('releases other calls and places the call with MSD identifier 1', () => {
    const r = run([{ type: 'trigger', trigger: crash }]);
    expect(r.effects).toEqual(['release-other-calls', 'place-call#1', 'changed']);
    expect(stateName(r.state)).toBe('calling');
  });

  it('ignores a second trigger during an eCall', () => {
    const r = run([
      { type: 'trigger', trigger: crash },
      { type: 'trigger', trigger: { ...crash, activation: 'manual' } },
    ]);
    expect(r.effects.filter((e) => e.startsWith('place-call'))).toEqual(['place-call#1']);
  });

  it('redials on failure with the next identifier, after the configured intervals, then gives up', () => {
    const r = run([
      { type: 'trigger', trigger: crash },
      { type: 'call-failed', reason: '503' },
      { type: 'redial-due' },
      { type: 'call-failed', reason: '503' },
      { type: 'redial-due' },
      { type: 'call-failed', reason: '408' },
    ]);
    expect(r.effects.filter((e) => e.startsWith('place-call') || e.startsWith('timer'))).toEqual([
      'place-call#1',
      'timer:redial:0',
      'place-call#2',
      'timer:redial:5000',
      'place-call#3',
    ]);
    expect(r.state).toMatchObject({ kind: 'failed' });
  });

  it('redials a call that drops after it was answered', () => {
    const r = run([
      { type: 'trigger', trigger: crash },
      { type: 'answered' },
      { type: 'call-failed', reason: 'network' },
      { type: 'redial-due' },
    ]);
    expect(r.state).toMatchObject({ kind: 'calling', attempt: 2, msdId: 2 });
  });

  it('counts a PSAP MSD request as a new MSD with the next identifier', () => {
    const r = run([
      { type: 'trigger', trigger: crash },
      { type: 'answered' },
      { type: 'acknowledged' },
      { type: 'msd-requested' },
    ]);
    expect(r.state).toMatchObject({ kind: 'active', msdId: 2, acknowledged: false });
    expect(r.effects).toContain('send-msd');
  });

  it("enters the callback window on the PSAP's clear-down, answers a call in it, and ends when it runs out", () => {
    const r = run([
      { type: 'trigger', trigger: crash },
      { type: 'answered' },
      { type: 'cleared-by-psap', now: 5000 },
      { type: 'incoming-call' },
    ]);
    expect(r.state).toEqual({ kind: 'callback', until: 65_000, answered: true });
    expect(r.effects).toContain('answer-incoming');
    expect(run([{ type: 'callback-ended', now: 70_000 }], r.state).state).toEqual({ kind: 'idle' });
    expect(run([{ type: 'callback-ended', now: 10_000 }], r.state).state).toMatchObject({
      kind: 'callback',
      answered: false,
    });
    const open = { kind: 'callback', until: 65_000, answered: false } as const;
    expect(run([{ type: 'callback-expired', until: 65_000 }], open).state).toEqual({ kind: 'idle' });
    // A timer left from an earlier callback period does not end a later one.
    expect(run([{ type: 'callback-expired', until: 10_000 }], open).state).toEqual(open);
  });

  it('resumes a persisted eCall by placing it again with the next identifier', () => {
    const r = run([{ type: 'resume', now: 0 }], {
      kind: 'active',
      trigger: crash,
      attempt: 1,
      msdId: 3,
      acknowledged: true,
    });
    expect(r.effects).toContain('place-call#4');
    expect(run([{ type: 'resume', now: 0 }], { kind: 'idle' }).effects).toEqual([]);
    expect(
      run([{ type: 'resume', now: 100 }], { kind: 'callback', until: 50, answered: false }).state,
    ).toEqual({ kind: 'idle' });
  });

  it('resumes a callback period for what is left of it, and for no more than one period when the wall clock went back', () => {
    const open = { kind: 'callback' as const, until: 70_000, answered: false };
    expect(run([{ type: 'resume', now: 40_000 }], open)).toMatchObject({
      state: { kind: 'callback', until: 70_000 },
      effects: ['timer:callback:30000', 'changed'],
    });
    // Saved in 2026, resumed on a clock that says 2000: the window closes one period from now.
    const year2000 = 946_684_800_000;
    const saved = { kind: 'callback' as const, until: 1_796_000_000_000, answered: true };
    expect(run([{ type: 'resume', now: year2000 }], saved)).toMatchObject({
      state: { kind: 'callback', until: year2000 + 60_000, answered: false },
      effects: ['timer:callback:60000', 'changed'],
    });
  });
});
