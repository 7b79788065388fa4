import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OfonoClient } from '../../service/client/ofono-client.js';
import { writeTone } from '../harness/audio.js';
import { Baresip } from '../harness/baresip.js';
import { Carphoned } from '../harness/carphoned.js';
import { PrivateBus } from '../harness/dbus-daemon.js';
import { Dnsmasq } from '../harness/dnsmasq.js';
import { Kamailio } from '../harness/kamailio.js';
import { waitFor } from '../harness/process.js';
import { sdpOffer } from '../harness/sip-fuzz.js';
import { sendBareRequest, sendSummaryNotify } from '../harness/summary-notify.js';

/**
 * A line with a registrar takes new requests only from where its proxies are: a SIP scanner elsewhere on
 * the network (here another loopback address, 127.0.0.3) cannot ring the car. Everything else in these
 * tests runs on 127.0.0.1.
 */
const SCANNER = '127.0.0.3';
const MW = 'org.ofono.MessageWaiting';
const waiting = 'Messages-Waiting: yes\r\nVoice-Message: 2/0\r\n';

let bus: PrivateBus;
let kam: Kamailio;
let carol: Baresip;
let daemon: Carphoned | undefined;
let client: OfonoClient | undefined;
let dns: Dnsmasq | undefined;

beforeAll(async () => {
  bus = await PrivateBus.start();
  kam = await Kamailio.start({
    users: [
      { user: '1000', password: 'secret-1000' },
      { user: '2002', password: 'secret-2002' },
    ],
  });
  const dir = mkdtempSync(join(tmpdir(), 'carphone-trusted-'));
  writeTone(join(dir, '440.wav'), 440, 30);
  carol = await Baresip.start({
    user: '2002',
    password: 'secret-2002',
    registrarPort: kam.port,
    autoAnswer: false,
    sourceWav: join(dir, '440.wav'),
  });
});

afterEach(async () => {
  client?.disconnect();
  await daemon?.stop();
  await dns?.stop();
  client = daemon = dns = undefined;
});

afterAll(async () => {
  await carol?.stop();
  await kam?.stop();
  await bus?.stop();
});

async function line(account: object): Promise<{ c: OfonoClient; sip: string }> {
  daemon = await Carphoned.start({
    dbus: { bus: bus.address },
    echoTest: { enabled: false },
    accounts: [{ id: 'sip0', user: '1000', password: 'secret-1000', domain: '127.0.0.1', ...account }],
  });
  client = await daemon.client();
  const sip = String((await client.properties('/sip0', 'org.carphone.SipAccount')).LocalAddress);
  return { c: client, sip };
}

/** A call from a bare socket at `from`: an INVITE with an offer; resolves with its first answer. */
function scannerInvite(sip: string, from: string): Promise<string> {
  return sendBareRequest(sip, {
    method: 'INVITE',
    from,
    headers: 'Content-Type: application/sdp\r\n',
    body: sdpOffer(4000, false),
  });
}

function callsAdded(c: OfonoClient): number {
  return c.signals.filter((s) => s.member === 'CallAdded').length;
}

