import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OfonoClient } from '../../service/client/ofono-client.js';
import { ctl } from '../harness/carphonectl.js';
import { Carphoned } from '../harness/carphoned.js';
import { PrivateBus } from '../harness/dbus-daemon.js';
import { Sipp } from '../harness/sipp.js';
import { waitFor } from '../harness/process.js';

let bus: PrivateBus;
let daemon: Carphoned;
let client: OfonoClient;
let sipAddress: string;

beforeAll(async () => {
  bus = await PrivateBus.start();
  daemon = await Carphoned.start({
    dbus: { bus: bus.address },
    accounts: [{ id: 'sip0', user: '1000', domain: '127.0.0.1' }],
  });
  client = await daemon.client();
  sipAddress = String((await client.properties('/sip0', 'org.carphone.SipAccount')).LocalAddress);
});

afterAll(async () => {
  client?.disconnect();
  await daemon?.stop();
  await bus?.stop();
});

/** Waits for the call's RemoteHeld property to become `held`. */
async function remoteHeld(path: string, held: boolean, since: number): Promise<void> {
  await client.waitForSignal(
    (s) =>
      s.path === path && s.member === 'PropertyChanged' && s.args[0] === 'RemoteHeld' && s.args[1] === held,
    10_000,
    since,
  );
}

