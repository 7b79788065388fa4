import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OfonoClient } from '../../service/client/ofono-client.js';
import {
  analyseWav,
  closedRecording,
  medianWindowShare,
  toneLevelDb,
  windowedDominantFrequency,
  toneBursts,
  windowShares,
  writeTone,
} from '../harness/audio.js';
import { Baresip } from '../harness/baresip.js';
import { Carphoned } from '../harness/carphoned.js';
import { PrivateBus } from '../harness/dbus-daemon.js';
import { Kamailio } from '../harness/kamailio.js';
import { waitFor } from '../harness/process.js';
import { MediaFront } from '../harness/impairment-relay.js';

const dir = mkdtempSync(join(tmpdir(), 'carphone-calls-'));
const recDir = join(dir, 'carphone-rec');

let kam: Kamailio;
let bob: Baresip; // answers automatically, sends 440 Hz
let carol: Baresip; // rings, sends 1000 Hz, calls carphone
let dave: Baresip; // answers automatically, speaks only A-law, sends 550 Hz
let erin: Baresip; // answers automatically, speaks only Opus, sends 600 Hz
let frank: Baresip; // answers automatically, takes only SRTP (RTP/SAVP, SDES), sends 800 Hz
let bus: PrivateBus;
let daemon: Carphoned;
let client: OfonoClient;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Each of `calls` ended from this side: DisconnectReason "local" since signal `since`. */
async function endedHere(calls: string[], since: number): Promise<void> {
  for (const call of calls) {
    const reason = await client.waitForSignal(
      (s) => s.path === call && s.member === 'DisconnectReason',
      10_000,
      since,
    );
    expect(reason.args).toEqual(['local']);
  }
}

async function noCalls(modem = '/sip0'): Promise<void> {
  await waitFor('no calls left', async () => (await client.calls(modem)).length === 0, 10_000);
}

function newRecordings(before: string[], after: string[]): string[] {
  return after.filter((f) => !before.includes(f));
}

/** carol calls carphone's line 1000 through kamailio; resolves with the new call's object path. */
async function carolCalls(expectedState: 'incoming' | 'waiting'): Promise<string> {
  const since = client.signals.length;
  await carol.command('dial', `sip:1000@127.0.0.1:${kam.port}`);
  const added = await client.waitForSignal((s) => s.member === 'CallAdded', 10_000, since);
  const [path, props] = added.args as [string, Record<string, unknown>];
  expect(props.State).toBe(expectedState);
  expect(props.LineIdentification).toBe('2002');
  // baresip sends its display name as UTF-8 bytes.
  expect(props.Name).toBe('Carol Jürgensen 山田');
  return path;
}

beforeAll(async () => {
  kam = await Kamailio.start({
    users: [
      { user: '1000', password: 'secret-1000' },
      { user: '1001', password: 'secret-1001' },
      { user: '2001', password: 'secret-2001' },
      { user: '2002', password: 'secret-2002' },
      { user: '2003', password: 'secret-2003' },
      { user: '2004', password: 'secret-2004' },
      { user: '2005', password: 'secret-2005' },
      { user: '1002', password: 'secret-1002' },
      { user: '1003', password: 'secret-1003' },
    ],
    proxyAuth: true,
  });
  writeTone(join(dir, '440.wav'), 440, 120);
  writeTone(join(dir, '1000.wav'), 1000, 120);
  writeTone(join(dir, '700.wav'), 700, 120);
  writeTone(join(dir, '550.wav'), 550, 120);
  writeTone(join(dir, '800.wav'), 800, 120);
  // baresip's aufile source must match its Opus codec: 48 kHz, stereo.
  writeTone(join(dir, '600.wav'), 600, 120, 8000, 48000, 2);
  bob = await Baresip.start({
    user: '2001',
    password: 'secret-2001',
    registrarPort: kam.port,
    autoAnswer: true,
    sourceWav: join(dir, '440.wav'),
  });
  carol = await Baresip.start({
    user: '2002',
    password: 'secret-2002',
    registrarPort: kam.port,
    autoAnswer: false,
    sourceWav: join(dir, '1000.wav'),
    displayName: 'Carol Jürgensen 山田',
  });
  dave = await Baresip.start({
    user: '2003',
    password: 'secret-2003',
    registrarPort: kam.port,
    autoAnswer: true,
    sourceWav: join(dir, '550.wav'),
    codecs: ['PCMA'],
  });
  erin = await Baresip.start({
    user: '2004',
    password: 'secret-2004',
    registrarPort: kam.port,
    autoAnswer: true,
    sourceWav: join(dir, '600.wav'),
    codecs: ['opus/48000/2'],
  });
  frank = await Baresip.start({
    user: '2005',
    password: 'secret-2005',
    registrarPort: kam.port,
    autoAnswer: true,
    sourceWav: join(dir, '800.wav'),
    mediaenc: 'srtp-mand',
  });
  bus = await PrivateBus.start();
  daemon = await Carphoned.start({
    dbus: { bus: bus.address },
    log: { level: 'debug' },
    audio: { device: { type: 'file', play: join(dir, '700.wav'), record: recDir } },
    accounts: [
      {
        id: 'sip0',
        user: '1000',
        password: 'secret-1000',
        displayName: 'Auto Müller 車',
        domain: '127.0.0.1',
        registrar: kam.uri,
        expires: 10,
        rtcpIntervalSeconds: 1,
        // Every call this line holds sends baresip keep-alives (RFC 6263) while held.
        rtpKeepAliveSeconds: 1,
      },
      { id: 'wrongpw', user: '1001', password: 'not-the-password', domain: '127.0.0.1', registrar: kam.uri },
      {
        // Its media is reached through an impairing relay on 127.0.0.2 (the test's "radio link").
        id: 'mobile',
        user: '1003',
        password: 'secret-1003',
        domain: '127.0.0.1',
        registrar: kam.uri,
        codecs: ['opus', 'pcmu'],
        mediaAddress: '127.0.0.2',
        rtpPorts: { min: 21000, max: 21003 },
        rtcpIntervalSeconds: 1,
      },
      {
        id: 'secure',
        user: '1002',
        password: 'secret-1002',
        domain: '127.0.0.1',
        registrar: kam.uri,
        srtp: 'mandatory',
        codecs: ['pcmu', 'pcma'],
        rtcpIntervalSeconds: 1,
      },
    ],
  });
  client = await daemon.client();
  await waitFor(
    'sip0 registered',
    async () => (await client.properties('/sip0', 'org.carphone.SipAccount')).Registration === 'registered',
  );
}, 60_000);

afterEach(async () => {
  // A failed test must not leave a call up for the next one.
  if ((await client.calls('/sip0').catch(() => [])).length > 0) {
    await client.manager('/sip0', 'HangupAll').catch(() => undefined);
    await noCalls().catch(() => undefined);
  }
});

afterAll(async () => {
  client?.disconnect();
  await daemon?.stop();
  await Promise.allSettled([
    bob?.stop(),
    carol?.stop(),
    dave?.stop(),
    erin?.stop(),
    frank?.stop(),
    kam?.stop(),
    bus?.stop(),
  ]);
});

