import { describe, expect, it } from 'vitest';
import { seeded } from '../../../bench/jitter/traces.js';
import {
  ANSWERED,
  ofonoState,
  transition,
  type CallEvent,
  type CallPhase,
  type MediaMode,
} from '../../../service/calls/call-machine.js';

/** What a confirmed call can be asked or told, by the driver, the far end and its timers. */
const EVENTS: CallEvent[] = [
  { type: 'user-hold' },
  { type: 'user-hold', bridged: true },
  { type: 'user-resume' },
  { type: 'reinvite-result', status: 200 },
  { type: 'reinvite-result', status: 491 },
  { type: 'reinvite-result', status: 488 },
  { type: 'remote-reoffer', direction: 'sendonly' },
  { type: 'remote-reoffer', direction: 'inactive' },
  { type: 'remote-reoffer', direction: 'sendrecv' },
  { type: 'session-refresh-due' },
  { type: 'address-changed' },
];

describe('a confirmed call under random sequences of holds, resumes, re-offers, refreshes and moves', () => {
  it('keeps the media path as its phase says, one re-INVITE at a time, and never two holds at once', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rand = seeded(seed);
      let phase: CallPhase = ANSWERED;
      let media: MediaMode = transition(
        { phase: 'incoming', waiting: false },
        { type: 'user-answer' },
      )[1].find((f) => f.type === 'media')?.mode as MediaMode;
      const history: string[] = [];
      for (let step = 0; step < 60; step++) {
        const event = EVENTS[Math.floor(rand() * EVENTS.length)] as CallEvent;
        const before = phase;
        const [next, effects] = transition(phase, event);
        history.push(JSON.stringify(event));
        for (const f of effects) {
          if (f.type === 'media') {
            media = f.mode;
          }
        }
        phase = next;
        const where = `seed ${seed}, after ${history.join(' ')}`;
        expect(phase.phase, where).toBe('confirmed');
        if (phase.phase !== 'confirmed' || before.phase !== 'confirmed') {
          break;
        }
        expect(phase.localHold && phase.bridgedHold, where).toBe(false);
        expect(ofonoState(phase), where).toBe(phase.localHold || phase.bridgedHold ? 'held' : 'active');
        expect(media, where).toEqual({
          send: !phase.localHold && !phase.remoteHold,
          receive: !phase.localHold,
          cabin: !phase.bridgedHold,
        });
        const reinvites = effects.filter((f) => f.type === 'send-reinvite').length;
        expect(reinvites, where).toBeLessThanOrEqual(1);
        if (reinvites === 1) {
          // Sent only when none was on its way, as the hold or resume queued behind a refresh, or again
          // from a new address (the one on its way went from the old one, and is lost).
          expect(
            before.pending === null ||
              (before.pending === 'refresh' && event.type === 'reinvite-result') ||
              event.type === 'address-changed',
            where,
          ).toBe(true);
          expect(phase.pending, where).not.toBeNull();
        }
      }
    }
  });
});
