import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readdirSync } from 'node:fs';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seeded } from '../../bench/jitter/traces.js';
import type { OfonoClient } from '../../service/client/ofono-client.js';
import { MAX_INBOUND_STREAMS, MAX_INBOUND_STREAMS_PER_ADDRESS } from '../../service/sip/inbound-streams.js';
import { Carphoned } from '../harness/carphoned.js';
import { failuresLogged } from '../harness/failure-logs.js';
import { PrivateBus } from '../harness/dbus-daemon.js';
import { waitFor } from '../harness/process.js';
import {
  mutate,
  RawSipPeer,
  rtpJunk,
  sdpOffer,
  sipRequest,
  token,
  type Dialog,
  type Random,
  type SipMessage,
} from '../harness/sip-fuzz.js';

/**
 * What a network can send, thrown at a running carphoned: seeded mutations of well-formed SIP, SDP and
 * RTP (FUZZ_SEED=n replays or explores others), and callers whose names hold what a display and D-Bus
 * cannot take. It must get a SIP response or be dropped: never an exception caught only by a catch-all
 * (test/harness/failure-logs.ts; the SIP one answers 500), never a crash, and a well-formed call must
 * work afterwards.
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

function response(peer: RawSipPeer, rand: Random, status: string, method: string): string {
  return (
    `SIP/2.0 ${status}\r\n` +
    `Via: SIP/2.0/UDP ${peer.target.host}:${peer.target.port};branch=z9hG4bK${token(rand)}\r\n` +
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
    sipRequest(peer, rand, 'INVITE', { body: sdpOffer(40000, false) }),
    sipRequest(peer, rand, 'INVITE', { body: sdpOffer(40002, true) }),
    // What an operator's network asks for: reliable provisionals and session timers (RFC 3262, 4028).
    sipRequest(peer, rand, 'INVITE', {
      body: sdpOffer(40004, false),
      headers: ['Require: 100rel, timer', 'Session-Expires: 120;refresher=uac', 'Min-SE: 90'],
    }),
    sipRequest(peer, rand, 'OPTIONS'),
    sipRequest(peer, rand, 'MESSAGE', { body: 'hello', contentType: 'text/plain' }),
    // An SMS relayed over IP (TS 24.341): RP-DATA with the classic "hellohello" SMS-DELIVER.
    sipRequest(peer, rand, 'MESSAGE', {
      body: Buffer.from(
        '012107919471103254f6001c040BC87238880900F10000993092516195800AE8329BFD4697D9EC37',
        'hex',
      ).toString('latin1'),
      contentType: 'application/vnd.3gpp.sms',
    }),
    sipRequest(peer, rand, 'BYE'),
    sipRequest(peer, rand, 'CANCEL'),
    sipRequest(peer, rand, 'ACK'),
    sipRequest(peer, rand, 'NOTIFY', { body: 'SIP/2.0 200 OK', contentType: 'message/sipfrag' }),
    // A voicemail server's message summary, sent unasked (RFC 3842).
    sipRequest(peer, rand, 'NOTIFY', {
      body: 'Messages-Waiting: yes\r\nMessage-Account: sip:1000@127.0.0.1\r\nVoice-Message: 2/8 (1/0)\r\n',
      contentType: 'application/simple-message-summary',
      headers: ['Event: message-summary', 'Subscription-State: active;expires=3600'],
    }),
    response(peer, rand, '200 OK', 'INVITE'),
    response(peer, rand, '180 Ringing', 'INVITE'),
    response(peer, rand, '401 Unauthorized', 'REGISTER'),
  ];
}

/** Requests inside an answered call, well formed before mutation. */
function inDialog(peer: RawSipPeer, rand: Random, dialog: Dialog): string[] {
  return [
    sipRequest(peer, rand, 'INVITE', { dialog, body: sdpOffer(dialog.mediaPort, false) }),
    sipRequest(peer, rand, 'INVITE', {
      dialog,
      body: sdpOffer(dialog.mediaPort, false).replace('sendrecv', 'sendonly'),
    }),
    sipRequest(peer, rand, 'INVITE', { dialog }),
    sipRequest(peer, rand, 'UPDATE', { dialog, body: sdpOffer(dialog.mediaPort, false) }),
    // A session refresh without a body, a re-INVITE that changes the interval, a PRACK for nothing.
    sipRequest(peer, rand, 'UPDATE', {
      dialog,
      headers: ['Supported: timer', 'Session-Expires: 1800;refresher=uac'],
    }),
    sipRequest(peer, rand, 'INVITE', {
      dialog,
      body: sdpOffer(dialog.mediaPort, false),
      headers: ['Supported: timer', 'Session-Expires: 90;refresher=uas', 'Min-SE: 90'],
    }),
    sipRequest(peer, rand, 'PRACK', { dialog, headers: ['RAck: 1 1 INVITE'] }),
    sipRequest(peer, rand, 'INFO', {
      dialog,
      body: 'Signal=5\r\nDuration=160\r\n',
      contentType: 'application/dtmf-relay',
    }),
    sipRequest(peer, rand, 'OPTIONS', { dialog }),
    // The target is the peer itself, which answers the transferred call's INVITE with a bare 200.
    sipRequest(peer, rand, 'REFER', {
      dialog,
      headers: [`Refer-To: <sip:2003@127.0.0.1:${peer.port}?Replaces=a%40b%3Bto-tag%3D1%3Bfrom-tag%3D2>`],
    }),
    sipRequest(peer, rand, 'ACK', { dialog }),
    sipRequest(peer, rand, 'BYE', { dialog }),
  ];
}

