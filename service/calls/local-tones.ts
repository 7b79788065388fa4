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

/** How long the busy or congestion tone plays after a call we placed failed. */
export const FAILURE_TONE_MS = 3000;

/**
 * The tone a call we placed plays for a moment after it failed, as a phone's own busy tone does
 * where the network sends none: busy where the far end was (486, 600) or declined (603); congestion
 * where the number or the network failed (404, 408, 480, 484, 604, any 5xx). None for a call we
 * hung up or that was answered.
 */
export function failureTone({ direction, phase }: ToneCall): 'busy' | 'congestion' | undefined {
  if (direction !== 'outgoing' || phase.phase !== 'ended' || phase.status === undefined) {
    return undefined;
  }
  const status = phase.status;
  if (status === 486 || status === 600 || status === 603) {
    return 'busy';
  }
  if ([404, 408, 480, 484, 604].includes(status) || (status >= 500 && status < 600)) {
    return 'congestion';
  }
  return undefined;
}
