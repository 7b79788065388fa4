import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { waitFor } from './process.js';

/**
 * A voicemail server's message-summary NOTIFY (RFC 3842) sent unasked to a line at `sipAddress`
 * (host:port), from a bare socket, as servers that notify every registered line do; resolves with the
 * status line of the answer. `toTag` makes it claim a dialog; `type` another content type.
 */
export async function sendSummaryNotify(
  sipAddress: string,
  body: string,
  opts: { toTag?: string; type?: string } = {},
): Promise<string> {
  const [host = '', port = ''] = sipAddress.split(':');
  const socket = createSocket('udp4');
  const replies: string[] = [];
  socket.on('message', (m) => replies.push(m.toString()));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const local = socket.address().port;
  const request =
    `NOTIFY sip:voicemail-user@${sipAddress} SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${randomBytes(6).toString('hex')}\r\n` +
    `Max-Forwards: 70\r\nFrom: <sip:voicemail@127.0.0.1>;tag=vm1\r\n` +
    `To: <sip:voicemail-user@${sipAddress}>${opts.toTag ? `;tag=${opts.toTag}` : ''}\r\n` +
    `Call-ID: ${randomBytes(8).toString('hex')}@vm\r\nCSeq: 1 NOTIFY\r\nEvent: message-summary\r\n` +
    `Subscription-State: active\r\nContent-Type: ${opts.type ?? 'application/simple-message-summary'}\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  socket.send(request, Number(port), host);
  try {
    return (await waitFor('an answer', () => replies[0], 5000)).split('\r\n')[0] ?? '';
  } finally {
    socket.close();
  }
}
