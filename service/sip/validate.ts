import * as sip from 'sip';

export const SUPPORTED_METHODS = [
  'INVITE',
  'ACK',
  'BYE',
  'CANCEL',
  'OPTIONS',
  'INFO',
  'REFER',
  'NOTIFY',
  'UPDATE',
  'PRACK',
  'MESSAGE',
] as const;

/**
 * The SIP extensions (option tags) a request may Require of carphone: Replaces (RFC 3891), session
 * timers (RFC 4028; a line configured without them refuses them itself) and reliable provisional
 * responses (RFC 3262). It takes no preconditions (RFC 3312), so a request that requires them is
 * refused rather than half-served.
 */
export const SUPPORTED_EXTENSIONS: readonly string[] = ['replaces', 'timer', '100rel'];

export interface RequestProblem {
  status: number;
  reason: string;
  extension?: Partial<sip.Response>;
}

/** Largest request carphone accepts; anything bigger is 513 (RFC 3261 §21.5.11). */
const MAX_REQUEST_BYTES = 16_384;

/**
 * Checks what the lenient `sip` parser lets through: it drops messages without Via/Call-ID/From/To/CSeq
 * itself, but passes a Content-Length that disagrees with the body, a CSeq whose method differs from the
 * request line, and arbitrarily large headers.
 */
export function validateRequest(rq: sip.Request): RequestProblem | undefined {
  if (rq.version !== '2.0') {
    return { status: 505, reason: 'Version Not Supported' };
  }
  if (!bodyMatchesLength(rq)) {
    return { status: 400, reason: 'Bad Request (Content-Length does not match the body)' };
  }
  const cseq = rq.headers.cseq;
  if (!cseq || !Number.isInteger(cseq.seq) || cseq.seq < 0 || cseq.seq > 2 ** 31 - 1) {
    return { status: 400, reason: 'Bad Request (invalid CSeq)' };
  }
  if (cseq.method !== rq.method) {
    return { status: 400, reason: 'Bad Request (CSeq method does not match the request)' };
  }
  // A name-addr the sip package could not take apart (a display name of UTF-8 left unquoted, which
  // RFC 3261 §25.1 does not allow) comes out as a "URI" of the name, with the tag lost.
  const isUri = (uri: string | undefined): boolean => /^(sips?|tel|urn):/i.test(uri ?? '');
  if (!isUri(rq.headers.from?.uri) || !isUri(rq.headers.to?.uri)) {
    return { status: 400, reason: 'Bad Request (From/To without a URI)' };
  }
  if (typeof rq.headers['call-id'] !== 'string' || rq.headers['call-id'].length > 256) {
    return { status: 400, reason: 'Bad Request (invalid Call-ID)' };
  }
  const branch = rq.headers.via?.[0]?.params.branch;
  if (typeof branch !== 'string' || branch.length === 0) {
    return { status: 400, reason: 'Bad Request (Via without a branch)' };
  }
  // Emergency calls are addressed to service URNs (RFC 5031), e.g. urn:service:sos.ecall.manual.
  if (!/^(sips?:|urn:service:)/i.test(typeof rq.uri === 'string' ? rq.uri : '')) {
    return { status: 416, reason: 'Unsupported URI Scheme' };
  }
  // A Route or Record-Route whose URI the sip package could not read is left without one, which would
  // throw wherever the request is written out again (its size, below; a response in its dialog).
  const routes = [...(rq.headers.route ?? []), ...(rq.headers['record-route'] ?? [])];
  if (routes.some((r) => (r.uri as unknown) === undefined || (r.uri as unknown) === null)) {
    return { status: 400, reason: 'Bad Request (Route or Record-Route without a readable URI)' };
  }
  if (messageText(rq).length > MAX_REQUEST_BYTES) {
    return { status: 513, reason: 'Message Too Large' };
  }
  const maxForwards = rq.headers['max-forwards'];
  if (maxForwards !== undefined && Number(maxForwards) <= 0 && rq.method !== 'ACK') {
    return { status: 483, reason: 'Too Many Hops' };
  }
  if (!(SUPPORTED_METHODS as readonly string[]).includes(rq.method)) {
    return {
      status: 405,
      reason: 'Method Not Allowed',
      extension: { headers: { allow: SUPPORTED_METHODS.join(', ') } },
    };
  }
  // RFC 3261 §8.2.2.3; never for ACK or CANCEL, which cannot be refused.
  const unsupported = optionTags(rq.headers.require).filter((t) => !SUPPORTED_EXTENSIONS.includes(t));
  if (unsupported.length > 0 && rq.method !== 'ACK' && rq.method !== 'CANCEL') {
    return {
      status: 420,
      reason: 'Bad Extension',
      extension: { headers: { unsupported: unsupported.join(', ') } },
    };
  }
  return undefined;
}

/** The option tags of a Require or Supported header, as the sip package joined them: "100rel, timer". */
export function optionTags(value: unknown): string[] {
  return typeof value === 'string'
    ? value
        .split(',')
        .map((t) => t.trim().toLowerCase())
        .filter((t) => t.length > 0)
    : [];
}

/**
 * Whether a message's body is as long as its Content-Length says (or it has none). Over UDP a shorter
 * body is a datagram cut short (RFC 3261 §18.3): a request gets 400, a response is discarded.
 */
export function bodyMatchesLength(m: sip.Message): boolean {
  const cl = m.headers['content-length'];
  return cl === undefined || (Number.isInteger(cl) && cl >= 0 && cl === (m.content ?? '').length);
}

/**
 * A message as text, leaving the message as it was: sip.stringify sets the Content-Length header of what
 * it is given to the body's length, which on a received request hid a Content-Length that disagrees
 * with the body from the check above.
 */
export function messageText(m: sip.Message): string {
  return sip.stringify({ ...m, headers: { ...m.headers } });
}