describe('against SIPp scenarios', () => {
  for (const [scenario, how] of [
    ['remote-hold-uac.xml', 're-INVITEs'],
    ['remote-hold-update-uac.xml', 'UPDATEs (RFC 3311)'],
  ] as const) {
    it(`shows the far end holding and resuming the call with ${how} as RemoteHeld, answering recvonly then sendrecv`, async () => {
      const since = client.signals.length;
      const sipp = await Sipp.start(scenario, ['-s', '1000', sipAddress]);
      const added = await client.waitForSignal((s) => s.member === 'CallAdded', 10_000, since);
      const [path] = added.args as [string];
      await client.answer(path);
      await remoteHeld(path, true, since);
      expect((await client.properties(path, 'org.ofono.VoiceCall')).State).toBe('active');
      await remoteHeld(path, false, since);
      const reason = await client.waitForDisconnectReason(path, 10_000, since);
      expect(reason).toBe('remote');
      expect(await sipp.exitCode()).toBe(0);
    });
  }

  for (const [status, reason] of [
    [486, 'remote'],
    [603, 'remote'],
    [503, 'network'],
    [302, 'network'],
  ] as const) {
    it(`plays early media from a 183, then maps a final ${status} to DisconnectReason "${reason}"`, async () => {
      const since = client.signals.length;
      const sipp = await Sipp.start('final-response-uas.xml', [], { status: String(status) });
      const path = await client.dial('/sip0', `sip:far@127.0.0.1:${sipp.port}`);
      await client.waitForCallState(path, 'alerting', 10_000, since);
      expect(await client.waitForDisconnectReason(path, 10_000, since)).toBe(reason);
      expect(await sipp.exitCode()).toBe(0);
    });
  }

  it('rings reliably where the caller requires it (RFC 3262): a 180 with RSeq, 200 to its PRACK, then the answer', async () => {
    const since = client.signals.length;
    const sipp = await Sipp.start('reliable-ringing-uac.xml', ['-s', '1000', sipAddress]);
    const added = await client.waitForSignal((s) => s.member === 'CallAdded', 10_000, since);
    const [path] = added.args as [string];
    // The scenario wants the PRACK's 200 before the INVITE's; the PRACK goes out as the 180 arrives.
    await new Promise((r) => setTimeout(r, 500));
    await client.answer(path);
    const reason = await client.waitForDisconnectReason(path, 10_000, since);
    expect(reason).toBe('remote');
    expect(await sipp.exitCode()).toBe(0);
  });

  it('refuses with 504 a call whose caller never acknowledges its reliable 180, resending the 180 until then', async () => {
    const since = client.signals.length;
    const sipp = await Sipp.start('reliable-ringing-no-prack-uac.xml', [
      '-s',
      '1000',
      sipAddress,
      '-timeout',
      '45s',
    ]);
    const added = await client.waitForSignal((s) => s.member === 'CallAdded', 10_000, since);
    const [path] = added.args as [string];
    // 64·T1 = 32 s after the first 180 (RFC 3262 §3).
    const reason = await client.waitForDisconnectReason(path, 40_000, since);
    expect(reason).toBe('network');
    expect(await sipp.exitCode()).toBe(0);
    // SIPp's count of 180s received again: resent 0.5, 1.5, 3.5, 7.5, 15.5 and 31.5 s after the first.
    const retransmitted = /180 <-+\s+\d+\s+(\d+)/.exec(sipp.child.tail(60))?.[1];
    expect(Number(retransmitted)).toBeGreaterThanOrEqual(5);
  }, 60_000);

  it('acknowledges a reliable 183 with early media by PRACK, and the far end answers after it', async () => {
    const since = client.signals.length;
    const sipp = await Sipp.start('reliable-early-media-uas.xml');
    const path = await client.dial('/sip0', `sip:far@127.0.0.1:${sipp.port}`);
    await client.waitForCallState(path, 'active', 10_000, since);
    await client.hangup(path);
    expect(await sipp.exitCode()).toBe(0);
  });

  for (const [how, forwarding] of [
    [
      'History-Info (TS 24.604)',
      'History-Info: <sip:+4989123@ims.example.net;user=phone>;index=1\n' +
        'History-Info: <sip:1000@ims.example.net;cause=486>;index=1.1;mp=1',
    ],
    ['Diversion (RFC 5806)', 'Diversion: <sip:+4989123@ims.example.net>;reason=user-busy;counter=1'],
  ] as const) {
    it(`says a call forwarded to the car was, from which number and why, read from ${how}, and the line it reached`, async () => {
      const since = client.signals.length;
      const sipp = await Sipp.start('forwarded-call-uac.xml', ['-s', '1000', sipAddress], { forwarding });
      const added = await client.waitForSignal((s) => s.member === 'CallAdded', 10_000, since);
      const [path, props] = added.args as [string, Record<string, unknown>];
      expect(props).toMatchObject({
        LineIdentification: '+4930555',
        Name: 'Anna Schmidt',
        Forwarded: 'busy',
        ForwardedFrom: '+4989123',
        IncomingLine: '+4917055',
      });
      const signal = await client.waitForSignal((s) => s.member === 'Forwarded', 5000, since);
      expect(signal.args).toEqual(['incoming']);
      expect(signal.path).toBe('/sip0');
      expect(await client.properties(path, 'org.ofono.VoiceCall')).toMatchObject({ Forwarded: 'busy' });
      expect((await ctl(bus.address, 'calls')).stdout).toMatch(
        /incoming \+4930555 \(Anna Schmidt\) forwarded busy from \+4989123$/m,
      );
      await client.answer(path);
      expect(await client.waitForDisconnectReason(path, 10_000, since)).toBe('remote');
      expect(await sipp.exitCode()).toBe(0);
    });
  }

  it('says a call from the car was forwarded on when the far end answers 181 with History-Info', async () => {
    const since = client.signals.length;
    const sipp = await Sipp.start('forwarded-on-uas.xml');
    const path = await client.dial('/sip0', `sip:far@127.0.0.1:${sipp.port}`);
    await client.waitForCallState(path, 'alerting', 10_000, since);
    expect((await client.properties(path, 'org.ofono.VoiceCall')).Forwarded).toBe('');
    const changed = await client.waitForSignal(
      (s) => s.path === path && s.member === 'PropertyChanged' && s.args[0] === 'Forwarded',
      10_000,
      since,
    );
    expect(changed.args[1]).toBe('no-reply');
    const signal = await client.waitForSignal((s) => s.member === 'Forwarded', 5000, since);
    expect(signal.args).toEqual(['outgoing']);
    await client.waitForCallState(path, 'active', 10_000, since);
    expect(client.signals.slice(since).filter((s) => s.member === 'Forwarded')).toHaveLength(1);
    await client.hangup(path);
    expect(await sipp.exitCode()).toBe(0);
  });

  it('answers OPTIONS with 200 and the methods it allows', async () => {
    const [host, port] = sipAddress.split(':');
    const socket = createSocket('udp4');
    const replies: string[] = [];
    socket.on('message', (m) => replies.push(m.toString()));
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    const local = socket.address().port;
    socket.send(
      `OPTIONS sip:1000@${sipAddress} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bKopt1\r\nMax-Forwards: 70\r\n` +
        `From: <sip:probe@127.0.0.1>;tag=9\r\nTo: <sip:1000@127.0.0.1>\r\nCall-ID: opt1@x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
      Number(port),
      host,
    );
    const reply = await waitFor('OPTIONS reply', () => replies[0], 5000);
    socket.close();
    expect(reply).toMatch(/^SIP\/2\.0 200 OK\r\n/);
    expect(reply).toMatch(
      /\r\nAllow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, REFER, NOTIFY, UPDATE, PRACK, MESSAGE\r\n/,
    );
    expect(reply).toMatch(/\r\nAccept: application\/sdp\r\n/);
  });
});