describe('registration', () => {
  it('registers with digest auth and shows it in NetworkRegistration and SipAccount', async () => {
    expect((await client.properties('/sip0', 'org.ofono.NetworkRegistration')).Status).toBe('registered');
    const account = await client.properties('/sip0', 'org.carphone.SipAccount');
    expect(account).toMatchObject({
      Registration: 'registered',
      RegistrationError: '',
      Aor: 'sip:1000@127.0.0.1',
    });
    // No NAT on loopback: kamailio sees the REGISTER come from where the line listens.
    expect(account.PublicAddress).toBe(account.LocalAddress);
  });

  it('refreshes the registration before it expires', async () => {
    const { LocalAddress } = await client.properties('/sip0', 'org.carphone.SipAccount');
    const registersFromUs = (): number =>
      kam
        .log()
        .split('\n')
        .filter((l) => l.includes('REQ REGISTER') && l.includes(`from ${String(LocalAddress)}`)).length;
    const before = registersFromUs();
    // 10 s granted, refreshed at half: within 7 s at least one more REGISTER must arrive.
    await waitFor('a refresh REGISTER', () => registersFromUs() > before, 7000, 200);
    expect((await client.properties('/sip0', 'org.carphone.SipAccount')).Registration).toBe('registered');
  });

  it('reports a wrong password over D-Bus as denied, naming authentication', async () => {
    await waitFor(
      'wrong password reported',
      async () => (await client.properties('/wrongpw', 'org.carphone.SipAccount')).Registration === 'failed',
    );
    const account = await client.properties('/wrongpw', 'org.carphone.SipAccount');
    expect(String(account.RegistrationError)).toMatch(/authentication rejected/);
    expect((await client.properties('/wrongpw', 'org.ofono.NetworkRegistration')).Status).toBe('denied');
    const failure = await client.dial('/wrongpw', '2001').catch((e: unknown) => e);
    expect(failure).toMatchObject({ type: 'org.ofono.Error.Failed' });
    expect(String(failure)).toMatch(/not registered/);
  });
});