/** A well-formed INVITE from the peer, answered over D-Bus: the dialog, once carphoned's 200 came. */
async function answeredCall(
  peer: RawSipPeer,
  rand: Random,
  mediaPort: number,
  secure = false,
  answer: (path: string) => Promise<void> = (path) => client.answer(path),
): Promise<Dialog> {
  const callId = token(rand);
  const fromTag = token(rand);
  const since = client.signals.length;
  const first = peer.received.length;
  peer.send(
    sipRequest(peer, rand, 'INVITE', {
      dialog: { callId, fromTag, toTag: '', cseq: 0, path: '', mediaPort },
      body: sdpOffer(mediaPort, secure),
    }),
  );
  const added = await client.waitForSignal((s) => s.member === 'CallAdded', 10_000, since);
  const [path] = added.args as [string];
  await answer(path);
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
  peer.send(sipRequest(peer, rand, 'ACK', { dialog, cseq: 1 }));
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

/**
 * Ends every call. HangupAll leaves a waiting call waiting, as oFono's does, and a mutated INVITE can
 * arrive as one while the others are being answered: those are hung up one by one.
 */
async function hangupAll(): Promise<void> {
  await client.call('/sip0', 'org.ofono.VoiceCallManager', 'HangupAll', '', []);
  await waitFor(
    'no calls',
    async () => {
      const left = await client.calls('/sip0');
      for (const [path, props] of left) {
        if (props.State === 'waiting' || props.State === 'incoming') {
          await client.hangup(path).catch(() => undefined);
        }
      }
      return left.length === 0 ? true : undefined;
    },
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

/** A UDP socket on loopback standing for a far end's RTP port. */
async function mediaSocket(): Promise<UdpSocket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return socket;
}

/** A call that still works: answered, and carphoned's RTP reaching the far end's media port. */
async function checkCallWorks(peer: RawSipPeer, rand: Random): Promise<void> {
  const media = await mediaSocket();
  const packets: Buffer[] = [];
  media.on('message', (m) => packets.push(m));
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
    const media = await mediaSocket();
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
      const invite = sipRequest(peer, rand, 'INVITE', { body: sdpOffer(40010, false) }).replace(
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

describe('call deflection (VoiceCall.Deflect)', () => {
  it('answers the ringing INVITE 302 with the new number as Contact, and refuses to deflect to an emergency number or an answered call', async () => {
    const rand = seeded(SEED + 10);
    const peer = await RawSipPeer.open(target);
    const media = await mediaSocket();
    try {
      const since = client.signals.length;
      peer.send(sipRequest(peer, rand, 'INVITE', { body: sdpOffer(40030, false) }));
      const added = await client.waitForSignal((s) => s.member === 'CallAdded', 5000, since);
      const [path] = added.args as [string];
      // Never to the emergency services, as digits or as a URI: the call stays ringing here.
      for (const emergency of ['112', 'sip:911@127.0.0.1']) {
        await expect(
          client.call(path, 'org.ofono.VoiceCall', 'Deflect', 's', [emergency]),
        ).rejects.toMatchObject({ type: 'org.ofono.Error.NotAllowed' });
      }
      await client.call(path, 'org.ofono.VoiceCall', 'Deflect', 's', ['+4930123456']);
      const moved = await waitFor('the 302', () =>
        peer.received.find((m) => m.startLine.startsWith('SIP/2.0 3')),
      );
      expect(moved.startLine).toBe('SIP/2.0 302 Moved Temporarily');
      expect(moved.header('contact')).toBe('<sip:+4930123456@127.0.0.1;user=phone>');
      await client.waitForSignal((s) => s.member === 'CallRemoved' && s.args[0] === path, 5000, since);

      const dialog = await answeredCall(peer, rand, media.address().port);
      await expect(
        client.call(dialog.path, 'org.ofono.VoiceCall', 'Deflect', 's', ['2001']),
      ).rejects.toMatchObject({ type: 'org.ofono.Error.Failed' });
      await hangupAll();
    } finally {
      media.close();
      peer.close();
    }
  });
});

describe('Transfer (explicit call transfer) with far ends that support Replaces', () => {
  it('REFERs the held far end to the active one with a Replaces for that call, and leaves both once told it worked', async () => {
    const rand = seeded(SEED + 11);
    const held = await RawSipPeer.open(target);
    const active = await RawSipPeer.open(target);
    const media = await mediaSocket();
    try {
      const since = client.signals.length;
      const a = await answeredCall(held, rand, media.address().port);
      const b = await answeredCall(active, rand, media.address().port, false, () =>
        client.manager('/sip0', 'HoldAndAnswer'),
      );
      await client.waitForCallState(a.path, 'held', 5000, since);
      await client.manager('/sip0', 'Transfer');
      const refer = held.received.find((m) => m.startLine.startsWith('REFER '));
      const replaces = encodeURIComponent(`${b.callId}@127.0.0.1;to-tag=${b.fromTag};from-tag=${b.toTag}`);
      expect(refer?.header('refer-to')).toBe(`<sip:2001@127.0.0.1:${active.port}?Replaces=${replaces}>`);
      expect(refer?.header('referred-by')).toBe('<sip:1000@127.0.0.1>');
      // Nothing ends until the transferee says the new call was answered.
      await sleep(300);
      expect((await client.calls('/sip0')).length).toBe(2);
      held.send(
        sipRequest(held, rand, 'NOTIFY', {
          dialog: a,
          body: 'SIP/2.0 200 OK\r\n',
          contentType: 'message/sipfrag;version=2.0',
          headers: ['Event: refer', 'Subscription-State: terminated;reason=noresource'],
        }),
      );
      for (const call of [a.path, b.path]) {
        const reason = await client.waitForSignal(
          (s) => s.path === call && s.member === 'DisconnectReason',
          5000,
          since,
        );
        expect(reason.args).toEqual(['local']);
      }
      for (const peer of [held, active]) {
        await waitFor('its BYE', () => peer.received.find((m) => m.startLine.startsWith('BYE ')));
      }
      expect(failuresLogged(daemon)).toEqual([]);
    } finally {
      media.close();
      held.close();
      active.close();
    }
  });
});

describe('an INVITE that replaces a call (RFC 3891, the target side of an attended transfer)', () => {
  it('is answered at once in place of the call it names, which ends; a Replaces naming no call of ours gets 481', async () => {
    const rand = seeded(SEED + 14);
    const first = await RawSipPeer.open(target);
    const second = await RawSipPeer.open(target);
    const media = await mediaSocket();
    try {
      const since = client.signals.length;
      const a = await answeredCall(first, rand, media.address().port);
      const replacing = (replaces: string): string =>
        sipRequest(second, rand, 'INVITE', {
          body: sdpOffer(media.address().port, false),
          headers: [`Replaces: ${replaces}`, 'Require: replaces'],
        });
      const answerTo = async (text: string): Promise<SipMessage> => {
        const callId = /^Call-ID: (\S+)/m.exec(text)?.[1];
        second.send(text);
        return waitFor('the final answer', () =>
          second.received.find((m) => m.header('call-id') === callId && /^SIP\/2\.0 [2-6]/.test(m.startLine)),
        );
      };
      const wrongTags = await answerTo(
        replacing(`${a.callId}@127.0.0.1;to-tag=${a.fromTag};from-tag=${a.toTag}`),
      );
      expect(wrongTags.startLine).toBe('SIP/2.0 481 Call/Transaction Does Not Exist');
      expect((await answerTo(replacing('garbage'))).startLine).toBe(
        'SIP/2.0 400 Bad Request (malformed Replaces)',
      );
      // early-only: the call is already answered, so it is not replaced (RFC 3891 §3).
      const earlyOnly = await answerTo(
        replacing(`${a.callId}@127.0.0.1;to-tag=${a.toTag};from-tag=${a.fromTag};early-only`),
      );
      expect(earlyOnly.startLine).toBe('SIP/2.0 486 Busy Here');

      const ok = await answerTo(replacing(`${a.callId}@127.0.0.1;to-tag=${a.toTag};from-tag=${a.fromTag}`));
      expect(ok.startLine).toBe('SIP/2.0 200 OK');
      expect(ok.header('supported')?.split(', ')).toContain('replaces');
      // No ringing for the replacement; the replaced call gets its BYE and ends from this side.
      expect(second.received.some((m) => m.startLine.startsWith('SIP/2.0 180'))).toBe(false);
      await waitFor('BYE to the first', () => first.received.find((m) => m.startLine.startsWith('BYE ')));
      const reason = await client.waitForSignal(
        (s) => s.path === a.path && s.member === 'DisconnectReason',
        5000,
        since,
      );
      expect(reason.args).toEqual(['local']);
      const calls = await client.calls('/sip0');
      expect(calls.map(([, p]) => p.State)).toEqual(['active']);
      await hangupAll();
      expect(failuresLogged(daemon)).toEqual([]);
    } finally {
      media.close();
      first.close();
      second.close();
    }
  });
});

describe('a request that requires an extension carphone lacks', () => {
  it('is answered 420 naming it (as an IMS core asking for preconditions gets), no call rings, and the same INVITE without it is taken', async () => {
    const rand = seeded(SEED + 12);
    const peer = await RawSipPeer.open(target);
    try {
      const since = client.signals.length;
      const invite = sipRequest(peer, rand, 'INVITE', {
        body: sdpOffer(40020, false),
        headers: ['Require: 100rel, precondition'],
      });
      peer.send(invite);
      const refused = await waitFor('the 420', () =>
        peer.received.find((m) => m.startLine.startsWith('SIP/2.0 4')),
      );
      expect(refused.startLine).toBe('SIP/2.0 420 Bad Extension');
      expect(refused.header('unsupported')).toBe('precondition');
      await sleep(300);
      expect(client.signals.slice(since).filter((s) => s.member === 'CallAdded')).toEqual([]);
      peer.send(
        sipRequest(peer, rand, 'INVITE', { body: sdpOffer(40020, false), headers: ['Supported: 100rel'] }),
      );
      await client.waitForSignal((s) => s.member === 'CallAdded', 5000, since);
      await hangupAll();
    } finally {
      peer.close();
    }
  });
});

describe('a transfer asked for by the far end (REFER)', () => {
  it("passes an attended transfer's Replaces on to the target, tells the transferor of the target's refusal, and answers a REFER it cannot follow with 400 or 481", async () => {
    const rand = seeded(SEED + 13);
    const peer = await RawSipPeer.open(target);
    const busyTarget = await RawSipPeer.open(target, '486 Busy Here');
    const media = await mediaSocket();
    try {
      const dialog = await answeredCall(peer, rand, media.address().port);
      const refer = (referTo: string, d: Dialog | undefined = dialog): string =>
        sipRequest(peer, rand, 'REFER', { ...(d ? { dialog: d } : {}), headers: [`Refer-To: ${referTo}`] });
      const answerTo = async (text: string): Promise<string> => {
        const cseq = /^CSeq: (\d+ \w+)/m.exec(text)?.[1];
        const first = peer.received.length;
        peer.send(text);
        const rs = await waitFor(`the answer to ${cseq}`, () =>
          peer.received
            .slice(first)
            .find((m) => m.startLine.startsWith('SIP/2.0') && m.header('cseq') === cseq),
        );
        return rs.startLine;
      };
      expect(await answerTo(refer('<tel:+4930123456>'))).toBe(
        'SIP/2.0 400 Bad Request (Refer-To is not a sip: or sips: URI)',
      );
      expect(await answerTo(refer('<sip:2003@127.0.0.1>', { ...dialog, callId: 'not-a-call' }))).toMatch(
        /^SIP\/2\.0 481 /,
      );
      // A sips: target on this line over UDP is refused as a Dial of it would be: the transferor is
      // told (503), and nothing is sent to the target.
      const beforeSips = peer.received.length;
      expect(await answerTo(refer(`<sips:2003@127.0.0.1:${busyTarget.port}>`))).toBe('SIP/2.0 202 Accepted');
      const refused = await waitFor('the NOTIFY with the failure', () =>
        peer.received
          .slice(beforeSips)
          .find((m) => m.startLine.startsWith('NOTIFY ') && m.body.includes(' 503 ')),
      );
      expect(refused.body).toBe('SIP/2.0 503 Service Unavailable\r\n');
      expect(busyTarget.received).toEqual([]);

      const first = peer.received.length;
      expect(
        await answerTo(
          refer(
            `<sip:2003@127.0.0.1:${busyTarget.port}?Replaces=abc%40host%3Bto-tag%3D1%3Bfrom-tag%3D2&Priority=urgent>`,
          ),
        ),
      ).toBe('SIP/2.0 202 Accepted');
      const invite = await waitFor('the INVITE to the target', () =>
        busyTarget.received.find((m) => m.startLine.startsWith('INVITE ')),
      );
      expect(invite.startLine).toBe(`INVITE sip:2003@127.0.0.1:${busyTarget.port} SIP/2.0`);
      expect(invite.header('replaces')).toBe('abc@host;to-tag=1;from-tag=2');
      expect(invite.header('referred-by')).toBe('<sip:2001@127.0.0.1>');
      expect(invite.header('priority')).toBeUndefined();
      // NOTIFY "trying", our hold while the target is called, the target's 486 in a NOTIFY that ends
      // the subscription, and the call taken off hold.
      const notifies = await waitFor('two NOTIFYs and the re-INVITE', () => {
        const sent = peer.received.slice(first).filter((m) => /^(NOTIFY|INVITE) /.test(m.startLine));
        return sent.length >= 4 ? sent : undefined;
      });
      expect(
        notifies.map((m) => [m.startLine.split(' ')[0], m.body, m.header('subscription-state')]),
      ).toEqual([
        ['NOTIFY', 'SIP/2.0 100 Trying\r\n', 'active;expires=60'],
        ['INVITE', expect.stringContaining('a=sendonly') as unknown, undefined],
        ['NOTIFY', 'SIP/2.0 486 Busy Here\r\n', 'terminated;reason=noresource'],
        ['INVITE', expect.stringContaining('a=sendrecv') as unknown, undefined],
      ]);
      expect(notifies[0]?.header('event')).toMatch(/^refer;id=\d+$/);
      expect(notifies[0]?.header('content-type')).toBe('message/sipfrag;version=2.0');
      await hangupAll();
      expect(failuresLogged(daemon)).toEqual([]);
    } finally {
      media.close();
      busyTarget.close();
      peer.close();
    }
  });
});

describe('a sips: request over a hop without TLS', () => {
  it('is answered 416, and no call rings', async () => {
    const rand = seeded(SEED + 5);
    const peer = await RawSipPeer.open(target);
    try {
      const since = client.signals.length;
      peer.send(
        sipRequest(peer, rand, 'INVITE', { body: sdpOffer(40020, false) }).replace(
          /^INVITE sip:/,
          'INVITE sips:',
        ),
      );
      const answer = await waitFor('an answer', () =>
        peer.received.find((m) => m.startLine.startsWith('SIP/2.0')),
      );
      expect(answer.startLine).toBe('SIP/2.0 416 Unsupported URI Scheme (sips: over a hop without TLS)');
      await sleep(200);
      expect(client.signals.slice(since).filter((s) => s.member === 'CallAdded')).toEqual([]);
    } finally {
      peer.close();
    }
  });
});

/** A TCP connection to carphoned's SIP port, and whether carphoned has closed it. */
interface HeldConnection {
  socket: Socket;
  closed: boolean;
}

/** `from`: the loopback address to connect from (all of 127.0.0.0/8 is this machine's). */
function connectTcp(from = '127.0.0.1'): Promise<HeldConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port: target.port, host: target.host, localAddress: from });
    const held: HeldConnection = { socket, closed: false };
    socket.on('close', () => (held.closed = true));
    socket.on('error', () => undefined); // a refused connection may end in a reset
    socket.once('connect', () => resolve(held));
    socket.once('error', reject);
  });
}

