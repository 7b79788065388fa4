import { createSocket, type Socket } from 'node:dgram';

/**
 * Seeded mutations of well-formed SIP messages, SDP bodies and RTP packets, for throwing at a running
 * carphoned: the same seed gives the same messages, so a failure can be replayed.
 */
export type Random = () => number;

const pick = <T>(rand: Random, items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;

/** Values that have broken SIP and SDP parsers: empty, huge, signed, unterminated, stray syntax. */
const NASTY_VALUES = [
  '',
  ' ',
  '-1',
  '0',
  '4294967296',
  '99999999999999999999999',
  'NaN',
  '\x00',
  '\xff\xfe',
  '<',
  '<sip:',
  'sip:@',
  'sip:[::1',
  '"unterminated',
  ';;;;',
  ';tag',
  ';branch=',
  '%',
  '%zz',
  'a'.repeat(3000),
  '1 INVITE INVITE',
  'SIP/2.0/UDP',
  'IN IP4',
  'IN IP6 ::1',
  'IN IP4 999.1.1.1',
  '0 RTP/AVP',
  'audio 70000 RTP/AVP 0',
  'audio 4000 RTP/AVP 300',
  'audio 4000 RTP/SAVP 0',
  'rtpmap:111 opus/0/2',
  'rtpmap:-1 PCMU/8000',
  'fmtp:111 maxplaybackrate=0;ptime=-5',
  'crypto:1 AES_CM_128_HMAC_SHA1_80 inline:!!!!',
  'crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAAA',
  'ptime:0',
  'ptime:100000',
];

/** One way of breaking a message: its lines in, its lines out. */
type Mutation = (lines: string[], rand: Random) => string[];

const mutations: Mutation[] = [
  // a random byte changed
  (lines, rand) => {
    const i = Math.floor(rand() * lines.length);
    const line = lines[i] ?? '';
    const at = Math.floor(rand() * (line.length + 1));
    const byte = String.fromCharCode(Math.floor(rand() * 256));
    return lines.map((l, j) => (j === i ? line.slice(0, at) + byte + line.slice(at + 1) : l));
  },
  // a line removed
  (lines, rand) => {
    const i = Math.floor(rand() * lines.length);
    return lines.filter((_, j) => j !== i);
  },
  // a line repeated
  (lines, rand) => {
    const i = Math.floor(rand() * lines.length);
    return [...lines.slice(0, i + 1), lines[i] ?? '', ...lines.slice(i + 1)];
  },
  // two lines swapped
  (lines, rand) => {
    const i = Math.floor(rand() * lines.length);
    const j = Math.floor(rand() * lines.length);
    const out = [...lines];
    out[i] = lines[j] ?? '';
    out[j] = lines[i] ?? '';
    return out;
  },
  // a header's value or an SDP line's value replaced by a nasty one
  (lines, rand) => {
    const i = Math.floor(rand() * lines.length);
    const line = lines[i] ?? '';
    const sep = /^[a-z]=/.test(line) ? 2 : line.indexOf(':') + 1;
    const value = pick(rand, NASTY_VALUES);
    return lines.map((l, j) => (j === i ? (sep > 0 ? line.slice(0, sep) + value : value) : l));
  },
  // a parameter or token inside a line replaced by a nasty value
  (lines, rand) => {
    const i = Math.floor(rand() * lines.length);
    const parts = (lines[i] ?? '').split(/([ ;:=/,])/);
    const k = Math.floor(rand() * parts.length);
    parts[k] = pick(rand, NASTY_VALUES);
    return lines.map((l, j) => (j === i ? parts.join('') : l));
  },
  // the message cut short
  (lines, rand) => lines.slice(0, Math.max(1, Math.floor(rand() * lines.length))),
  // a line of random bytes inserted
  (lines, rand) => {
    const i = Math.floor(rand() * (lines.length + 1));
    const junk = Array.from({ length: 1 + Math.floor(rand() * 40) }, () =>
      String.fromCharCode(Math.floor(rand() * 256)),
    ).join('');
    return [...lines.slice(0, i), junk, ...lines.slice(i)];
  },
];

/**
 * A mutated copy of `message` (headers, a blank line, a body): one to three mutations of the headers
 * or of the body's lines, and, most of the time, a Content-Length that matches the mutated body so
 * that the body reaches the SDP parser instead of being refused for its length.
 */
export function mutate(message: string, rand: Random): string {
  const split = message.indexOf('\r\n\r\n');
  let head = message.slice(0, split).split('\r\n');
  let body = message.slice(split + 4).split('\r\n');
  const rounds = 1 + Math.floor(rand() * 3);
  for (let r = 0; r < rounds; r++) {
    const m = pick(rand, mutations);
    if (body.length > 1 && rand() < 0.5) {
      body = m(body, rand);
    } else {
      head = m(head, rand);
    }
  }
  const bodyText = body.join('\r\n');
  if (rand() < 0.8) {
    head = head.map((l) =>
      /^content-length\s*:/i.test(l) ? `Content-Length: ${Buffer.byteLength(bodyText, 'latin1')}` : l,
    );
  }
  return `${head.join('\r\n')}\r\n\r\n${bodyText}`;
}

/** A text file's lines (a configuration, say) after one to three of the same mutations. */
export function mutateLines(text: string, rand: Random): string {
  let lines = text.split('\n');
  const rounds = 1 + Math.floor(rand() * 3);
  for (let r = 0; r < rounds; r++) {
    lines = pick(rand, mutations)(lines, rand);
  }
  return lines.join('\n');
}

/**
 * A datagram for an RTP port: mostly RTP-shaped (version 2, any payload type, CSRC count, extension
 * and padding bits with lengths that may lie), some RTCP-shaped, some random bytes, some empty.
 */
export function rtpJunk(rand: Random): Buffer {
  const kind = rand();
  const length = Math.floor(rand() * 220);
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    b[i] = Math.floor(rand() * 256);
  }
  if (kind < 0.6 && length > 0) {
    b[0] = 0x80 | ((b[0] ?? 0) & 0x3f); // version 2, padding/extension/CSRC count random
    if (length > 1 && rand() < 0.5) {
      b[1] = (b[1] ?? 0) & 0x80 ? 0x80 | pick(rand, [0, 8, 96, 101, 111, 127]) : pick(rand, [0, 8, 101, 111]);
    }
  } else if (kind < 0.8 && length > 1) {
    b[0] = 0x80 | ((b[0] ?? 0) & 0x3f);
    b[1] = pick(rand, [200, 201, 202, 203, 204, 205, 206]);
  }
  return b;
}