describe('outgoing calls', () => {
  it('calls baresip through kamailio under its UTF-8 display name, and baresip hears the tone carphone sends', async () => {
    const before = bob.receivedRecordings();
    const since = client.signals.length;
    const bobEvents = bob.events.length;
    const path = await client.dial('/sip0', '2001');
    await client.waitForCallState(path, 'active', 10_000, since);
    const bobsCall = bob.events.slice(bobEvents).find((e) => e.peeruri === 'sip:1000@127.0.0.1');
    expect(bobsCall?.peerdisplayname).toBe('Auto Müller 車');
    await sleep(2000);
    await client.hangup(path);
    await endedHere([path], since);
    await noCalls();
    const rec = await waitFor('baresip recording', () => newRecordings(before, bob.receivedRecordings())[0]);
    await sleep(300);
    const heard = analyseWav(rec);
    expect(heard.hz).toBe(700);
    expect(heard.share).toBeGreaterThan(0.5);
    expect(heard.seconds).toBeGreaterThan(1);
  });

  it('withholds its identity on every Dial that leaves it to the line, with CallSettings HideCallerId "enabled"', async () => {
    const cs = 'org.ofono.CallSettings';
    await client.setProperty('/sip0', cs, 'HideCallerId', 's', 'enabled');
    try {
      for (const [hide, anonymous] of [
        ['', true],
        ['disabled', false],
      ] as const) {
        const since = client.signals.length;
        const bobEvents = bob.events.length;
        const path = await client.dial('/sip0', '2001', hide);
        await client.waitForCallState(path, 'active', 10_000, since);
        const bobsCall = await bob.waitForEvent('CALL_ESTABLISHED', 5000, bobEvents);
        expect(bobsCall.peeruri === 'sip:anonymous@anonymous.invalid').toBe(anonymous);
        await client.hangup(path);
        await noCalls();
      }
    } finally {
      await client.setProperty('/sip0', cs, 'HideCallerId', 's', 'default');
    }
  });

  it('withholds its identity when Dial asks (hide_callerid "enabled"): baresip sees an anonymous caller', async () => {
    const since = client.signals.length;
    const bobEvents = bob.events.length;
    const path = await client.dial('/sip0', '2001', 'enabled');
    await client.waitForCallState(path, 'active', 10_000, since);
    const bobsCall = await bob.waitForEvent('CALL_ESTABLISHED', 5000, bobEvents);
    expect(bobsCall).toMatchObject({
      peeruri: 'sip:anonymous@anonymous.invalid',
      peerdisplayname: 'Anonymous',
    });
    expect(JSON.stringify(bob.events.slice(bobEvents))).not.toContain('1000@');
    expect(kam.log()).toMatch(
      /REQ INVITE sip:2001@127\.0\.0\.1 from \S+ proto=udp expires=\S* privacy=header;id/,
    );
    await client.hangup(path);
    await noCalls();
  });

  it('carries A-law (PCMA) audio both ways with a phone that speaks nothing else', async () => {
    const carphoneBefore = readdirSafe(recDir);
    const daveBefore = dave.receivedRecordings();
    const since = client.signals.length;
    const path = await client.dial('/sip0', '2003');
    await client.waitForCallState(path, 'active', 10_000, since);
    await sleep(2000);
    await client.hangup(path);
    await noCalls();
    await sleep(300);
    const ours = newRecordings(carphoneBefore, readdirSafe(recDir));
    expect(analyseWav(join(recDir, ours[0] ?? '')).hz).toBe(550);
    const daveRec = await waitFor(
      'dave recording',
      () => newRecordings(daveBefore, dave.receivedRecordings())[0],
    );
    expect(analyseWav(daveRec).hz).toBe(700);
  });

  it('carries Opus audio and DTMF both ways with a phone that speaks nothing else, calling and called', async () => {
    for (const direction of ['outgoing', 'incoming'] as const) {
      const carphoneBefore = readdirSafe(recDir);
      const erinBefore = erin.receivedRecordings();
      const since = client.signals.length;
      let path: string;
      if (direction === 'outgoing') {
        path = await client.dial('/sip0', '2004');
      } else {
        await erin.command('dial', `sip:1000@127.0.0.1:${kam.port}`);
        const added = await client.waitForSignal((s) => s.member === 'CallAdded', 10_000, since);
        path = String(added.args[0]);
        await client.answer(path);
      }
      await client.waitForCallState(path, 'active', 10_000, since);
      const erinEvents = erin.events.length;
      // DTMF beside Opus goes as telephone-event at Opus's 48 kHz clock (RFC 4733 §2.1, RFC 7587).
      await client.call('/sip0', 'org.ofono.VoiceCallManager', 'SendTones', 's', ['7']);
      const key = await erin.waitForEvent('CALL_DTMF_START', 5000, erinEvents);
      expect(key.param, direction).toBe('7');
      await sleep(1500);
      await client.hangup(path);
      await noCalls();
      await sleep(300);
      const ours = newRecordings(carphoneBefore, readdirSafe(recDir));
      const ourRec = join(recDir, ours[0] ?? '');
      expect(analyseWav(ourRec).hz, direction).toBe(600);
      expect(medianWindowShare(ourRec, 600), direction).toBeGreaterThan(0.8);
      const erinRec = await waitFor(
        'erin recording',
        () => newRecordings(erinBefore, erin.receivedRecordings())[0],
      );
      const heardByErin = analyseWav(erinRec);
      expect(heardByErin.hz, direction).toBe(700);
      expect(heardByErin.share, direction).toBeGreaterThan(0.5);
    }
  });

  it('carries SRTP (SDES, AES_CM_128_HMAC_SHA1_80) audio both ways with a phone that takes nothing else', async () => {
    await waitFor(
      'secure line registered',
      async () =>
        (await client.properties('/secure', 'org.carphone.SipAccount')).Registration === 'registered',
    );
    const carphoneBefore = readdirSafe(recDir);
    const frankBefore = frank.receivedRecordings();
    const since = client.signals.length;
    const path = await client.dial('/secure', '2005');
    await client.waitForCallState(path, 'active', 10_000, since);
    // RTCP is protected too (SRTCP): a round-trip time means frank decrypted our sender report and
    // we its receiver report. baresip reports every 5 s.
    await waitFor(
      'round-trip time over SRTCP',
      async () => (await client.properties(path, 'org.carphone.CallQuality')).RoundTripTime !== undefined,
      12_000,
      250,
    );
    await client.hangup(path);
    await waitFor('no calls on the secure line', async () => (await client.calls('/secure')).length === 0);
    await sleep(300);
    const ours = newRecordings(carphoneBefore, readdirSafe(recDir));
    const ourRec = join(recDir, ours[0] ?? '');
    expect(analyseWav(ourRec).hz).toBe(800);
    expect(medianWindowShare(ourRec, 800)).toBeGreaterThan(0.8);
    const frankRec = await waitFor(
      'frank recording',
      () => newRecordings(frankBefore, frank.receivedRecordings())[0],
    );
    expect(analyseWav(frankRec).hz).toBe(700);
  });

  it('carries G.711 and Opus calls with baresip over an impaired link: the tone arrives, loss is concealed, the jitter buffer grows', async () => {
    const { front, impaired } = await MediaFront.start(
      '127.0.0.2',
      '127.0.0.1',
      { min: 21000, max: 21003 },
      {
        delayMs: 40,
        jitterMs: 30,
        lossEnter: 0.03,
        lossStay: 0.5,
        reorderShare: 0.05,
        seed: 3,
      },
    );
    try {
      await waitFor(
        'mobile line registered',
        async () =>
          (await client.properties('/mobile', 'org.carphone.SipAccount')).Registration === 'registered',
      );
      for (const [number, hz] of [
        ['2001', 440], // bob: G.711
        ['2004', 600], // erin: Opus only
      ] as const) {
        const relayedBefore = impaired.reduce((a, r) => a + r.counts.in, 0);
        const droppedBefore = impaired.reduce((a, r) => a + r.counts.dropped, 0);
        const carphoneBefore = readdirSafe(recDir);
        const since = client.signals.length;
        const path = await client.dial('/mobile', number);
        await client.waitForCallState(path, 'active', 10_000, since);
        await sleep(5000);
        const quality = await client.properties(path, 'org.carphone.CallQuality');
        await client.hangup(path);
        await waitFor(
          'no calls on the mobile line',
          async () => (await client.calls('/mobile')).length === 0,
        );
        await sleep(300);
        const relayed = impaired.reduce((a, r) => a + r.counts.in, 0) - relayedBefore;
        const dropped = impaired.reduce((a, r) => a + r.counts.dropped, 0) - droppedBefore;
        expect(relayed, number).toBeGreaterThan(200);
        expect(dropped, number).toBeGreaterThan(3);
        // carphoned measured what the link did: loss, jitter, and a buffer above the fastest packet.
        expect(Number(quality.PacketLoss), number).toBeGreaterThan(0.5);
        expect(Number(quality.Jitter), number).toBeGreaterThan(3);
        expect(Number(quality.JitterBufferDelay), number).toBeGreaterThan(10);
        // The jitter buffer's own account: a target above the link's jitter floor, the lost frames
        // concealed, and waits for late frames (expansions). Catching up again (accelerations) came in
        // the first 5 s in some runs and not in others (0 in one CI run), so only its presence is checked.
        expect(Number(quality.JitterBufferTarget), number).toBeGreaterThan(10);
        expect(Number(quality.ConcealedFrames), number).toBeGreaterThan(0);
        expect(Number(quality.ExpandedFrames), number).toBeGreaterThan(0);
        expect(quality.AcceleratedFrames, number).toBeTypeOf('number');
        const recFile = join(recDir, newRecordings(carphoneBefore, readdirSafe(recDir))[0] ?? '');
        // The tone is there through the stretches, compressions and concealments.
        expect(windowedDominantFrequency(recFile), number).toBe(hz);
        expect(medianWindowShare(recFile, hz), number).toBeGreaterThan(0.8);
        expect(analyseWav(recFile).seconds, number).toBeGreaterThan(4);
      }
    } finally {
      front.close();
    }
  });

  it('will not fall back to plain RTP on a line that requires SRTP', async () => {
    const since = client.signals.length;
    const path = await client.dial('/secure', '2001');
    const reason = await client.waitForSignal(
      (s) => s.path === path && s.member === 'DisconnectReason',
      10_000,
      since,
    );
    expect(reason.args).toEqual(['remote']);
    await waitFor('no calls on the secure line', async () => (await client.calls('/secure')).length === 0);
  });

  it('reports the far end hanging up as DisconnectReason "remote"', async () => {
    const since = client.signals.length;
    const path = await client.dial('/sip0', '2001');
    await client.waitForCallState(path, 'active', 10_000, since);
    await bob.command('hangup');
    const reason = await client.waitForSignal(
      (s) => s.path === path && s.member === 'DisconnectReason',
      5000,
      since,
    );
    expect(reason.args).toEqual(['remote']);
    await client.waitForSignal((s) => s.member === 'CallRemoved' && s.args[0] === path, 5000, since);
  });

  it('cancels an unanswered call when the driver hangs up while it rings', async () => {
    const since = client.signals.length;
    const carolEvents = carol.events.length;
    const path = await client.dial('/sip0', '2002');
    await client.waitForCallState(path, 'alerting', 10_000, since);
    await carol.waitForEvent('CALL_INCOMING', 5000, carolEvents);
    await client.hangup(path);
    await client.waitForSignal((s) => s.member === 'CallRemoved' && s.args[0] === path, 5000, since);
    const closed = await carol.waitForEvent('CALL_CLOSED', 5000, carolEvents);
    expect(closed.type).toBe('CALL_CLOSED');
    expect(carol.events.slice(carolEvents).some((e) => e.type === 'CALL_ESTABLISHED')).toBe(false);
  });

  it('puts a call on hold and resumes it with re-INVITEs, keeping its media alive meanwhile, and hears baresip again', async () => {
    const since = client.signals.length;
    const bobEvents = bob.events.length;
    const carphoneBefore = readdirSafe(recDir);
    const path = await client.dial('/sip0', '2001');
    await client.waitForCallState(path, 'active', 10_000, since);
    await client.manager('/sip0', 'SwapCalls');
    await client.waitForCallState(path, 'held', 5000, since);
    const heldMark = daemon.child.mark();
    await sleep(2500);
    const keepAlives = daemon.child.linesSince(heldMark).filter((l) => l.includes('RTP keep-alive sent'));
    const resumed = client.signals.length;
    await client.manager('/sip0', 'SwapCalls');
    await client.waitForCallState(path, 'active', 5000, resumed);
    // baresip saw the initial offer and the two re-offers (hold, resume).
    await waitFor(
      're-offers at baresip',
      () => bob.events.slice(bobEvents).filter((e) => e.type === 'CALL_REMOTE_SDP').length >= 3,
      5000,
    );
    await sleep(1500);
    await client.manager('/sip0', 'HangupAll');
    await noCalls();
    await sleep(300);
    // One a second while held (rtpKeepAliveSeconds: 1), to a real phone, which went on with the call.
    expect(keepAlives.length).toBeGreaterThanOrEqual(2);
    const ours = join(recDir, newRecordings(carphoneBefore, readdirSafe(recDir))[0] ?? '');
    const seconds = analyseWav(ours).seconds;
    expect(toneLevelDb(ours, 440, seconds - 1.2, seconds - 0.2)).toBeGreaterThan(-20);
  });
});

