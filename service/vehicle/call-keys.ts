import type { OfonoCallState } from '../calls/call-machine.js';
import type { ButtonName } from './bindings-schema.js';
import type { Press } from './button-machine.js';

/**
 * What a steering-wheel key does, given the calls there are: the context-dependent mapping production
 * cars use. Pure, so the whole table is tested without a car or a call.
 *
 *   phone, short   ringing → answer · waiting → hold and answer · in a call → hang up · idle → recents
 *   phone, long    ringing or waiting → reject · idle → voice assistant
 *   hang-up        ringing or waiting → reject · otherwise → hang up the active/outgoing call
 *   volume ±       speaker volume ±10 %
 *   mute           microphone mute on/off
 *   voice          voice assistant (an event for the HMI)
 */
export type KeyAction =
  | { type: 'answer'; call: string }
  | { type: 'hold-and-answer' }
  | { type: 'hangup'; call: string }
  | { type: 'volume'; delta: number }
  | { type: 'toggle-mute' }
  | { type: 'hmi'; request: 'recents' | 'voice-assistant' }
  | { type: 'none' };

export interface CallView {
  id: string;
  state: OfonoCallState;
}

export function keyAction(key: ButtonName, press: Press, calls: CallView[]): KeyAction {
  const find = (...states: OfonoCallState[]): CallView | undefined =>
    calls.find((c) => states.includes(c.state));
  const ringing = find('incoming');
  const waiting = find('waiting');
  const current = find('active', 'dialing', 'alerting') ?? find('held');
  switch (key) {
    case 'phone':
      if (press === 'long') {
        const reject = ringing ?? waiting;
        return reject ? { type: 'hangup', call: reject.id } : { type: 'hmi', request: 'voice-assistant' };
      }
      if (ringing) {
        return { type: 'answer', call: ringing.id };
      }
      if (waiting) {
        return { type: 'hold-and-answer' };
      }
      return current ? { type: 'hangup', call: current.id } : { type: 'hmi', request: 'recents' };
    case 'hangup': {
      const target = ringing ?? waiting ?? current;
      return target ? { type: 'hangup', call: target.id } : { type: 'none' };
    }
    case 'volumeUp':
      return { type: 'volume', delta: 10 };
    case 'volumeDown':
      return { type: 'volume', delta: -10 };
    case 'mute':
      return press === 'short' ? { type: 'toggle-mute' } : { type: 'none' };
    case 'voice':
      return { type: 'hmi', request: 'voice-assistant' };
  }
}
