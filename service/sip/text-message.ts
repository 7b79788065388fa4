import type * as sip from 'sip';
import { CarphoneError } from '../core/errors.js';
import { lineIdentification } from './dial-string.js';
import { SMS_CONTENT_TYPE } from '../sms/rp.js';
import { displayName, textFromWire, wireFromText } from './header-text.js';

/**
 * Text messages over SIP MESSAGE (RFC 3428), the IP network's SMS: what an incoming one says, what an
 * outgoing one may say, and the pure machine that sends one through a digest challenge.
 */

export const TEXT_PLAIN = 'text/plain';

/**
 * The most UTF-8 bytes of text an outgoing message carries. RFC 3428 §8 keeps a MESSAGE within 1300
 * bytes unless every hop is known to be congestion-controlled, which a line cannot know of the far
 * side's; 1000 leaves the rest for the headers, a proxy's Authorization included. That is still more
 * than six concatenated SMS of 160 characters.
 */
export const MAX_OUTGOING_TEXT_BYTES = 1000;

export interface ReceivedText {
  text: string;
  /** The sender's URI, from the From header. */
  sender: string;
  /** The number or SIP user, as a call from the sender would show it. */
  lineIdentification: string;
  /** The sender's display name, if any. */
  name: string;
  /** When the sender says it sent the message (its Date header), ms since the epoch; none if absent. */
  sentAt: number | undefined;
}

/** How a MESSAGE is answered: 200, or the status that says why it was refused. */
export interface TextAnswer {
  status: number;
  reason: string;
  headers?: Record<string, string>;
}

// Control characters other than tab and line feed, and the bidirectional overrides and isolates with
// which text can make a number read backwards.
// eslint-disable-next-line no-control-regex
const HIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Message text as a display shows it: line breaks as "\n", nothing invisible, no trailing blanks. */
export function readableText(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(HIDDEN, '').trimEnd();
}

/** The charset a text/plain Content-Type names (RFC 2046: us-ascii if none; UTF-8 decodes that too). */
function charsetOf(contentType: string): string {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType);
  return (m?.[1] ?? 'utf-8').toLowerCase();
}

const DECODABLE_CHARSETS = new Set(['utf-8', 'utf8', 'us-ascii', 'ascii']);

/** An incoming MESSAGE as text for the driver, or why it is refused (the status to answer with). */
export function readIncomingText(rq: sip.Request): ReceivedText | TextAnswer {
  const contentType = String(rq.headers['content-type'] ?? '');
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (type !== TEXT_PLAIN || !DECODABLE_CHARSETS.has(charsetOf(contentType))) {
    return {
      status: 415,
      reason: 'Unsupported Media Type',
      // SMS relayed over IP is taken too (service/daemon/line-messages.ts reads it before this).
      headers: { accept: `${TEXT_PLAIN}, ${SMS_CONTENT_TYPE}`, 'accept-encoding': 'identity' },
    };
  }
  if (rq.headers['content-encoding'] !== undefined) {
    return { status: 415, reason: 'Unsupported Media Type (no content coding)' };
  }
  // Its size is bounded already: a request over 16 KiB was refused 513 before it got here (validate.ts).
  const text = readableText(textFromWire(rq.content ?? ''));
  if (text.trim() === '') {
    return { status: 400, reason: 'Bad Request (no text)' };
  }
  const from = rq.headers.from;
  const sender = typeof from?.uri === 'string' ? from.uri : '';
  const date = typeof rq.headers.date === 'string' ? Date.parse(rq.headers.date) : Number.NaN;
  return {
    text,
    sender,
    lineIdentification: lineIdentification(sender),
    name: displayName(from?.name),
    sentAt: Number.isFinite(date) ? date : undefined,
  };
}

/** Checks text the driver sends and returns it as the sip package writes bodies (UTF-8 as binary). */
export function outgoingBody(text: string): string {
  if (text.trim() === '') {
    throw new CarphoneError('INVALID_FORMAT', 'a text message needs some text');
  }
  const body = wireFromText(text);
  if (body.length > MAX_OUTGOING_TEXT_BYTES) {
    throw new CarphoneError(
      'INVALID_FORMAT',
      `a text message holds at most ${MAX_OUTGOING_TEXT_BYTES} bytes of UTF-8; this one has ${body.length}`,
    );
  }
  return body;
}

// The sending of one MESSAGE, as a pure machine: it is sent, a digest challenge is answered once (again
// only if the server says the nonce went stale), and the first other final response decides.

/**
 * Final responses that say the failure passes, so that the same text may be sent again a little later:
 * no answer in time (408, also when carphone gave up waiting), a server error or overload (500, 503,
 * also when the line was down) and a gateway timeout (504). Any other one is the recipient's or the
 * network's answer to this text, which sending it again would not change.
 */
const PASSING_FAILURES: readonly number[] = [408, 500, 503, 504];

export type DeliveryState =
  | { kind: 'sending'; authSent: boolean }
  | { kind: 'sent' }
  | { kind: 'failed'; reason: string; retryable: boolean };

export type DeliveryEvent = {
  type: 'response';
  status: number;
  reason: string;
  /** A 401/407 whose challenge the credentials can answer. */
  usableChallenge: boolean;
  stale: boolean;
};

export type DeliveryEffect =
  | { type: 'send'; withAuth: boolean }
  | { type: 'finished'; outcome: 'sent' | 'failed'; reason: string; retryable: boolean };

export const START_DELIVERY: [DeliveryState, DeliveryEffect[]] = [
  { kind: 'sending', authSent: false },
  [{ type: 'send', withAuth: false }],
];

export function deliveryTransition(
  state: DeliveryState,
  event: DeliveryEvent,
): [DeliveryState, DeliveryEffect[]] {
  if (state.kind !== 'sending' || event.status < 200) {
    return [state, []];
  }
  if (event.status < 300) {
    return [{ kind: 'sent' }, [{ type: 'finished', outcome: 'sent', reason: '', retryable: false }]];
  }
  const challenged = event.status === 401 || event.status === 407;
  if (challenged && event.usableChallenge && (!state.authSent || event.stale)) {
    return [{ kind: 'sending', authSent: true }, [{ type: 'send', withAuth: true }]];
  }
  const reason = `${event.status} ${event.reason}`.trim();
  const retryable = PASSING_FAILURES.includes(event.status);
  return [
    { kind: 'failed', reason, retryable },
    [{ type: 'finished', outcome: 'failed', reason, retryable }],
  ];
}