describe('multiparty calls', () => {
  const level = (file: string, hz: number, from: number, to: number): number =>
    Math.round(toneLevelDb(file, hz, from, to));
  /**
   * The 200 ms windows of a recording in which every one of `hz` sounds (each above -20 dBFS) and none
   * of `silentHz` (each below -40).
   */
  const windowsWith = (file: string, hz: number[], silentHz: number[]): number => {
    const seconds = analyseWav(file).seconds;
    let count = 0;
    for (let t = 0; t + 0.2 <= seconds; t += 0.2) {
      if (
        hz.every((f) => toneLevelDb(file, f, t, t + 0.2) > -20) &&
        silentHz.every((f) => toneLevelDb(file, f, t, t + 0.2) < -40)
      ) {
        count++;
      }
    }
    return count;
  };
  const windowsWithAll = (file: string, hz: number[]): number => windowsWith(file, hz, []);

  // baresip records only what arrives, and stops recording a call at hold for good: each direction
  // is checked on the call that was active when the calls were joined.
  it('joins a held and an active call into one mixed here: the active far end hears the cabin and the other, until a private chat splits them', async () => {
    const since = client.signals.length;
    const daveBefore = dave.receivedRecordings();
    const bobCall = await client.dial('/sip0', '2001');
    await client.waitForCallState(bobCall, 'active', 10_000, since);
    await sleep(1000);
    const daveCall = await client.dial('/sip0', '2003');
    await client.waitForCallState(bobCall, 'held', 5000, since);
    await client.waitForCallState(daveCall, 'active', 10_000, since);
    await sleep(1500);

    const beforeJoin = client.signals.length;
    const joined = await client.createMultiparty('/sip0');
    expect(joined).toEqual([bobCall, daveCall]);
    await client.waitForCallState(bobCall, 'active', 5000, beforeJoin);
    for (const call of joined) {
      expect((await client.properties(call, 'org.ofono.VoiceCall')).Multiparty).toBe(true);
    }
    await sleep(3500);
    // A private chat with dave: bob is held, and the two are two calls again.
    const beforeSplit = client.signals.length;
    expect(await client.privateChat('/sip0', daveCall)).toEqual([]);
    await client.waitForCallState(bobCall, 'held', 5000, beforeSplit);
    expect((await client.properties(daveCall, 'org.ofono.VoiceCall')).Multiparty).toBe(false);
    await sleep(2500);
    await client.manager('/sip0', 'HangupAll');
    await noCalls();
    await sleep(300);

    const daveHeard = newRecordings(daveBefore, dave.receivedRecordings())[0] ?? '';
    const seconds = analyseWav(daveHeard).seconds;
    // Alone with the car, dave heard the cabin (700 Hz) and not bob (440 Hz).
    expect(level(daveHeard, 700, 0.3, 1.2)).toBeGreaterThan(-20);
    expect(level(daveHeard, 440, 0.3, 1.2)).toBeLessThan(-40);
    // Joined for 3.5 s: the cabin and bob together for most of it.
    expect(windowsWithAll(daveHeard, [700, 440])).toBeGreaterThanOrEqual(12);
    // The private chat's last two seconds: the cabin, and no longer bob.
    expect(level(daveHeard, 700, seconds - 2, seconds - 0.3)).toBeGreaterThan(-20);
    expect(level(daveHeard, 440, seconds - 2, seconds - 0.3)).toBeLessThan(-40);
  });

  it('holds a multiparty call on the head unit only: its parties go on hearing each other, not the cabin, while the driver talks with a third', async () => {
    const since = client.signals.length;
    const daveBefore = dave.receivedRecordings();
    const erinBefore = erin.receivedRecordings();
    const bobCall = await client.dial('/sip0', '2001');
    await client.waitForCallState(bobCall, 'active', 10_000, since);
    const daveCall = await client.dial('/sip0', '2003');
    await client.waitForCallState(daveCall, 'active', 10_000, since);
    const beforeJoin = client.signals.length;
    await client.createMultiparty('/sip0');
    await client.waitForCallState(bobCall, 'active', 5000, beforeJoin);
    await sleep(2000);

    // The driver calls erin: bob and dave are held together, and stay joined.
    const beforeThird = client.signals.length;
    const erinCall = await client.dial('/sip0', '2004');
    await client.waitForCallState(bobCall, 'held', 5000, beforeThird);
    await client.waitForCallState(daveCall, 'held', 5000, beforeThird);
    await client.waitForCallState(erinCall, 'active', 10_000, beforeThird);
    for (const call of [bobCall, daveCall]) {
      expect((await client.properties(call, 'org.ofono.VoiceCall')).Multiparty).toBe(true);
    }
    await sleep(3000);
    // Back to the multiparty call: erin is held, bob and dave hear the cabin again.
    const beforeSwap = client.signals.length;
    await client.manager('/sip0', 'SwapCalls');
    await client.waitForCallState(bobCall, 'active', 5000, beforeSwap);
    await client.waitForCallState(erinCall, 'held', 5000, beforeSwap);
    await sleep(2000);
    await client.manager('/sip0', 'HangupAll');
    await noCalls();
    await sleep(300);

    const daveHeard = newRecordings(daveBefore, dave.receivedRecordings())[0] ?? '';
    const seconds = analyseWav(daveHeard).seconds;
    // Held for 3 s: bob (440 Hz) without the cabin (700 Hz) for most of it; joined before and after it,
    // both.
    expect(windowsWith(daveHeard, [440], [700])).toBeGreaterThanOrEqual(10);
    expect(windowsWithAll(daveHeard, [700, 440])).toBeGreaterThanOrEqual(12);
    expect(level(daveHeard, 700, seconds - 1.5, seconds - 0.3)).toBeGreaterThan(-20);
    expect(level(daveHeard, 440, seconds - 1.5, seconds - 0.3)).toBeGreaterThan(-20);
    // erin heard the cabin, and neither bob nor dave (550 Hz).
    const erinHeard = newRecordings(erinBefore, erin.receivedRecordings())[0] ?? '';
    expect(level(erinHeard, 700, 0.3, 2.3)).toBeGreaterThan(-20);
    expect(level(erinHeard, 440, 0.3, 2.3)).toBeLessThan(-40);
    expect(level(erinHeard, 550, 0.3, 2.3)).toBeLessThan(-40);
  });

  it('mixes the held call into the active one the other way round too, and hangs up every party with HangupMultiparty', async () => {
    const since = client.signals.length;
    const bobBefore = bob.receivedRecordings();
    const daveCall = await client.dial('/sip0', '2003');
    await client.waitForCallState(daveCall, 'active', 10_000, since);
    await expect(client.createMultiparty('/sip0')).rejects.toMatchObject({ type: 'org.ofono.Error.Failed' });
    await expect(client.manager('/sip0', 'HangupMultiparty')).rejects.toMatchObject({
      type: 'org.ofono.Error.Failed',
    });
    const bobCall = await client.dial('/sip0', '2001');
    await client.waitForCallState(bobCall, 'active', 10_000, since);
    await sleep(1500);
    const beforeJoin = client.signals.length;
    await client.createMultiparty('/sip0');
    await client.waitForCallState(daveCall, 'active', 5000, beforeJoin);
    await sleep(3500);
    await client.manager('/sip0', 'HangupMultiparty');
    await endedHere([daveCall, bobCall], since);
    await noCalls();
    await sleep(300);

    const bobHeard = newRecordings(bobBefore, bob.receivedRecordings())[0] ?? '';
    expect(level(bobHeard, 700, 0.3, 1.2)).toBeGreaterThan(-20);
    expect(level(bobHeard, 550, 0.3, 1.2)).toBeLessThan(-40);
    expect(windowsWithAll(bobHeard, [700, 550])).toBeGreaterThanOrEqual(12);
  });
});

