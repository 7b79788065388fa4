import { describe, expect, it } from 'vitest';
import { ANSWERED, type CallPhase } from '../../../service/calls/call-machine.js';
import { endingTone, localTones, type ToneCall } from '../../../service/calls/local-tones.js';

const talking: CallPhase = ANSWERED;
const held: CallPhase = { ...talking, localHold: true };
const waiting: CallPhase = { phase: 'incoming', waiting: true };

const call = (id: string, phase: CallPhase, direction: ToneCall['direction'] = 'incoming'): ToneCall => ({
  id,
  direction,
  phase,
});

const tones = (...calls: ToneCall[]): Record<string, string> => Object.fromEntries(localTones(calls));

describe('which tone each call plays into the cabin', () => {
  it('plays ringback once the far end of a call we placed rings, and not for a 183 alone or while dialling', () => {
    expect(tones(call('a', { phase: 'alerting', earlyMedia: false, ringing: true }, 'outgoing'))).toEqual({
      a: 'ringback',
    });
    expect(tones(call('a', { phase: 'alerting', earlyMedia: true, ringing: false }, 'outgoing'))).toEqual({});
    expect(tones(call('a', { phase: 'dialing' }, 'outgoing'))).toEqual({});
  });

  it('rings for an incoming call, and plays the call-waiting tone over the call being talked in while another waits', () => {
    expect(tones(call('a', { phase: 'incoming', waiting: false }))).toEqual({ a: 'ringtone' });
    expect(tones(call('a', talking), call('b', waiting))).toEqual({ a: 'call-waiting' });
    expect(tones(call('a', talking))).toEqual({});
  });

  it('plays the call-waiting tone over the call not on hold, and once only in a multiparty call', () => {
    expect(tones(call('a', held), call('b', talking), call('c', waiting))).toEqual({ b: 'call-waiting' });
    expect(tones(call('a', talking), call('b', talking), call('c', waiting))).toEqual({ a: 'call-waiting' });
  });

  it('rings for a waiting call where every other call is on hold, as nobody would hear a call-waiting tone', () => {
    expect(tones(call('a', held), call('b', waiting))).toEqual({ b: 'ringtone' });
    expect(tones(call('a', { ...talking, bridgedHold: true }), call('b', waiting))).toEqual({
      b: 'ringtone',
    });
  });

  it('plays nothing for ended calls', () => {
    expect(
      tones(call('a', { phase: 'ended', reason: 'remote', cancel: 'none' }), call('b', waiting)),
    ).toEqual({ b: 'ringtone' });
  });

  it('plays busy or congestion after a call we placed failed, by its status, and nothing after other ends', () => {
    const failed = (status: number | undefined, direction: ToneCall['direction'] = 'outgoing'): unknown =>
      endingTone(
        call(
          'a',
          { phase: 'ended', reason: 'remote', cancel: 'none', ...(status ? { status } : {}) },
          direction,
        ),
        false,
      )?.tone;
    expect([486, 600, 603].map((s) => failed(s))).toEqual(['busy', 'busy', 'busy']);
    expect([404, 408, 480, 484, 604, 500, 503].map((s) => failed(s))).toEqual(Array(7).fill('congestion'));
    expect([487, 401, 488, undefined].map((s) => failed(s))).toEqual(Array(4).fill(undefined));
    expect(failed(486, 'incoming')).toBeUndefined();
    expect(endingTone(call('a', talking, 'outgoing'), false)).toBeUndefined();
    expect(
      endingTone(
        call('a', { phase: 'ended', reason: 'remote', cancel: 'none', status: 486 }, 'outgoing'),
        false,
      ),
    ).toEqual({ tone: 'busy', ms: 3000 });
  });

  it('beeps when the far end or the network ended an answered call that leaves the driver in none', () => {
    const ended = (reason: 'local' | 'remote' | 'network', answered: boolean, othersLeft = false): unknown =>
      endingTone(
        call('a', { phase: 'ended', reason, cancel: 'none', ...(answered ? { answered: true } : {}) }),
        othersLeft,
      );
    expect(ended('remote', true)).toEqual({ tone: 'call-ended', ms: 900 });
    expect(ended('network', true)).toEqual({ tone: 'call-ended', ms: 900 });
    // The driver hung up; a caller gave up before the answer; another call is still up.
    expect(ended('local', true)).toBeUndefined();
    expect(ended('remote', false)).toBeUndefined();
    expect(ended('remote', true, true)).toBeUndefined();
  });
});
