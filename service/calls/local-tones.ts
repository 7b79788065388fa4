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
/** How long the call-ended beeps play: three of them (tones.ts). */
export const CALL_ENDED_TONE_MS = 900;

/**
 * The tone a call plays for a moment after it ended, and for how long, as a phone's own tones do
 * where the network sends none:
 * - a call we placed that failed: busy where the far end was (486, 600) or declined (603);
 *   congestion where the number or the network failed (404, 408, 480, 484, 604, any 5xx);
 * - an answered call the far end hung up or the network lost, where it leaves the driver in no call:
 *   the call-ended beeps, so that a driver who did not end it learns it is over without a look at
 *   the screen (with another call still up, as after a transfer the far end asked for, that call's
 *   own sound says enough).
 * None for a call the driver ended.
 */
export function endingTone(
  { direction, phase }: ToneCall,
  othersLeft: boolean,
): { tone: 'busy' | 'congestion' | 'call-ended'; ms: number } | undefined {
  if (phase.phase !== 'ended' || phase.reason === 'local') {
    return undefined;
  }
  if (phase.answered) {
    return othersLeft ? undefined : { tone: 'call-ended', ms: CALL_ENDED_TONE_MS };
  }
  const status = phase.status;
  if (direction !== 'outgoing' || status === undefined) {
    return undefined;
  }
  if (status === 486 || status === 600 || status === 603) {
    return { tone: 'busy', ms: FAILURE_TONE_MS };
  }
  if ([404, 408, 480, 484, 604].includes(status) || (status >= 500 && status < 600)) {
    return { tone: 'congestion', ms: FAILURE_TONE_MS };
  }
  return undefined;
}