describe('transfers asked for by the far end (REFER)', () => {
  /** kamailio's log of the requests that begin with one of `starts` ("REFER", "INVITE sip:2003"), from `from` on. */
  const requests = (mark: number, ...starts: string[]): string[] =>
    kam.logSince(mark).filter((l) => starts.some((m) => l.includes(`REQ ${m}`)));

  /** carphone calls bob, and bob transfers the call to `user`: the call carphone places for it. */
  const bobTransfersTo = async (
    user: string,
  ): Promise<{ since: number; logFrom: number; bobEvents: number; bobCall: string; newCall: string }> => {
    const since = client.signals.length;
    const logFrom = kam.logMark();
    const bobEvents = bob.events.length;
    const bobCall = await client.dial('/sip0', '2001');
    await client.waitForCallState(bobCall, 'active', 10_000, since);
    await bob.command('transfer', `sip:${user}@127.0.0.1:${kam.port}`);
    const added = await client.waitForSignal(
      (s) => s.member === 'CallAdded' && s.args[0] !== bobCall,
      10_000,
      since,
    );
    const [newCall, props] = added.args as [string, Record<string, unknown>];
    expect(props.LineIdentification).toBe(user);
    return { since, logFrom, bobEvents, bobCall, newCall };
  };

  it('follows a blind transfer: calls the target, tells the transferor, and the target hears the cabin', async () => {
    const daveBefore = dave.receivedRecordings();
    const { since, logFrom, bobEvents, bobCall, newCall: daveCall } = await bobTransfersTo('2003');
    await client.waitForCallState(daveCall, 'active', 10_000, since);
    // bob, told that the transfer worked, hangs up.
    const closed = await bob.waitForEvent('CALL_CLOSED', 10_000, bobEvents);
    expect(closed.param).toBe('Call transfered');
    const reason = await client.waitForSignal(
      (s) => s.path === bobCall && s.member === 'DisconnectReason',
      5000,
      since,
    );
    expect(reason.args).toEqual(['remote']);
    // REFER, NOTIFY "trying", the INVITE saying who referred it, NOTIFY "OK", bob's BYE.
    expect(
      requests(logFrom, 'REFER', 'NOTIFY', 'INVITE sip:2003', 'BYE').map((l) => /REQ (\w+)/.exec(l)?.[1]),
    ).toEqual([
      'REFER',
      'NOTIFY',
      'INVITE',
      'INVITE', // again, with the proxy's credentials
      'NOTIFY',
      'BYE',
    ]);
    expect(requests(logFrom, 'INVITE sip:2003')[0]).toMatch(/referred-by=<sip:2001@127\.0\.0\.1>/);
    expect((await client.calls('/sip0')).map(([p, c]) => [p, c.State])).toEqual([[daveCall, 'active']]);
    await sleep(1500);
    await client.manager('/sip0', 'HangupAll');
    await noCalls();
    await sleep(300);
    const daveHeard = newRecordings(daveBefore, dave.receivedRecordings())[0] ?? '';
    expect(analyseWav(daveHeard).hz).toBe(700);
  });

  it('tells the transferor when the transfer target cannot be reached, and resumes the call with it', async () => {
    const { logFrom, bobEvents } = await bobTransfersTo('2999');
    const failed = await bob.waitForEvent('TRANSFER_FAILED', 10_000, bobEvents);
    expect(failed.param).toBe('404 Not Found');
    // After the NOTIFY with the failure, a re-INVITE takes bob off hold (baresip 1.0 then hangs up
    // on its own account; a transferor that stays is back in the call).
    await waitFor('a re-INVITE to bob after the second NOTIFY', () => {
      const sent = requests(logFrom, 'NOTIFY', 'INVITE sip:2001-').map((l) => /REQ (\w+)/.exec(l)?.[1]);
      const failure = sent.indexOf('NOTIFY', sent.indexOf('NOTIFY') + 1);
      return failure > 0 && sent.slice(failure).includes('INVITE');
    });
    await client.manager('/sip0', 'HangupAll').catch(() => undefined);
    await noCalls();
  });
});

describe('Transfer (explicit call transfer)', () => {
  it('connects the held far end with the active one by REFER, then leaves both calls', async () => {
    const since = client.signals.length;
    const bobEvents = bob.events.length;
    const daveEvents = dave.events.length;
    const bobCall = await client.dial('/sip0', '2001');
    await client.waitForCallState(bobCall, 'active', 10_000, since);
    const daveCall = await client.dial('/sip0', '2003');
    await client.waitForCallState(daveCall, 'active', 10_000, since);
    await client.waitForCallState(bobCall, 'held', 5000, since);
    await client.manager('/sip0', 'Transfer');
    // bob, the held one, calls dave; dave (auto-answer) takes it, and carphone leaves both calls.
    const established = (b: Baresip, from: number, peer: RegExp) => () =>
      b.events.slice(from).find((e) => e.type === 'CALL_ESTABLISHED' && peer.test(String(e.peeruri)));
    await waitFor('bob calling dave', established(bob, bobEvents, /^sip:2003[@-]/), 10_000);
    await waitFor('dave answering bob', established(dave, daveEvents, /^sip:2001@/), 10_000);
    await endedHere([bobCall, daveCall], since);
    await noCalls();
    await bob.command('hangup');
    await dave.waitForEvent('CALL_CLOSED', 5000, daveEvents);
  });
});

describe('call quality (RTCP)', () => {
  it('exchanges RTCP reports with baresip and shows round-trip time, loss and MOS on the call', async () => {
    const since = client.signals.length;
    const path = await client.dial('/sip0', '2001');
    await client.waitForCallState(path, 'active', 10_000, since);
    // Report intervals of 1 s on our side; baresip reports every 5 s. A round-trip time can only come
    // from a report block of baresip's that is about our SSRC and echoes the NTP time of one of our
    // sender reports (LSR): it shows that baresip received and read carphone's RTCP.
    const quality = await waitFor(
      'RTCP round-trip time on the call',
      async () => {
        const q = await client.properties(path, 'org.carphone.CallQuality');
        return q.RoundTripTime !== undefined ? q : undefined;
      },
      15_000,
      250,
    );
    const changed = client.signals.filter(
      (s) => s.path === path && s.interface === 'org.carphone.CallQuality' && s.member === 'PropertyChanged',
    );
    expect(changed.length).toBeGreaterThan(0);
    // Loopback: a few ms at most; nothing lost; G.711 with no impairment is rated R 93.2, MOS 4.41.
    expect(quality.RoundTripTime).toBeLessThan(50);
    expect(quality.PacketLoss).toBe(0);
    expect(quality.RemotePacketLoss).toBe(0);
    expect(Number(quality.Jitter)).toBeLessThan(20);
    expect(Number(quality.MOS)).toBeGreaterThan(4.3);
    expect(quality.Quality).toBe('good');
    await client.hangup(path);
    await noCalls();
  });
});

