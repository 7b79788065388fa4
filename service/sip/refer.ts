import type * as sip from 'sip';

/** Where a REFER sends us (RFC 3515 §2.1), and the dialog the new call is to replace, if any. */
export interface ReferTarget {
  uri: string;
  /** The Replaces header the INVITE must carry (RFC 3891): an attended transfer (RFC 5589 §7). */
  replaces?: string;
}

const MAX_URI_LENGTH = 512;

/**
 * The target of a REFER from its Refer-To header, as the sip package parsed it: a sip: or sips: URI,
 * with any headers it embeds (`?Replaces=…`) taken off and only Replaces kept: a far end may not make
 * the car send headers of its choosing. A problem is returned, not thrown: it becomes a 400's reason.
 */
export function referTarget(header: unknown): ReferTarget | { problem: string } {
  const uri =
    typeof header === 'object' && header !== null ? (header as Partial<sip.NameAddr>).uri : undefined;
  if (typeof uri !== 'string' || uri.length === 0) {
    return { problem: 'no Refer-To' };
  }
  if (uri.length > MAX_URI_LENGTH) {
    return { problem: 'Refer-To too long' };
  }
  const [base = '', embedded] = uri.split('?', 2);
  if (!/^sips?:[^\s<>"]+$/i.test(base)) {
    return { problem: 'Refer-To is not a sip: or sips: URI' };
  }
  let replaces: string | undefined;
  for (const pair of embedded?.split('&') ?? []) {
    const [name = '', value = ''] = pair.split('=', 2);
    if (name.toLowerCase() === 'replaces') {
      try {
        replaces = decodeURIComponent(value);
      } catch {
        return { problem: 'Refer-To has a Replaces that is not URI-escaped text' };
      }
      // call-id;to-tag=…;from-tag=… (RFC 3891 §6.1), nothing that could end the header early.
      if (!/^[^;\s]+(;[\w.!%*+`'~-]+(=[\w.!%*+`'~-]+)?)+$/.test(replaces)) {
        return { problem: 'Refer-To has a malformed Replaces' };
      }
    }
  }
  return { uri: base, ...(replaces !== undefined ? { replaces } : {}) };
}

/** A Replaces header (RFC 3891 §6.1): the dialog an INVITE is to take the place of. */
export interface Replaces {
  callId: string;
  toTag: string;
  fromTag: string;
  earlyOnly: boolean;
}

/** Parses a Replaces header's value; undefined when it is not one (no Call-ID, a tag missing). */
export function parseReplaces(value: unknown): Replaces | undefined {
  if (typeof value !== 'string' || value.length > 512) {
    return undefined;
  }
  const [callId = '', ...params] = value.split(';').map((p) => p.trim());
  const param = (name: string): string | undefined =>
    params.find((p) => p.toLowerCase().startsWith(`${name}=`))?.slice(name.length + 1);
  const toTag = param('to-tag');
  const fromTag = param('from-tag');
  if (!callId || /\s/.test(callId) || !toTag || !fromTag) {
    return undefined;
  }
  return { callId, toTag, fromTag, earlyOnly: params.some((p) => p.toLowerCase() === 'early-only') };
}

/** RFC 3261 §21's reason phrases for the statuses a transfer ends with most; others say "Failed". */
const REASONS: Record<number, string> = {
  100: 'Trying',
  200: 'OK',
  404: 'Not Found',
  408: 'Request Timeout',
  480: 'Temporarily Unavailable',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  500: 'Server Internal Error',
  503: 'Service Unavailable',
  600: 'Busy Everywhere',
  603: 'Decline',
};

/** A NOTIFY body of the refer event package: the status line of the new call's INVITE (RFC 3515 §2.4.5). */
export function sipfrag(status: number): string {
  return `SIP/2.0 ${status} ${REASONS[status] ?? 'Failed'}\r\n`;
}