export interface SipMessage {
  text: string;
  startLine: string;
  header(name: string): string | undefined;
  body: string;
}

export function parseSip(text: string): SipMessage {
  const split = text.indexOf('\r\n\r\n');
  const lines = (split < 0 ? text : text.slice(0, split)).split('\r\n');
  const headers = lines.slice(1).map((l) => {
    const colon = l.indexOf(':');
    return [l.slice(0, colon).trim().toLowerCase(), l.slice(colon + 1).trim()] as const;
  });
  return {
    text,
    startLine: lines[0] ?? '',
    header: (name) => headers.find(([n]) => n === name.toLowerCase())?.[1],
    body: split < 0 ? '' : text.slice(split + 4),
  };
}

/**
 * The far end as the test writes it, byte for byte: a UDP socket that sends whatever text it is given
 * and keeps everything carphoned sends back. It answers carphoned's own requests (BYE, re-INVITE,
 * OPTIONS) with 200, or another status given, so that carphoned's transactions end.
 */
export class RawSipPeer {
  readonly received: SipMessage[] = [];

  private constructor(
    private readonly socket: Socket,
    readonly port: number,
    readonly target: { host: string; port: number },
    answer: string,
  ) {
    socket.on('message', (data, from) => {
      const m = parseSip(data.toString('latin1'));
      this.received.push(m);
      if (!m.startLine.startsWith('SIP/2.0') && !m.startLine.startsWith('ACK ')) {
        this.reply(m, answer, from);
      } else if (/^SIP\/2\.0 2/.test(m.startLine) && /\bINVITE$/.test(m.header('cseq') ?? '')) {
        this.acknowledge(m);
      }
    });
  }