describe('DTMF', () => {
  it('sends SendTones keys as RFC 4733 events that baresip reports, and reports the keys baresip sends', async () => {
    const since = client.signals.length;
    const bobEvents = bob.events.length;
    const path = await client.dial('/sip0', '2001');
    await client.waitForCallState(path, 'active', 10_000, since);
    await client.call('/sip0', 'org.ofono.VoiceCallManager', 'SendTones', 's', ['159#']);
    await waitFor(
      'four keys at baresip',
      () => bob.events.slice(bobEvents).filter((e) => e.type === 'CALL_DTMF_START').length >= 4,
      5000,
    );
    expect(
      bob.events
        .slice(bobEvents)
        .filter((e) => e.type === 'CALL_DTMF_START')
        .map((e) => e.param),
    ).toEqual(['1', '5', '9', '#']);
    for (const key of ['4', '2']) {
      await bob.command('sndcode', key);
      await sleep(300);
    }
    await waitFor(
      'two keys on D-Bus',
      () => client.signals.slice(since).filter((s) => s.member === 'ToneReceived').length >= 2,
      5000,
    );
    expect(
      client.signals
        .slice(since)
        .filter((s) => s.path === path && s.member === 'ToneReceived')
        .map((s) => s.args[0]),
    ).toEqual(['4', '2']);
    await expect(
      client.call('/sip0', 'org.ofono.VoiceCallManager', 'SendTones', 's', ['12x']),
    ).rejects.toMatchObject({ type: 'org.ofono.Error.InvalidFormat' });
    await client.hangup(path);
    await noCalls();
    await expect(
      client.call('/sip0', 'org.ofono.VoiceCallManager', 'SendTones', 's', ['1']),
    ).rejects.toMatchObject({ type: 'org.ofono.Error.Failed' });
  });
});

