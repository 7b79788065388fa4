import type * as sip from 'sip';
import { addressEntries } from './address-list.js';
import { lineIdentification } from './dial-string.js';

/**
 * Why the network forwarded a call: the call-forwarding conditions of TS 22.082 (the ones
 * CallForwarding sets), "deflection" where the called phone sent it on while ringing, "unknown" where
 * the network does not say.
 */
export const FORWARDING_REASONS = [
  'unconditional',
  'busy',
  'no-reply',
  'not-reachable',
  'deflection',
  'unknown',
] as const;
export type ForwardingReason = (typeof FORWARDING_REASONS)[number];

export function isForwardingReason(s: unknown): s is ForwardingReason {
  return (FORWARDING_REASONS as readonly unknown[]).includes(s);
}

/** A call the network forwarded, as an INVITE or the answers to one say. */
export interface Forwarding {
  reason: ForwardingReason;
  /** The number the caller called, which forwarded the call (incoming calls; '' where unsaid). */
  from: string;
}

/** RFC 4458's cause URI parameter, as TS 24.604 puts it in the History-Info entry of the new target. */
const CAUSE_REASONS: Record<string, ForwardingReason> = {
  '302': 'unconditional',
  '486': 'busy',
  '408': 'no-reply',
  '503': 'not-reachable',
  '487': 'deflection',
  '480': 'deflection',
};

/** RFC 5806's Diversion reasons. */
const DIVERSION_REASONS: Record<string, ForwardingReason> = {
  unconditional: 'unconditional',
  'user-busy': 'busy',
  'no-answer': 'no-reply',
  unavailable: 'not-reachable',
  'out-of-service': 'not-reachable',
  deflection: 'deflection',
};

/**
 * History-Info (RFC 7044) as TS 24.604 (CDIV) fills it: the first entry is the target the caller
 * called; an entry with an "mp" tag is a new target the call was forwarded to, its cause URI parameter
 * (RFC 4458) the reason. An "rc" entry is only the registrar finding the same user's device: not
 * forwarding.
 */
function fromHistoryInfo(value: unknown): Forwarding | undefined {
  const entries = addressEntries(value);
  const retargeted = entries.find((e) => e.params.has('mp'));
  if (!retargeted) {
    return undefined;
  }
  const called = entries.find((e) => e.params.get('index') === '1') ?? entries[0];
  return {
    reason: CAUSE_REASONS[retargeted.uriParams.get('cause') ?? ''] ?? 'unknown',
    from: called ? lineIdentification(called.uri) : '',
  };
}

/**
 * Diversion (RFC 5806), which many networks and PBXs still send instead: the topmost entry is the
 * last forwarding, the bottom one the number the caller called, with why it forwarded.
 */
function fromDiversion(value: unknown): Forwarding | undefined {
  const called = addressEntries(value).at(-1);
  if (!called) {
    return undefined;
  }
  return {
    reason: DIVERSION_REASONS[(called.params.get('reason') ?? '').toLowerCase()] ?? 'unknown',
    from: lineIdentification(called.uri),
  };
}

/** Whether, and how, an incoming INVITE was forwarded to us: History-Info first, else Diversion. */
export function incomingForwarding(headers: sip.Headers): Forwarding | undefined {
  return fromHistoryInfo(headers['history-info']) ?? fromDiversion(headers.diversion);
}

/**
 * Whether an answer to our INVITE says the call was forwarded: 181 Call Is Being Forwarded (RFC 3261
 * §21.1.3), or History-Info with a new target in a provisional or final answer (TS 24.604).
 */
export function answerForwarding(status: number, headers: sip.Headers): Forwarding | undefined {
  if (status <= 100 || status >= 300) {
    return undefined;
  }
  const history = fromHistoryInfo(headers['history-info']);
  if (history) {
    return { reason: history.reason, from: '' };
  }
  return status === 181 ? { reason: 'unknown', from: '' } : undefined;
}
