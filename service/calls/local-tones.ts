import type { LocalTone } from '../media/tones.js';
import type { CallPhase } from './call-machine.js';

export interface ToneCall {
  id: string;
  direction: 'incoming' | 'outgoing';
  phase: CallPhase;
}

/**
 * Which tone each of a line's calls plays into the cabin, from the calls' phases alone:
 * - a call we placed whose far end rings (180) plays ringback (RFC 3960 §3; the media session gives
 *   way to early media when the far end sends its own);
 * - a call ringing with nothing else going on plays the ringtone;
 * - while a call waits, the first call the driver is talking in plays the call-waiting tone over it,
 *   the only way to learn of the second call without looking away from the road; where the driver
 *   talks in none (every other call on hold), the waiting call rings as any incoming call would.
 * A call on hold, ended or dialling plays none. Calls not in the result play none.
 */
export function localTones(calls: readonly ToneCall[]): Map<string, LocalTone> {
  const tones = new Map<string, LocalTone>();
  const waiting = calls.filter((c) => c.phase.phase === 'incoming' && c.phase.waiting);
  let waitingToneGiven = false;
  for (const { id, direction, phase } of calls) {
    switch (phase.phase) {
      case 'alerting':
        if (direction === 'outgoing' && phase.ringing) {
          tones.set(id, 'ringback');
        }
        break;
      case 'incoming':
        if (!phase.waiting) {
          tones.set(id, 'ringtone');
        }
        break;
      case 'confirmed':
        if (waiting.length > 0 && !waitingToneGiven && !phase.localHold && !phase.bridgedHold) {
          tones.set(id, 'call-waiting');
          waitingToneGiven = true;
        }
        break;
      case 'dialing':
      case 'ended':
        break;
    }
  }
  if (!waitingToneGiven) {
    waiting.forEach((c) => tones.set(c.id, 'ringtone'));
  }
  return tones;
}
