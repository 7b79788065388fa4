import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seeded } from '../../bench/jitter/traces.js';
import type { OfonoClient } from '../../service/client/ofono-client.js';
import { Carphoned } from '../harness/carphoned.js';
import { failuresLogged } from '../harness/failure-logs.js';
import { PrivateBus } from '../harness/dbus-daemon.js';
import { waitFor } from '../harness/process.js';
import { mutate, RawSipPeer, rtpJunk, type Random, type SipMessage } from '../harness/sip-fuzz.js';

/**
 * What a network can send, thrown at a running carphoned: seeded mutations of well-formed SIP, SDP and
 * RTP (FUZZ_SEED=n replays or explores others), and callers whose names hold what a display and D-Bus
 * cannot take. It must get a SIP response or be dropped: never an exception caught only by a
 * catch-all (test/harness/failure-logs.ts; a SIP one answers 500), never a crash, and a well-formed call must work
 * afterwards.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 7);

let bus: PrivateBus;
let daemon: Carphoned;
let client: OfonoClient;
let target: { host: string; port: number };

beforeAll(async () => {
  bus = await PrivateBus.start();
  daemon = await Carphoned.start({
    dbus: { bus: bus.address },
    accounts: [{ id: 'sip0', user: '1000', domain: '127.0.0.1', srtp: 'optional' }],
  });
  client = await daemon.client();
  const [host = '', port = ''] = String(
    (await client.properties('/sip0', 'org.carphone.SipAccount')).LocalAddress,
  ).split(':');
  target = { host, port: Number(port) };
});

afterAll(async () => {
  client?.disconnect();
  await daemon?.stop();
  await bus?.stop();
});

const token = (rand: Random): string => Math.floor(rand() * 2 ** 32).toString(36);

function sdpOffer(rtpPort: number, secure: boolean): string {
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
    'a=rtcp:' + (rtpPort + 1),
    ...(secure ? ['a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz'] : []),
    'a=sendrecv',
  ];
  return lines.join('\r\n') + '\r\n';
}

/** A dialog the far end is in with carphoned: what its in-dialog requests must carry. */
interface Dialog {
  callId: string;
  fromTag: string;
  toTag: string;
  cseq: number;
  path: string;
  mediaPort: number;
}

function request(
  peer: RawSipPeer,
  rand: Random,
  method: string,
  opts: { dialog?: Dialog; body?: string; contentType?: string; cseq?: number } = {},
): string {
  const d = opts.dialog;
  const body = opts.body ?? '';
  const uri = `sip:1000@${target.host}:${target.port}`;
  return (
    `${method} ${uri} SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK${token(rand)};rport\r\n` +
    'Max-Forwards: 70\r\n' +
    `From: "Far End" <sip:2001@127.0.0.1>;tag=${d?.fromTag ?? token(rand)}\r\n` +
    `To: <sip:1000@127.0.0.1>${d?.toTag ? `;tag=${d.toTag}` : ''}\r\n` +
    `Call-ID: ${d?.callId ?? token(rand)}@127.0.0.1\r\n` +
    `CSeq: ${opts.cseq ?? (d ? ++d.cseq : 1)} ${method}\r\n` +
    `Contact: <sip:2001@127.0.0.1:${peer.port}>\r\n` +
    'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE\r\n' +
    'Supported: replaces, timer\r\n' +
    'User-Agent: fuzz\r\n' +
    (body ? `Content-Type: ${opts.contentType ?? 'application/sdp'}\r\n` : '') +
    `Content-Length: ${Buffer.byteLength(body, 'latin1')}\r\n\r\n${body}`
  );
}

function response(peer: RawSipPeer, rand: Random, status: string, method: string): string {
  return (
    `SIP/2.0 ${status}\r\n` +
    `Via: SIP/2.0/UDP ${target.host}:${target.port};branch=z9hG4bK${token(rand)}\r\n` +
    `From: <sip:1000@127.0.0.1>;tag=${token(rand)}\r\n` +
    `To: <sip:2001@127.0.0.1>;tag=${token(rand)}\r\n` +
    `Call-ID: ${token(rand)}@127.0.0.1\r\n` +
    `CSeq: 1 ${method}\r\n` +
    `Contact: <sip:2001@127.0.0.1:${peer.port}>\r\n` +
    'WWW-Authenticate: Digest realm="127.0.0.1", nonce="abc", qop="auth", algorithm=MD5\r\n' +
    `Content-Length: 0\r\n\r\n`
  );
}