/** An OPTIONS over a new TCP connection: the status line carphoned answered with, or "closed". */
async function optionsOverTcp(rand: Random): Promise<string> {
  const { socket } = await connectTcp();
  const { port } = socket.address() as AddressInfo;
  const request = sipRequest({ port, target }, rand, 'OPTIONS').replace('SIP/2.0/UDP', 'SIP/2.0/TCP');
  let reply = '';
  socket.on('data', (d: Buffer) => (reply += d.toString('latin1')));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.write(request);
  await Promise.race([
    closed,
    waitFor('an answer over TCP', () => (reply.includes('\r\n\r\n') ? true : undefined), 5000),
  ]);
  socket.destroy();
  return reply ? (reply.split('\r\n')[0] ?? '') : 'closed';
}

describe('a peer holding TCP connections open', () => {
  it('keeps 64 of them from twenty addresses, closes the rest as they come, places a call meanwhile and takes TCP again once they close', async () => {
    const rand = seeded(SEED + 3);
    const pid = daemon.child.proc.pid ?? 0;
    const openFiles = (): number => readdirSync(`/proc/${pid}/fd`).length;
    expect(await optionsOverTcp(rand)).toBe('SIP/2.0 200 OK');
    await sleep(200);
    const filesBefore = openFiles();
    const held: HeldConnection[] = [];
    try {
      for (let i = 0; i < 300; i++) {
        held.push(await connectTcp(`127.0.0.${10 + (i % 20)}`));
      }
      await sleep(500);
      expect(held.filter((c) => !c.closed)).toHaveLength(MAX_INBOUND_STREAMS);
      expect(openFiles() - filesBefore).toBeLessThanOrEqual(MAX_INBOUND_STREAMS + 4);
      // What the file descriptors are kept for: a call's RTP sockets.
      const peer = await RawSipPeer.open(target);
      try {
        await checkCallWorks(peer, rand);
      } finally {
        peer.close();
      }
      expect(await optionsOverTcp(rand)).toBe('closed');
      expect(daemon.child.output.some((l) => l.includes('inbound SIP connections refused'))).toBe(true);
    } finally {
      held.forEach((c) => c.socket.destroy());
    }
    await waitFor(
      'the held connections closed',
      () => (openFiles() <= filesBefore + 2 ? true : undefined),
      5000,
    );
    expect(await optionsOverTcp(rand)).toBe('SIP/2.0 200 OK');
    expect(failuresLogged(daemon)).toEqual([]);
    expect(daemon.child.exited).toBe(false);
  });

  it("logs a peer's oversized headers over TCP as a record, and prints nothing of it on stdout", async () => {
    const { socket } = await connectTcp();
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write(`OPTIONS sip:1000@${target.host} SIP/2.0\r\nX-Junk: ${'x'.repeat(20_000)}\r\n`);
    await closed;
    // The sip package prints this line with console.log.
    const line = await waitFor('the flood logged', () =>
      daemon.child.output.find((l) => l.includes('Flood attempt, destroying stream')),
    );
    expect(JSON.parse(line)).toMatchObject({ from: 'console', msg: 'Flood attempt, destroying stream' });
  });

  it('keeps 16 from one address, so that another address still gets through', async () => {
    const rand = seeded(SEED + 4);
    const held: HeldConnection[] = [];
    try {
      for (let i = 0; i < 40; i++) {
        held.push(await connectTcp('127.0.0.77'));
      }
      await sleep(500);
      expect(held.filter((c) => !c.closed)).toHaveLength(MAX_INBOUND_STREAMS_PER_ADDRESS);
      expect(await optionsOverTcp(rand)).toBe('SIP/2.0 200 OK');
    } finally {
      held.forEach((c) => c.socket.destroy());
    }
  });
});