describe('incoming calls', () => {
  it('rings, is answered over D-Bus, and carries audio both ways', async () => {
    const carphoneBefore = readdirSafe(recDir);
    const carolBefore = carol.recordings();
    const path = await carolCalls('incoming');
    const since = client.signals.length;
    await client.answer(path);
    await client.waitForCallState(path, 'active', 5000);
    await sleep(2000);
    await carol.command('hangup');
    const reason = await client.waitForSignal(
      (s) => s.path === path && s.member === 'DisconnectReason',
      5000,
      since,
    );
    expect(reason.args).toEqual(['remote']);
    await noCalls();
    await sleep(300);
    const ours = newRecordings(carphoneBefore, readdirSafe(recDir));
    expect(ours).toHaveLength(1);
    // Its stream stays open for the call-ended beeps: read once the WAV header says how long it is.
    const ourRec = await closedRecording(join(recDir, ours[0] ?? ''));
    expect(analyseWav(ourRec).hz).toBe(1000);
    expect(medianWindowShare(ourRec, 1000)).toBeGreaterThan(0.8);
    const carolRec = newRecordings(carolBefore, carol.recordings()).find((f) => f.endsWith('-dec.wav'));
    const carolHeard = analyseWav(carolRec ?? '');
    expect(carolHeard.hz).toBe(700);
  });

  describe('tones the driver hears from carphone itself (Europe: 425 Hz)', () => {
    /** The recording of the longest call placed or taken while `during` ran. */
    async function recordingOf(during: () => Promise<void>): Promise<string> {
      const before = readdirSafe(recDir);
      await during();
      await noCalls();
      await sleep(300);
      const ours = newRecordings(before, readdirSafe(recDir)).map((f) => join(recDir, f));
      expect(ours.length).toBeGreaterThan(0);
      return ours.reduce((a, b) => (analyseWav(b).seconds > analyseWav(a).seconds ? b : a));
    }
    const sounding = (shares: number[]): number => shares.filter((s) => s > 0.1).length;

    it("plays ringback while carol's phone rings, and carol alone once she answers", async () => {
      const rec = await recordingOf(async () => {
        const carolEvents = carol.events.length;
        const since = client.signals.length;
        const path = await client.dial('/sip0', '2002');
        await carol.waitForEvent('CALL_INCOMING', 5000, carolEvents);
        await client.waitForCallState(path, 'alerting', 5000, since);
        await sleep(1500);
        await carol.command('accept');
        await client.waitForCallState(path, 'active', 5000, since);
        await sleep(1500);
        await client.hangup(path);
      });
      const ringback = windowShares(rec, 425);
      const carolsTone = windowShares(rec, 1000);
      // One second of ringback (its cadence: 1 s on, 4 s off) before the answer ...
      expect(sounding(ringback.slice(0, 7))).toBeGreaterThanOrEqual(4);
      // ... and after it carol alone.
      expect(Math.max(...ringback.slice(-5))).toBeLessThan(0.01);
      expect(Math.min(...carolsTone.slice(-5))).toBeGreaterThan(0.8);
    });

    it('rings the cabin while carol calls, and plays carol alone once answered', async () => {
      const rec = await recordingOf(async () => {
        const path = await carolCalls('incoming');
        await sleep(1200);
        await client.answer(path);
        await client.waitForCallState(path, 'active', 5000);
        await sleep(1500);
        await client.hangup(path);
      });
      // The ringtone's two notes, in its first 400 ms burst.
      expect(sounding(windowShares(rec, 660).slice(0, 3))).toBeGreaterThanOrEqual(1);
      expect(sounding(windowShares(rec, 880).slice(0, 3))).toBeGreaterThanOrEqual(1);
      expect(Math.max(...windowShares(rec, 660).slice(-5))).toBeLessThan(0.01);
      expect(Math.min(...windowShares(rec, 1000).slice(-5))).toBeGreaterThan(0.8);
    });

    it('plays the busy tone for three seconds when carol refuses the call, and congestion for a number nobody has', async () => {
      const busy = await recordingOf(async () => {
        const carolEvents = carol.events.length;
        const since = client.signals.length;
        await client.dial('/sip0', '2002');
        await carol.waitForEvent('CALL_INCOMING', 5000, carolEvents);
        await carol.command('hangup');
        await client.waitForSignal((s) => s.member === 'CallRemoved', 5000, since);
        await sleep(3500);
      });
      // 0.5 s on, 0.5 s off, for three seconds (the first burst may begin with the moment of ringback).
      const busyBursts = toneBursts(busy, 425);
      expect(busyBursts.length).toBeGreaterThanOrEqual(2);
      expect(busyBursts.length).toBeLessThanOrEqual(4);
      busyBursts.slice(1).forEach((ms) => expect(Math.abs(ms - 500)).toBeLessThanOrEqual(100));
      const congestion = await recordingOf(async () => {
        const since = client.signals.length;
        await client.dial('/sip0', '2999');
        await client.waitForSignal((s) => s.member === 'CallRemoved', 5000, since);
        await sleep(3500);
      });
      // kamailio knows no 2999 (404): 0.2 s on, 0.2 s off.
      const congestionBursts = toneBursts(congestion, 425);
      expect(congestionBursts.length).toBeGreaterThanOrEqual(6);
      congestionBursts.slice(0, -1).forEach((ms) => expect(Math.abs(ms - 200)).toBeLessThanOrEqual(100));
    });

    it('beeps three times when the far end hangs up a call the driver was in, and not when the driver does', async () => {
      const rec = await recordingOf(async () => {
        const since = client.signals.length;
        const bobEvents = bob.events.length;
        const path = await client.dial('/sip0', '2001');
        await client.waitForCallState(path, 'active', 10_000, since);
        await bob.waitForEvent('CALL_ESTABLISHED', 5000, bobEvents);
        await sleep(1500);
        await bob.command('hangup');
        await client.waitForSignal((s) => s.member === 'CallRemoved' && s.args[0] === path, 5000, since);
        await sleep(1500);
      });
      // bob's 440 Hz, then 150 ms beeps of 660 Hz, 150 ms apart, as the recording's last sound.
      const beeps = toneBursts(rec, 660);
      expect(beeps.length).toBe(3);
      beeps.forEach((ms) => expect(Math.abs(ms - 150)).toBeLessThanOrEqual(50));
      expect(Math.max(...windowShares(rec, 440).slice(-3))).toBeLessThan(0.01);
      expect(medianWindowShare(rec, 440)).toBeGreaterThan(0.5);
      const hungUpHere = await recordingOf(async () => {
        const since = client.signals.length;
        const path = await client.dial('/sip0', '2001');
        await client.waitForCallState(path, 'active', 10_000, since);
        await sleep(1500);
        await client.hangup(path);
      });
      expect(toneBursts(hungUpHere, 660)).toEqual([]);
    });

    it('plays the call-waiting tone over a call while carol waits, and stops when she gives up', async () => {
      const rec = await recordingOf(async () => {
        const since = client.signals.length;
        const first = await client.dial('/sip0', '2003');
        await client.waitForCallState(first, 'active', 10_000, since);
        await sleep(1000);
        const second = await carolCalls('waiting');
        await sleep(1000);
        await carol.command('hangup');
        await client.waitForSignal((s) => s.member === 'CallRemoved' && s.args[0] === second, 5000, since);
        await sleep(1500);
        await client.hangup(first);
      });
      const waitingTone = windowShares(rec, 425);
      // dave's 550 Hz throughout; the tone's two bursts (200 ms on, 200 off, 200 on) while carol waited.
      expect(sounding(waitingTone)).toBeGreaterThanOrEqual(2);
      expect(Math.max(...waitingTone.slice(-5))).toBeLessThan(0.01);
      expect(medianWindowShare(rec, 550)).toBeGreaterThan(0.5);
    });
  });

  it('rejects a ringing call with 603 Decline', async () => {
    const carolEvents = carol.events.length;
    const path = await carolCalls('incoming');
    await client.hangup(path);
    const closed = await carol.waitForEvent('CALL_CLOSED', 5000, carolEvents);
    expect(String(closed.param)).toMatch(/603/);
    await noCalls();
  });

  it('deflects a ringing call with 302: the caller, redirected, reaches the new number through kamailio', async () => {
    const since = client.signals.length;
    const bobEvents = bob.events.length;
    const path = await carolCalls('incoming');
    await expect(
      client.call(path, 'org.ofono.VoiceCall', 'Deflect', 's', ['call mum']),
    ).rejects.toMatchObject({
      type: 'org.ofono.Error.InvalidFormat',
    });
    await client.call(path, 'org.ofono.VoiceCall', 'Deflect', 's', [`sip:2001@127.0.0.1:${kam.port}`]);
    await endedHere([path], since);
    await noCalls();
    // baresip follows the redirect: carol's call is now bob's.
    const bobs = await bob.waitForEvent('CALL_ESTABLISHED', 10_000, bobEvents);
    expect(bobs.peeruri).toMatch(/^sip:2002@/);
    await carol.command('hangup');
    await bob.waitForEvent('CALL_CLOSED', 5000, bobEvents);
  });

  describe('call forwarding (oFono CallForwarding), done by carphone with a 302 baresip follows', () => {
    const cf = 'org.ofono.CallForwarding';
    const toBob = (): string => `sip:2001@127.0.0.1:${kam.port}`;
    afterEach(async () => {
      await client.call('/sip0', cf, 'DisableAll', 's', ['all']);
      await client.setProperty('/sip0', cf, 'VoiceNoReplyTimeout', 'q', 20);
      await client.setProperty('/sip0', 'org.ofono.CallSettings', 'VoiceCallWaiting', 's', 'enabled');
    });

    /** carol's call, as bob answers it; and whether it was shown here meanwhile. */
    async function carolReachesBob(dial: () => Promise<unknown>): Promise<void> {
      const bobEvents = bob.events.length;
      await dial();
      const bobs = await bob.waitForEvent('CALL_ESTABLISHED', 10_000, bobEvents);
      expect(bobs.peeruri).toMatch(/^sip:2002@/);
      await carol.command('hangup');
      await bob.waitForEvent('CALL_CLOSED', 5000, bobEvents);
    }

    it('forwards every call to VoiceUnconditional without ringing here', async () => {
      await client.setProperty('/sip0', cf, 'VoiceUnconditional', 's', toBob());
      expect((await client.properties('/sip0', cf)).VoiceUnconditional).toBe(toBob());
      const since = client.signals.length;
      await carolReachesBob(() => carol.command('dial', `sip:1000@127.0.0.1:${kam.port}`));
      expect(client.signals.slice(since).filter((s) => s.member === 'CallAdded')).toEqual([]);
      // Never shown, but logged: the driver sees who called while calls went elsewhere.
      const logged = await client.waitForSignal((s) => s.member === 'EntryAdded', 5000, since);
      expect(logged.args[0]).toMatchObject({
        Kind: 'missed',
        LineIdentification: '2002',
        DisconnectReason: 'forwarded',
      });
    });

    it('forwards a caller it would refuse as busy to VoiceBusy', async () => {
      await client.setProperty('/sip0', 'org.ofono.CallSettings', 'VoiceCallWaiting', 's', 'disabled');
      await client.setProperty('/sip0', cf, 'VoiceBusy', 's', toBob());
      const since = client.signals.length;
      const first = await client.dial('/sip0', '2003');
      await client.waitForCallState(first, 'active', 10_000, since);
      await carolReachesBob(() => carol.command('dial', `sip:1000@127.0.0.1:${kam.port}`));
      expect(client.signals.slice(since).filter((s) => s.member === 'CallAdded')).toHaveLength(1);
      await client.hangup(first);
      await noCalls();
    });

    it('forwards a call still ringing after VoiceNoReplyTimeout to VoiceNoReply', async () => {
      await client.setProperty('/sip0', cf, 'VoiceNoReply', 's', toBob());
      await client.setProperty('/sip0', cf, 'VoiceNoReplyTimeout', 'q', 2);
      const since = client.signals.length;
      let path = '';
      const started = Date.now();
      await carolReachesBob(async () => {
        path = await carolCalls('incoming');
      });
      // It rang here first, for the two seconds, and then left.
      expect(Date.now() - started).toBeGreaterThan(1900);
      await client.waitForSignal((s) => s.member === 'CallRemoved' && s.args[0] === path, 5000, since);
    });

    it('refuses what oFono refuses, with its errors, and turns the conditional rules off alone', async () => {
      await expect(client.setProperty('/sip0', cf, 'VoiceBusy', 's', '112')).rejects.toMatchObject({
        type: 'org.ofono.Error.InvalidFormat',
      });
      await expect(client.setProperty('/sip0', cf, 'VoiceBusy', 's', 'call mum')).rejects.toMatchObject({
        type: 'org.ofono.Error.InvalidFormat',
      });
      await expect(client.setProperty('/sip0', cf, 'VoiceNoReplyTimeout', 'q', 31)).rejects.toMatchObject({
        type: 'org.ofono.Error.InvalidArguments',
      });
      await expect(client.setProperty('/sip0', cf, 'VoiceNoReplyTimeout', 's', '5')).rejects.toMatchObject({
        type: 'org.ofono.Error.InvalidArguments',
      });
      await expect(
        client.setProperty('/sip0', cf, 'VoiceNotReachable', 's', '+4917655512'),
      ).rejects.toMatchObject({ type: 'org.ofono.Error.NotSupported' });
      await expect(client.call('/sip0', cf, 'DisableAll', 's', ['some'])).rejects.toMatchObject({
        type: 'org.ofono.Error.InvalidArguments',
      });
      await client.setProperty('/sip0', cf, 'VoiceUnconditional', 's', '+4917655512');
      await client.setProperty('/sip0', cf, 'VoiceBusy', 's', '*86');
      await client.call('/sip0', cf, 'DisableAll', 's', ['conditional']);
      expect(await client.properties('/sip0', cf)).toEqual({
        VoiceUnconditional: '+4917655512',
        VoiceBusy: '',
        VoiceNoReply: '',
        VoiceNoReplyTimeout: 20,
        VoiceNotReachable: '',
        ForwardingFlagOnSim: false,
      });
    });
  });

  it('ends a ringing call when the caller cancels it', async () => {
    const since = client.signals.length;
    const path = await carolCalls('incoming');
    await sleep(300);
    await carol.command('hangup');
    const reason = await client.waitForSignal(
      (s) => s.path === path && s.member === 'DisconnectReason',
      5000,
      since,
    );
    expect(reason.args).toEqual(['remote']);
    await client.waitForSignal((s) => s.member === 'CallRemoved' && s.args[0] === path, 5000, since);
  });

  it('refuses a second caller as busy (486) with CallSettings VoiceCallWaiting "disabled", and lets it wait again once enabled', async () => {
    const cs = 'org.ofono.CallSettings';
    await client.setProperty('/sip0', cs, 'VoiceCallWaiting', 's', 'disabled');
    try {
      const since = client.signals.length;
      const first = await client.dial('/sip0', '2001');
      await client.waitForCallState(first, 'active', 10_000, since);
      const carolEvents = carol.events.length;
      await carol.command('dial', `sip:1000@127.0.0.1:${kam.port}`);
      const closed = await carol.waitForEvent('CALL_CLOSED', 5000, carolEvents);
      expect(String(closed.param)).toMatch(/486/);
      expect(client.signals.slice(since).filter((s) => s.member === 'CallAdded')).toHaveLength(1);
      // Never shown, but logged: the driver sees who tried to call.
      const logged = await client.waitForSignal((s) => s.member === 'EntryAdded', 5000, since);
      expect(logged.args[0]).toMatchObject({
        Kind: 'missed',
        LineIdentification: '2002',
        DisconnectReason: 'busy',
      });
    } finally {
      await client.setProperty('/sip0', cs, 'VoiceCallWaiting', 's', 'enabled');
    }
    const second = await carolCalls('waiting');
    await client.hangup(second);
    await client.manager('/sip0', 'HangupAll');
    await noCalls();
  });

  it('presents a second call during an active one as waiting, and HoldAndAnswer swaps to it', async () => {
    const since = client.signals.length;
    const first = await client.dial('/sip0', '2001');
    await client.waitForCallState(first, 'active', 10_000, since);
    const second = await carolCalls('waiting');
    await client.manager('/sip0', 'HoldAndAnswer');
    await client.waitForCallState(first, 'held', 5000, since);
    await client.waitForCallState(second, 'active', 5000, since);
    const calls = Object.fromEntries((await client.calls('/sip0')).map(([p, props]) => [p, props.State]));
    expect(calls).toEqual({ [first]: 'held', [second]: 'active' });
    await client.manager('/sip0', 'HangupAll');
    await noCalls();
  });
});