/** Requests and responses outside any dialog, well formed before mutation. */
function outOfDialog(peer: RawSipPeer, rand: Random): string[] {
  return [
    request(peer, rand, 'INVITE', { body: sdpOffer(40000, false) }),
    request(peer, rand, 'INVITE', { body: sdpOffer(40002, true) }),
    request(peer, rand, 'OPTIONS'),
    request(peer, rand, 'MESSAGE', { body: 'hello', contentType: 'text/plain' }),
    request(peer, rand, 'BYE'),
    request(peer, rand, 'CANCEL'),
    request(peer, rand, 'ACK'),
    request(peer, rand, 'NOTIFY', { body: 'SIP/2.0 200 OK', contentType: 'message/sipfrag' }),
    response(peer, rand, '200 OK', 'INVITE'),
    response(peer, rand, '180 Ringing', 'INVITE'),
    response(peer, rand, '401 Unauthorized', 'REGISTER'),
  ];
}

/** Requests inside an answered call, well formed before mutation. */
function inDialog(peer: RawSipPeer, rand: Random, dialog: Dialog): string[] {
  return [
    request(peer, rand, 'INVITE', { dialog, body: sdpOffer(dialog.mediaPort, false) }),
    request(peer, rand, 'INVITE', {
      dialog,
      body: sdpOffer(dialog.mediaPort, false).replace('sendrecv', 'sendonly'),
    }),
    request(peer, rand, 'INVITE', { dialog }),
    request(peer, rand, 'UPDATE', { dialog, body: sdpOffer(dialog.mediaPort, false) }),
    request(peer, rand, 'INFO', {
      dialog,
      body: 'Signal=5\r\nDuration=160\r\n',
      contentType: 'application/dtmf-relay',
    }),
    request(peer, rand, 'OPTIONS', { dialog }),
    request(peer, rand, 'ACK', { dialog }),
    request(peer, rand, 'BYE', { dialog }),
  ];
}

/** A well-formed INVITE from the peer, answered over D-Bus: the dialog, once carphoned's 200 came. */
async function answeredCall(
  peer: RawSipPeer,
  rand: Random,
  mediaPort: number,
  secure = false,
): Promise<Dialog> {
  const callId = token(rand);
  const fromTag = token(rand);
  const since = client.signals.length;
  const first = peer.received.length;
  peer.send(
    request(peer, rand, 'INVITE', {
      dialog: { callId, fromTag, toTag: '', cseq: 0, path: '', mediaPort },
      body: sdpOffer(mediaPort, secure),
    }),
  );
  const added = await client.waitForSignal((s) => s.member === 'CallAdded', 10_000, since);
  const [path] = added.args as [string];
  await client.answer(path);
  const ok = await waitFor(
    "carphoned's 200 OK",
    () =>
      peer.received
        .slice(first)
        .find((m) => m.startLine.startsWith('SIP/2.0 200') && m.header('call-id') === `${callId}@127.0.0.1`),
    10_000,
  );
  const toTag = /;tag=([^;>\s]+)/.exec(ok.header('to') ?? '')?.[1] ?? '';
  const dialog: Dialog = {
    callId,
    fromTag,
    toTag,
    cseq: 1,
    path,
    mediaPort: Number(/m=audio (\d+)/.exec(ok.body)?.[1]),
  };
  peer.send(request(peer, rand, 'ACK', { dialog, cseq: 1 }));
  return dialog;
}

/**
 * Answers every call the mutated INVITEs left ringing, so that their offers go through media set-up
 * too; an answer may be refused, but only with an oFono error. Then hangs all of them up.
 */
async function answerRingingThenHangUp(): Promise<void> {
  for (const [path, props] of await client.calls('/sip0')) {
    if (props.State === 'incoming' || props.State === 'waiting') {
      await client.answer(path).catch((e: unknown) => {
        expect(e).toMatchObject({ type: expect.stringMatching(/^org\.ofono\.Error\./) as unknown });
      });
    }
  }
  await hangupAll();
}

async function hangupAll(): Promise<void> {
  await client.call('/sip0', 'org.ofono.VoiceCallManager', 'HangupAll', '', []);
  await waitFor(
    'no calls',
    async () => ((await client.calls('/sip0')).length === 0 ? true : undefined),
    10_000,
  );
}

/** Whether a message carphoned sent is a SIP response or request at all (its first line). */
const wellFormedStart = (m: SipMessage): boolean =>
  /^SIP\/2\.0 [1-6]\d\d /.test(m.startLine) || /^[A-Z]+ sips?:\S+ SIP\/2\.0$/.test(m.startLine);

/**
 * The 500s carphoned sent other than the one RFC 3261 §12.2.2 asks for (a request whose CSeq is below
 * the dialog's): a 500 for anything else is an internal failure.
 */
const internalErrors = (peer: RawSipPeer): string[] =>
  peer.received
    .filter((m) => m.startLine.startsWith('SIP/2.0 500') && !m.startLine.endsWith('(CSeq out of order)'))
    .map((m) => m.text);