  /** `answer`: the status line for carphoned's requests, e.g. "503 Service Unavailable" for a PSAP that refuses. */
  static async open(target: { host: string; port: number }, answer = '200 OK'): Promise<RawSipPeer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    return new RawSipPeer(socket, socket.address().port, target, answer);
  }

  send(text: string): void {
    this.socket.send(Buffer.from(text, 'latin1'), this.target.port, this.target.host);
  }

  sendTo(data: Buffer, port: number): void {
    this.socket.send(data, port, '127.0.0.1');
  }

  private reply(rq: SipMessage, status: string, to: { address: string; port: number }): void {
    const copy = ['via', 'from', 'to', 'call-id', 'cseq']
      .map((h) => [h, rq.header(h)] as const)
      .filter((h): h is readonly [string, string] => h[1] !== undefined)
      .map(([h, v]) => `${h}: ${v}`);
    const text = `SIP/2.0 ${status}\r\n${copy.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`;
    this.socket.send(Buffer.from(text, 'latin1'), to.port, to.address);
  }

  /** The ACK a 2xx to an INVITE needs (RFC 3261 §13.2.2.4), so that carphoned stops retransmitting it. */
  private acknowledge(ok: SipMessage): void {
    const contact =
      /<([^>]+)>/.exec(ok.header('contact') ?? '')?.[1] ?? `sip:${this.target.host}:${this.target.port}`;
    const cseq = Number.parseInt(ok.header('cseq') ?? '1', 10);
    const branch = `z9hG4bK${Math.floor(Math.random() * 2 ** 32).toString(36)}`;
    this.send(
      `ACK ${contact} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${this.port};branch=${branch}\r\nMax-Forwards: 70\r\n` +
        `From: ${ok.header('from') ?? ''}\r\nTo: ${ok.header('to') ?? ''}\r\nCall-ID: ${ok.header('call-id') ?? ''}\r\n` +
        `CSeq: ${cseq} ACK\r\nContent-Length: 0\r\n\r\n`,
    );
  }

  close(): void {
    this.socket.close();
  }
}

/** A random token for branches, tags and Call-IDs, from the test's seeded generator. */
export const token = (rand: Random): string => Math.floor(rand() * 2 ** 32).toString(36);

/** An offer as a softphone sends it: Opus, G.711, telephone-event, separate RTCP; SDES keys if `secure`. */
export function sdpOffer(rtpPort: number, secure: boolean): string {
  const lines = [
    'v=0',
    'o=- 3906146721 3906146722 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${rtpPort} RTP/${secure ? 'SAVP' : 'AVP'} 111 0 8 101`,
    'b=AS:64',
    'a=rtpmap:111 opus/48000/2',
    'a=fmtp:111 stereo=1;sprop-stereo=1;maxplaybackrate=16000',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-15',
    'a=ptime:20',
    `a=rtcp:${rtpPort + 1}`,
    ...(secure ? ['a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz'] : []),
    'a=sendrecv',
  ];
  return lines.join('\r\n') + '\r\n';
}

/** A dialog the far end is in with carphoned: what its in-dialog requests must carry. */
export interface Dialog {
  callId: string;
  fromTag: string;
  toTag: string;
  cseq: number;
  path: string;
  mediaPort: number;
}

/**
 * A request from `peer` to carphoned's line user 1000, well formed: inside `dialog` when given (taking
 * its next CSeq), else a new one. `fromName` is the display name, as UTF-8 text.
 */
export function sipRequest(
  peer: Pick<RawSipPeer, 'port' | 'target'>,
  rand: Random,
  method: string,
  opts: {
    dialog?: Dialog;
    body?: string;
    contentType?: string;
    cseq?: number;
    fromName?: string;
    /** Further header lines, such as "Refer-To: <sip:…>". */
    headers?: string[];
  } = {},
): string {
  const d = opts.dialog;
  const body = opts.body ?? '';
  const uri = `sip:1000@${peer.target.host}:${peer.target.port}`;
  const name = Buffer.from(opts.fromName ?? 'Far End', 'utf8').toString('latin1');
  return (
    `${method} ${uri} SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK${token(rand)};rport\r\n` +
    'Max-Forwards: 70\r\n' +
    `From: "${name}" <sip:2001@127.0.0.1>;tag=${d?.fromTag ?? token(rand)}\r\n` +
    `To: <sip:1000@127.0.0.1>${d?.toTag ? `;tag=${d.toTag}` : ''}\r\n` +
    `Call-ID: ${d?.callId ?? token(rand)}@127.0.0.1\r\n` +
    `CSeq: ${opts.cseq ?? (d ? ++d.cseq : 1)} ${method}\r\n` +
    `Contact: <sip:2001@127.0.0.1:${peer.port}>\r\n` +
    'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE\r\n' +
    'Supported: replaces, timer\r\n' +
    'User-Agent: fuzz\r\n' +
    (opts.headers ?? []).map((h) => `${h}\r\n`).join('') +
    (body ? `Content-Type: ${opts.contentType ?? 'application/sdp'}\r\n` : '') +
    `Content-Length: ${Buffer.byteLength(body, 'latin1')}\r\n\r\n${body}`
  );
}