describe('bad input', () => {
  it('refuses an invalid dial string with org.ofono.Error.InvalidFormat', async () => {
    await expect(client.dial('/sip0', 'call mum')).rejects.toMatchObject({
      type: 'org.ofono.Error.InvalidFormat',
    });
    await expect(client.dial('/sip0', '12;34')).rejects.toMatchObject({
      type: 'org.ofono.Error.InvalidFormat',
    });
    await expect(
      client.call('/sip0', 'org.ofono.VoiceCallManager', 'Dial', 's', ['2001']),
    ).rejects.toMatchObject({
      type: 'org.ofono.Error.InvalidArguments',
    });
    await expect(client.dial('/sip0', '2001', 'sometimes')).rejects.toMatchObject({
      type: 'org.ofono.Error.InvalidArguments',
    });
  });

  it('refuses a sips: URI on a line over UDP with org.ofono.Error.NotSupported (sips: needs TLS on every hop)', async () => {
    await expect(client.dial('/sip0', 'sips:2001@127.0.0.1')).rejects.toMatchObject({
      type: 'org.ofono.Error.NotSupported',
      message: expect.stringContaining('transport: tls') as unknown,
    });
    expect(await client.calls('/sip0')).toEqual([]);
  });

  it('answers malformed SIP with 400 or drops it, and still places a call afterwards', async () => {
    const sip = await rawSip();
    const garbage = [
      'hello world',
      Buffer.from([0, 1, 2, 3, 255, 254]).toString('latin1'),
      sip.invite('', '99999', 'v=0'),
      sip.invite('', 'abc', 'v=0'),
      sip.invite('CSeq: 1 BYE\r\n', '0'),
      `INVITE sip:1000@${sip.host}:${sip.port} SIP/2.0\r\nCall-ID: x\r\n\r\n`,
      sip.invite(`X-Huge: ${'A'.repeat(60_000)}\r\n`, '0'),
      sip.invite('', '10', 'v=0\r\nm=audio 0 RTP/AVP 0\r\n'),
      `SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKnothing\r\nCall-ID: none\r\nCSeq: 1 INVITE\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\n\r\n`,
    ];
    for (let round = 0; round < 20; round++) {
      for (const g of garbage) {
        sip.send(g);
      }
    }
    await waitFor('a 400 reply', () => sip.replies.some((r) => r.startsWith('SIP/2.0 400')), 5000);
    expect(sip.replies.every((r) => /^SIP\/2\.0 (400|413|488|513) /.test(r))).toBe(true);
    sip.close();

    const since = client.signals.length;
    const path = await client.dial('/sip0', '2001');
    await client.waitForCallState(path, 'active', 10_000, since);
    await client.hangup(path);
    await noCalls();
    expect(daemon.child.exited).toBe(false);
  });

  it('answers 400 to an INVITE whose Content-Length promises more body than the datagram holds (RFC 3261 §18.3)', async () => {
    const sip = await rawSip();
    // A whole, acceptable offer: only the Content-Length is wrong (the datagram was cut short).
    const sdp = `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n`;
    const extra = `Contact: <sip:evil@127.0.0.1:${sip.local}>\r\nContent-Type: application/sdp\r\n`;
    sip.send(sip.invite(extra, String(sdp.length + 100), sdp));
    const reply = await waitFor('a reply', () => sip.replies[0], 5000);
    sip.close();
    expect(reply).toMatch(/^SIP\/2\.0 400 .*Content-Length/);
    expect(await client.calls('/sip0')).toEqual([]);
  });
});

/** A UDP socket of the test's own that sends raw text to sip0's SIP port and keeps every reply. */
async function rawSip(): Promise<{
  host: string;
  port: string;
  local: number;
  replies: string[];
  invite(extra: string, contentLength: string, body?: string): string;
  send(text: string): void;
  close(): void;
}> {
  const { LocalAddress } = await client.properties('/sip0', 'org.carphone.SipAccount');
  const [host = '', port = ''] = String(LocalAddress).split(':');
  const socket = createSocket('udp4');
  const replies: string[] = [];
  socket.on('message', (m) => replies.push(m.toString('latin1')));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const local = socket.address().port;
  return {
    host,
    port,
    local,
    replies,
    invite: (extra, contentLength, body = '') =>
      `INVITE sip:1000@${host}:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${Math.random().toString(36).slice(2)}\r\n` +
      `From: <sip:evil@127.0.0.1>;tag=1\r\nTo: <sip:1000@127.0.0.1>\r\nCall-ID: ${Math.random()}@x\r\nCSeq: 1 INVITE\r\n${extra}Content-Length: ${contentLength}\r\n\r\n${body}`,
    send: (text) => socket.send(Buffer.from(text, 'latin1'), Number(port), host),
    close: () => socket.close(),
  };
}

function readdirSafe(d: string): string[] {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}
