import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { waitFor } from './process.js';

export interface BareRequest {
  method: 'INVITE' | 'NOTIFY' | 'OPTIONS' | 'MESSAGE';
  /** Header lines beyond Via, Max-Forwards, From, To, Call-ID, CSeq and Content-Length, each ending in CRLF. */
  headers?: string;
  body?: string;
  /** A To tag: the request claims a dialog. */
  toTag?: string;
  /** The source address (any of 127.0.0.0/8 on loopback): who the line sees the request come from. */
  from?: string;
}

/**
 * A request sent to a line at `sipAddress` (host:port) from a bare UDP socket, as a voicemail server
 * notifying every registered line or a SIP scanner would; resolves with the status line of the first
 * answer (a provisional one for an INVITE).
 */
export async function sendBareRequest(sipAddress: string, rq: BareRequest): Promise<string> {
  const [host = '', port = ''] = sipAddress.split(':');
  const source = rq.from ?? '127.0.0.1';
  const socket = createSocket('udp4');
  const replies: string[] = [];
  socket.on('message', (m) => replies.push(m.toString()));
  await new Promise<void>((r) => socket.bind(0, source, () => r()));
  const local = socket.address().port;
  const body = rq.body ?? '';
  const request =
    `${rq.method} sip:1000@${sipAddress} SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP ${source}:${local};branch=z9hG4bK${randomBytes(6).toString('hex')}\r\n` +
    `Max-Forwards: 70\r\nFrom: <sip:someone@${source}>;tag=${randomBytes(3).toString('hex')}\r\n` +
    `To: <sip:1000@${sipAddress}>${rq.toTag ? `;tag=${rq.toTag}` : ''}\r\n` +
    `Call-ID: ${randomBytes(8).toString('hex')}@bare\r\nCSeq: 1 ${rq.method}\r\n` +
    `Contact: <sip:someone@${source}:${local}>\r\n${rq.headers ?? ''}` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  socket.send(request, Number(port), host);
  try {
    return (await waitFor('an answer', () => replies[0], 5000)).split('\r\n')[0] ?? '';
  } finally {
    socket.close();
  }
}

/**
 * A voicemail server's message-summary NOTIFY (RFC 3842) sent unasked to a line, as servers that notify
 * every registered line do. `type` gives another content type.
 */
export function sendSummaryNotify(
  sipAddress: string,
  body: string,
  opts: { toTag?: string; type?: string; from?: string } = {},
): Promise<string> {
  return sendBareRequest(sipAddress, {
    method: 'NOTIFY',
    headers:
      'Event: message-summary\r\nSubscription-State: active\r\n' +
      `Content-Type: ${opts.type ?? 'application/simple-message-summary'}\r\n`,
    body,
    ...(opts.toTag ? { toTag: opts.toTag } : {}),
    ...(opts.from ? { from: opts.from } : {}),
  });
}
