import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OfonoClient } from '../../service/client/ofono-client.js';
import { closedRecording, medianWindowShare, writeTone } from '../harness/audio.js';
import { Baresip } from '../harness/baresip.js';
import { Carphoned } from '../harness/carphoned.js';
import { PrivateBus } from '../harness/dbus-daemon.js';
import { Kamailio } from '../harness/kamailio.js';
import { waitFor } from '../harness/process.js';
import { selfSignedCertificate } from '../harness/tls-certificate.js';

// An IMS APN is often IPv6 only: here every peer is on ::1 and nothing on IPv4 takes part.
const dir = mkdtempSync(join(tmpdir(), 'carphone-ipv6-'));
const recDir = join(dir, 'carphone-rec');

let kam: Kamailio;
let bob: Baresip; // answers automatically, sends 440 Hz
let carol: Baresip; // calls carphone, sends 1000 Hz
let bus: PrivateBus;
let daemon: Carphoned;
let client: OfonoClient;
// kamailio's certificate, for its IPv6 address (subjectAltName IP:::1).
const certificate = selfSignedCertificate('::1');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  kam = await Kamailio.start({
    address: '::1',
    users: [
      { user: '1000', password: 'secret-1000' },
      { user: '2001', password: 'secret-2001' },
      { user: '2002', password: 'secret-2002' },
      { user: '1001', password: 'secret-1001' },
    ],
    proxyAuth: true,
    tls: certificate,
  });
  writeTone(join(dir, '440.wav'), 440, 60);
  writeTone(join(dir, '1000.wav'), 1000, 60);
  writeTone(join(dir, '700.wav'), 700, 60);
  const baresip = { address: '::1', registrarPort: kam.port };
  bob = await Baresip.start({
    ...baresip,
    user: '2001',
    password: 'secret-2001',
    autoAnswer: true,
    sourceWav: join(dir, '440.wav'),
  });
  carol = await Baresip.start({
    ...baresip,
    user: '2002',
    password: 'secret-2002',
    autoAnswer: false,
    sourceWav: join(dir, '1000.wav'),
  });
  bus = await PrivateBus.start();
  daemon = await Carphoned.start({
    dbus: { bus: bus.address },
    audio: {
      device: { type: 'file', play: join(dir, '700.wav'), record: recDir },
      tones: { ringtone: false },
    },
    accounts: [
      {
        id: 'sip0',
        user: '1000',
        password: 'secret-1000',
        // Written bare: the config puts the brackets a SIP URI needs around it.
        domain: '::1',
        registrar: kam.uri,
        listen: { address: '::1' },
      },
      {
        id: 'secure',
        user: '1001',
        password: 'secret-1001',
        domain: '::1',
        registrar: kam.tlsUri,
        transport: 'tls',
        tlsCaFile: certificate.certFile,
        listen: { address: '::1' },
      },
    ],
  });
  client = await daemon.client();
  await waitFor(
    'sip0 registered',
    async () => (await client.properties('/sip0', 'org.carphone.SipAccount')).Registration === 'registered',
    10_000,
  );
}, 60_000);

afterAll(async () => {
  client?.disconnect();
  await daemon?.stop();
  await Promise.allSettled([bob?.stop(), carol?.stop(), kam?.stop(), bus?.stop()]);
});