describe('where a line takes new requests from', () => {
  it('refuses a call, an unsolicited NOTIFY, an OPTIONS and a text message from outside its registrar with 403, and rings for a call through it', async () => {
    const { c, sip } = await line({ registrar: kam.uri });
    await waitFor(
      'registered',
      async () => (await c.properties('/sip0', 'org.carphone.SipAccount')).Registration === 'registered',
      10_000,
    );
    expect(await scannerInvite(sip, SCANNER)).toBe("SIP/2.0 403 Forbidden (not from this line's proxy)");
    expect(await sendBareRequest(sip, { method: 'OPTIONS', from: SCANNER })).toMatch(/^SIP\/2\.0 403 /);
    expect(await sendSummaryNotify(sip, waiting, { from: SCANNER })).toMatch(/^SIP\/2\.0 403 /);
    // A request claiming a dialog is matched against the line's dialogs, wherever it comes from.
    expect(await sendSummaryNotify(sip, waiting, { from: SCANNER, toTag: 'nope' })).toMatch(
      /^SIP\/2\.0 481 /,
    );
    // A text message, too: from elsewhere, or claiming a dialog the line does not have.
    const text = (toTag?: string): Promise<string> =>
      sendBareRequest(sip, {
        method: 'MESSAGE',
        from: SCANNER,
        headers: 'Content-Type: text/plain\r\n',
        body: 'Your parcel is waiting: http://scam.example',
        ...(toTag ? { toTag } : {}),
      });
    expect(await text()).toMatch(/^SIP\/2\.0 403 /);
    expect(await text('nope')).toMatch(/^SIP\/2\.0 481 /);
    expect(c.signals.filter((s) => s.member === 'IncomingMessage')).toEqual([]);
    expect((await c.properties('/sip0', MW)).VoicemailWaiting).toBe(false);
    expect(await c.calls('/sip0')).toEqual([]);
    expect(callsAdded(c)).toBe(0);

    // The same NOTIFY from the registrar's address is taken.
    expect(await sendSummaryNotify(sip, waiting)).toBe('SIP/2.0 200 OK');
    await waitFor(
      'voicemail waiting',
      async () => (await c.properties('/sip0', MW)).VoicemailWaiting === true,
    );
    // carol's call comes through kamailio, and rings.
    await carol.command('dial', `sip:1000@127.0.0.1:${kam.port}`);
    const added = await c.waitForSignal((s) => s.member === 'CallAdded', 10_000);
    expect((added.args[1] as Record<string, unknown>).LineIdentification).toBe('2002');
    expect(daemon?.log(200)).toMatch(/requests refused: not from a trusted source/);
    await carol.command('hangup');
  });

  it('rings for a call from any address where the account says anyone', async () => {
    const { c, sip } = await line({ registrar: kam.uri, acceptRequestsFrom: 'anyone' });
    expect(await scannerInvite(sip, SCANNER)).toMatch(/^SIP\/2\.0 (100|180) /);
    await waitFor('the call rings', () => callsAdded(c) === 1, 5000);
  });

  it('takes requests from any address on a line without a registrar or proxy', async () => {
    const { c, sip } = await line({});
    expect(await sendSummaryNotify(sip, waiting, { from: SCANNER })).toBe('SIP/2.0 200 OK');
    const message = {
      method: 'MESSAGE' as const,
      from: SCANNER,
      headers: 'Content-Type: text/plain\r\n',
      body: 'hi',
    };
    expect(await sendBareRequest(sip, message)).toBe('SIP/2.0 200 OK');
    const incoming = await c.waitForSignal((s) => s.member === 'IncomingMessage', 5000);
    expect(incoming.args[0]).toBe('hi');
    await waitFor(
      'voicemail waiting',
      async () => (await c.properties('/sip0', MW)).VoicemailWaiting === true,
    );
  });

  it('trusts the addresses its registrar and voicemail server are named by in DNS, not the address it runs on', async () => {
    dns = await Dnsmasq.start([
      { type: 'A', name: 'registrar.carphone.test', address: '127.0.0.4' },
      { type: 'A', name: 'voicemail.carphone.test', address: '127.0.0.5' },
    ]);
    const { sip } = await line({
      // Nothing answers there: what is trusted follows the names, registered or not.
      registrar: 'sip:registrar.carphone.test:9',
      voicemail: { server: 'sip:voicemail.carphone.test:9' },
      dnsServers: [dns.server],
    });
    await waitFor('both names looked up', () => (dns?.queries().length ?? 0) >= 2, 5000);
    await waitFor(
      'the registrar trusted',
      async () => (await sendBareRequest(sip, { method: 'OPTIONS', from: '127.0.0.4' })) === 'SIP/2.0 200 OK',
      5000,
    );
    expect(await sendSummaryNotify(sip, waiting, { from: '127.0.0.5' })).toBe('SIP/2.0 200 OK');
    expect(await sendBareRequest(sip, { method: 'OPTIONS', from: '127.0.0.1' })).toMatch(/^SIP\/2\.0 403 /);
    expect(await sendBareRequest(sip, { method: 'OPTIONS', from: SCANNER })).toMatch(/^SIP\/2\.0 403 /);
  });

  it("takes a call from the eCall line's PSAP, which is not its proxy", async () => {
    daemon = await Carphoned.start({
      dbus: { bus: bus.address },
      echoTest: { enabled: false },
      accounts: [
        { id: 'sip0', user: '1000', password: 'secret-1000', domain: '127.0.0.1', registrar: kam.uri },
      ],
      ecall: { psap: 'sip:127.0.0.6:9', vin: 'WVWZZZ1KZAW123456' },
    });
    client = await daemon.client();
    const sip = String((await client.properties('/sip0', 'org.carphone.SipAccount')).LocalAddress);
    expect(await sendBareRequest(sip, { method: 'OPTIONS', from: '127.0.0.6' })).toBe('SIP/2.0 200 OK');
    expect(await scannerInvite(sip, '127.0.0.6')).toMatch(/^SIP\/2\.0 (100|180) /);
    expect(await sendBareRequest(sip, { method: 'OPTIONS', from: SCANNER })).toMatch(/^SIP\/2\.0 403 /);
  });
});
