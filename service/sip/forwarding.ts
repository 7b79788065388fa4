import type * as sip from 'sip';
import { lineIdentification } from './dial-string.js';

/**
 * Why the network forwarded a call: the call-forwarding conditions of TS 22.082 (the ones
 * CallForwarding sets), "deflection" where the called phone sent it on while ringing, "unknown" where
 * the network does not say.
 */
export type ForwardingReason =
  'unconditional' | 'busy' | 'no-reply' | 'not-reachable' | 'deflection' | 'unknown';

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

interface AddressEntry {
  uri: string;
  /** The URI's own parameters (inside <>), lower-cased names. */
  uriParams: Map<string, string>;
  /** The header parameters (after >), lower-cased names. */
  params: Map<string, string>;
}

/**
 * The entries of a header that lists name-addrs, as the sip package hands a header it does not know:
 * every occurrence joined with commas. A comma inside quotes or <> does not split.
 */
export function addressEntries(value: unknown): AddressEntry[] {
  if (typeof value !== 'string') {
    return [];
  }
  const entries: string[] = [];
  let current = '';
  let quoted = false;
  let angled = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i] ?? '';
    if (quoted && c === '\\') {
      current += c + (value[++i] ?? '');
      continue;
    }
    if (c === '"' && !angled) {
      quoted = !quoted;
    } else if (!quoted && c === '<') {
      angled = true;
    } else if (!quoted && c === '>') {
      angled = false;
    } else if (!quoted && !angled && c === ',') {
      entries.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  entries.push(current);
  return entries.flatMap((entry) => {
    const m = /<([^>]*)>(.*)$/s.exec(entry);
    if (!m) {
      return [];
    }
    const inside = m[1] ?? '';
    const uri = inside.split('?')[0] ?? '';
    return [
      { uri, uriParams: params(uri.split(';').slice(1)), params: params((m[2] ?? '').split(';').slice(1)) },
    ];
  });
}

function params(parts: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of parts) {
    const [name = '', ...value] = part.split('=');
    if (name.trim()) {
      out.set(
        name.trim().toLowerCase(),
        value
          .join('=')
          .trim()
          .replace(/^"(.*)"$/, '$1'),
      );
    }
  }
  return out;
}

/** The number of a SIP or tel URI, its parameters left off. */
function numberOf(uri: string): string {
  const bare = uri.split(';')[0] ?? '';
  return /^tel:/i.test(bare) ? bare.slice(4) : lineIdentification(uri);
}

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
    from: called ? numberOf(called.uri) : '',
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
    from: numberOf(called.uri),
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