/** A call that still works: answered, and carphoned's RTP reaching the far end's media port. */
async function checkCallWorks(peer: RawSipPeer, rand: Random): Promise<void> {
  const media = createSocket('udp4');
  const packets: Buffer[] = [];
  media.on('message', (m) => packets.push(m));
  await new Promise<void>((resolve) => media.bind(0, '127.0.0.1', () => resolve()));
  try {
    const dialog = await answeredCall(peer, rand, media.address().port);
    await client.waitForCallState(dialog.path, 'active', 10_000);
    await waitFor('RTP from carphoned', () => (packets.length >= 25 ? true : undefined), 10_000);
    expect(packets.every((p) => p.length >= 12 && (p[0] ?? 0) >> 6 === 2)).toBe(true);
    await hangupAll();
  } finally {
    media.close();
  }
}

describe('mutated input from the network', () => {
  it('answers 1500 mutated out-of-dialog requests and responses without a caught exception, and then takes a call', async () => {
    const rand = seeded(SEED);
    const peer = await RawSipPeer.open(target);
    try {
      for (let i = 0; i < 1500; i++) {
        // Made afresh each time, with new branches, tags and Call-IDs: a copy of an earlier request
        // would only be taken for its retransmission.
        const corpus = outOfDialog(peer, rand);
        peer.send(mutate(corpus[i % corpus.length] ?? '', rand));
        if (i % 10 === 9) {
          await sleep(5);
          await answerRingingThenHangUp();
        }
      }
      await sleep(500);
      await hangupAll();
      expect(failuresLogged(daemon)).toEqual([]);
      expect(peer.received.length).toBeGreaterThan(100);
      expect(peer.received.filter((m) => !wellFormedStart(m)).map((m) => m.startLine)).toEqual([]);
      expect(internalErrors(peer)).toEqual([]);
      await checkCallWorks(peer, rand);
      expect(daemon.child.exited).toBe(false);
    } finally {
      peer.close();
    }
  });

  it('handles mutated in-dialog requests and junk on its RTP port during answered calls, and then takes a call', async () => {
    const rand = seeded(SEED + 1);
    const peer = await RawSipPeer.open(target);
    const media = createSocket('udp4');
    await new Promise<void>((resolve) => media.bind(0, '127.0.0.1', () => resolve()));
    try {
      for (let round = 0; round < 8; round++) {
        const dialog = await answeredCall(peer, rand, media.address().port, round % 2 === 1);
        for (let i = 0; i < 150; i++) {
          // Made afresh each time: every request takes the dialog's next CSeq, as a far end's would.
          const corpus = inDialog(peer, rand, dialog);
          peer.send(mutate(corpus[i % corpus.length] ?? '', rand));
          for (let k = 0; k < 3; k++) {
            media.send(rtpJunk(rand), dialog.mediaPort + (k === 2 ? 1 : 0), '127.0.0.1');
          }
          if (i % 5 === 4) {
            await sleep(5);
          }
        }
        await sleep(200);
        await hangupAll();
      }
      expect(failuresLogged(daemon)).toEqual([]);
      expect(peer.received.filter((m) => !wellFormedStart(m)).map((m) => m.startLine)).toEqual([]);
      expect(internalErrors(peer)).toEqual([]);
      await checkCallWorks(peer, rand);
      expect(daemon.child.exited).toBe(false);
    } finally {
      media.close();
      peer.close();
    }
  });

  it("shows a caller's UTF-8 name without the control characters and NUL it carried, and the call list and log stay readable", async () => {
    const rand = seeded(SEED + 2);
    const peer = await RawSipPeer.open(target);
    try {
      const since = client.signals.length;
      const invite = request(peer, rand, 'INVITE', { body: sdpOffer(40010, false) }).replace(
        /^From: .*$/m,
        // As bytes on the wire: UTF-8 text with a NUL, a BEL and an escape sequence in the name, and an
        // escaped NUL in the URI's user part.
        Buffer.from(
          'From: "J\u00fcrgen\u0000 M\u00fcller\u0007\u001b[2J" <sip:J%C3%BCrgen%00@127.0.0.1>;tag=x1',
          'utf8',
        ).toString('latin1'),
      );
      peer.send(invite);
      const added = await client.waitForSignal((s) => s.member === 'CallAdded', 10_000, since);
      const [path, props] = added.args as [string, Record<string, unknown>];
      expect(props).toMatchObject({ Name: 'Jürgen Müller[2J', LineIdentification: 'Jürgen' });
      const calls = await client.calls('/sip0');
      expect(calls.map(([p, c]) => [p, c.Name])).toEqual([[path, 'Jürgen Müller[2J']]);
      await hangupAll();
      const [latest] = (await client.call(
        '/history',
        'org.carphone.CallHistory',
        'GetRecent',
        'u',
        [1],
      )) as Record<string, unknown>[];
      expect(latest).toMatchObject({
        Kind: 'rejected',
        Name: 'Jürgen Müller[2J',
        LineIdentification: 'Jürgen',
      });
      expect(failuresLogged(daemon)).toEqual([]);
    } finally {
      peer.close();
    }
  });
});
