import { CarphoneError } from '../core/errors.js';
import { EMERGENCY_NUMBERS } from '../calls/manager.js';
import { lineIdentification, parseDialString, targetUri } from '../sip/dial-string.js';
import type { IncomingDecision } from '../sip/user-agent.js';

/**
 * oFono's CallForwarding for a line, done by the head unit itself: over SIP nobody forwards for it
 * unless a PBX or IMS application server is set up to. Numbers as Dial takes them; "" is off.
 */
export interface CallForwarding {
  /** Every call, without ringing (oFono's VoiceUnconditional). */
  unconditional: string;
  /** A call that would be refused as busy (VoiceBusy). */
  busy: string;
  /** A call not answered within noReplyTimeoutSeconds (VoiceNoReply). */
  noReply: string;
  /** 1-30 s (VoiceNoReplyTimeout); 20 unless set, as in GSM. */
  noReplyTimeoutSeconds: number;
}

export const NO_FORWARDING: CallForwarding = {
  unconditional: '',
  busy: '',
  noReply: '',
  noReplyTimeoutSeconds: 20,
};

export type ForwardingNumber = 'unconditional' | 'busy' | 'noReply';

/**
 * Where a call redirected to `number` goes (Deflect, forwarding), on a line in `domain`, and whether
 * that is an emergency number, which no call is sent to; a number Dial would not take throws.
 */
export function redirectTarget(number: string, domain: string): { uri: string; emergency: boolean } {
  const uri = targetUri(parseDialString(number), domain);
  return { uri, emergency: EMERGENCY_NUMBERS.includes(lineIdentification(uri)) };
}

/** A number calls may be forwarded to: "" (off), or what Dial takes, but never an emergency number. */
export function checkForwardingNumber(number: string): void {
  if (number !== '') {
    forwardingTarget(number, 'invalid');
  }
}

export function checkNoReplyTimeout(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 30) {
    throw new CarphoneError('INVALID_ARGUMENTS', 'VoiceNoReplyTimeout takes 1-30 seconds');
  }
}

/** Where a call forwarded to `number` goes, on a line in `domain`. */
export function forwardingTarget(number: string, domain: string): string {
  const { uri, emergency } = redirectTarget(number, domain);
  if (emergency) {
    throw new CarphoneError('INVALID_FORMAT', `calls are not forwarded to an emergency number (${number})`);
  }
  return uri;
}

/**
 * What becomes of a new call once forwarding is applied to what the line would do with it: every
 * call forwarded where unconditional forwarding is on, a busy one where forwarding on busy is. A PSAP
 * calling back after an eCall is never forwarded: the vehicle must be reached, not a mobile elsewhere.
 */
export function forwardedDecision(
  decision: IncomingDecision,
  forwarding: CallForwarding,
  emergencyCallback: boolean,
): IncomingDecision | { forwardTo: string } {
  if (emergencyCallback) {
    return decision;
  }
  if (forwarding.unconditional !== '') {
    return { forwardTo: forwarding.unconditional };
  }
  if (decision === 'busy' && forwarding.busy !== '') {
    return { forwardTo: forwarding.busy };
  }
  return decision;
}