describe('a line on IPv6', () => {
  it('registers with kamailio over IPv6 from its IPv6 address', async () => {
    const account = await client.properties('/sip0', 'org.carphone.SipAccount');
    expect(account).toMatchObject({ Registration: 'registered', Aor: 'sip:1000@[::1]' });
    expect(String(account.LocalAddress)).toMatch(/^\[::1\]:\d+$/);
    // kamailio's Via received (bare) and our Via host (bracketed) are read as one address.
    expect(account.PublicAddress).toBe(account.LocalAddress);
    expect(kam.log()).toMatch(/REQ REGISTER sip:\[::1\]:\d+ from ::1:/);
  });

  it('calls baresip through kamailio, each side hearing the other over IPv6 RTP', async () => {
    const ours = recordings();
    expect(medianWindowShare(await callBob('/sip0'), 700)).toBeGreaterThan(0.8);
    const weHeard = await closedRecording(await newRecording(ours));
    expect(medianWindowShare(weHeard, 440)).toBeGreaterThan(0.8);
  });

  it(
    "registers over TLS on IPv6, checking the certificate against kamailio's IPv6 address, and calls over it",
    { timeout: 60_000 },
    async () => {
      // Its first REGISTER may have met kamailio's TLS listener not yet up, and waits out a backoff.
      await waitFor(
        'secure registered',
        async () =>
          (await client.properties('/secure', 'org.carphone.SipAccount')).Registration === 'registered',
        30_000,
      ).catch(async (e: unknown) => {
        const account = await client.properties('/secure', 'org.carphone.SipAccount');
        throw new Error(`${String(e)}: ${String(account.RegistrationError)}\n${daemon.log(40)}`);
      });
      expect(kam.log()).toMatch(/REQ REGISTER sip:\[::1\]:\d+;transport=tls from ::1:\d+ proto=tls/);
      expect(medianWindowShare(await callBob('/secure'), 700)).toBeGreaterThan(0.8);
      expect(kam.log()).toMatch(/REQ INVITE sip:2001@\[::1\] from ::1:\d+ proto=tls/);
    },
  );

  it("answers *43 on the IPv6 line with the built-in echo line on ::1, returning the driver's audio", async () => {
    const ours = recordings();
    const since = client.signals.length;
    const path = await client.dial('/sip0', '*43');
    await client.waitForCallState(path, 'active', 10_000, since);
    await sleep(1500);
    await client.hangup(path);
    await client.waitForSignal((s) => s.member === 'CallRemoved' && s.args[0] === path, 10_000, since);
    // Through two jitter buffers (the echo line's and the call's): judged over 200 ms windows.
    expect(medianWindowShare(await closedRecording(await newRecording(ours)), 700)).toBeGreaterThan(0.8);
    expect(daemon.log(200)).not.toMatch(/no echo line on ::1/);
  });

  it('takes a call from baresip over IPv6 and answers it', async () => {
    const ours = recordings();
    const since = client.signals.length;
    await carol.command('dial', `sip:1000@[::1]:${kam.port}`);
    const added = await client.waitForSignal((s) => s.member === 'CallAdded', 10_000, since);
    const [path, props] = added.args as [string, Record<string, unknown>];
    expect(props.State).toBe('incoming');
    expect(props.LineIdentification).toBe('2002');
    await client.answer(path);
    await client.waitForCallState(path, 'active', 10_000, since);
    await sleep(2000);
    await client.hangup(path);
    await client.waitForSignal((s) => s.member === 'CallRemoved' && s.args[0] === path, 10_000, since);
    const weHeard = await closedRecording(await newRecording(ours));
    expect(medianWindowShare(weHeard, 1000)).toBeGreaterThan(0.8);
  });
});

/** Calls bob (2001) from `line`, talks 2 s and hangs up; resolves with bob's recording of the call. */
async function callBob(line: string): Promise<string> {
  const before = bob.receivedRecordings();
  const since = client.signals.length;
  const path = await client.dial(line, '2001');
  await client.waitForCallState(path, 'active', 10_000, since);
  await sleep(2000);
  await client.hangup(path);
  await client.waitForSignal((s) => s.member === 'CallRemoved' && s.args[0] === path, 10_000, since);
  const heard = await waitFor('baresip recording', () =>
    bob.receivedRecordings().find((f) => !before.includes(f)),
  );
  await sleep(300);
  return heard;
}

function recordings(): string[] {
  return existsSync(recDir) ? readdirSync(recDir).map((f) => join(recDir, f)) : [];
}

/** The recording carphone made of a call since `before` was listed. */
function newRecording(before: string[]): Promise<string> {
  return waitFor('carphone recording', () => recordings().find((f) => !before.includes(f)));
}
