import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OfonoClient } from '../../service/client/ofono-client.js';
import { writeTone } from '../harness/audio.js';
import { Baresip } from '../harness/baresip.js';
import { Carphoned, REPO } from '../harness/carphoned.js';
import { ctl } from '../harness/carphonectl.js';
import { PrivateBus } from '../harness/dbus-daemon.js';
import { Hmi } from '../harness/hmi.js';
import { PhoneBridge } from '../../app/main/bridge.js';
import { Kamailio } from '../harness/kamailio.js';
import { PsapSimulator } from '../../service/psap/psap-simulator.js';
import { waitFor } from '../harness/process.js';
import { RawSipPeer, sdpOffer, sipRequest } from '../harness/sip-fuzz.js';
import { rpData, SmsCentre, statusReport, submitOf } from '../harness/sms-centre.js';
import { sendSummaryNotify } from '../harness/summary-notify.js';
import { seeded } from '../../bench/jitter/traces.js';
import { freePort } from '../harness/ports.js';
import { encodeCannelloni } from '../../can/transport/cannelloni.js';
import { loadBindings } from '../../service/vehicle/bindings-load.js';
import { frameFor } from '../unit/vehicle/frames.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('the HMI in Chromium, driving the real carphoned', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carphone-hmi-'));
  let kam: Kamailio;
  let bob: Baresip; // answers
  let carol: Baresip; // calls us
  let dave: Baresip; // answers automatically
  let erin: Baresip; // answers automatically
  let frank: Baresip; // answers automatically
  let bus: PrivateBus;
  let centre: SmsCentre; // the SMS centre of the second line, "ims"
  let daemon: Carphoned;
  let client: OfonoClient;
  let hmi: Hmi;
  let config: object;
  let canPort: number;
  const udp = createSocket('udp4');
  let canSeq = 0;
  const reference = loadBindings(join(REPO, 'can/bindings/carphone-reference.yaml'));
  /** The car's vehicle-state message over CAN-over-UDP, as the gateway would send it. */
  const sendSpeed = async (kmh: number): Promise<void> => {
    for (let i = 0; i < 3; i++) {
      const frame = frameFor(reference, 'CP_VehicleState', { Ignition: 2, VehicleSpeed: kmh, Propulsion: 4 });
      udp.send(encodeCannelloni([frame], canSeq++), canPort, '127.0.0.1');
      await sleep(50);
    }
  };

  /** The phone key on the steering wheel, held 200 ms: the keys message every 100 ms, as the car sends it. */
  const pressPhoneKey = async (): Promise<void> => {
    for (const phoneKey of [1, 1, 0]) {
      const frame = frameFor(reference, 'CP_SteeringWheel', { PhoneKey: phoneKey, SWM_Counter: 0 });
      udp.send(encodeCannelloni([frame], canSeq++), canPort, '127.0.0.1');
      await sleep(100);
    }
  };

  const text = (id: string): Promise<string> => hmi.page.locator(`[data-testid="${id}"]`).innerText();
  const tap = (id: string): Promise<void> => hmi.page.locator(`[data-testid="${id}"]`).click();
  const calls = async (): Promise<[string, Record<string, unknown>][]> => client.calls('/sip0');
  const searchContacts = async (query: string): Promise<Record<string, unknown>[]> =>
    (await client.call('/contacts', 'org.carphone.Contacts', 'Search', 'su', [query, 50])) as Record<
      string,
      unknown
    >[];
  /** The newest entries of the call log, as CallHistory gives them. */
  const callLog = async (n: number): Promise<Record<string, unknown>[]> =>
    (await client.call('/history', 'org.carphone.CallHistory', 'GetRecent', 'u', [n])) as Record<
      string,
      unknown
    >[];

  // The fixture's address book and erin, so that one far end here has a name the driver gave it.
  const addressBook = join(dir, 'contacts.vcf');

  beforeAll(async () => {
    writeFileSync(
      addressBook,
      `${readFileSync(join(REPO, 'test/fixtures/contacts.vcf'), 'utf8')}BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Erin Weber\r\nTEL;TYPE=CELL:2004\r\nEND:VCARD\r\n` +
        // Two numbers nobody answers on: what is checked is which one is dialled.
        'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Grete Vogel\r\nTEL;TYPE=CELL:2097\r\nTEL;TYPE=WORK:2098\r\nEND:VCARD\r\n',
    );
    writeTone(join(dir, 'tone.wav'), 440, 120);
    kam = await Kamailio.start({
      users: [1000, 2001, 2002, 2003, 2004, 2005].map((u) => ({ user: String(u), password: `pw-${u}` })),
      forwardUnconditional: [['2099', '1000']],
    });
    bob = await Baresip.start({
      user: '2001',
      password: 'pw-2001',
      registrarPort: kam.port,
      autoAnswer: true,
      sourceWav: join(dir, 'tone.wav'),
    });
    carol = await Baresip.start({
      user: '2002',
      password: 'pw-2002',
      registrarPort: kam.port,
      autoAnswer: false,
      sourceWav: join(dir, 'tone.wav'),
      // Whom her `message` command texts: the car, through kamailio; what she receives, on her console.
      contacts: [`"Car" <sip:1000@127.0.0.1:${kam.port}>`],
      console: true,
    });
    dave = await Baresip.start({
      user: '2003',
      password: 'pw-2003',
      registrarPort: kam.port,
      autoAnswer: true,
      sourceWav: join(dir, 'tone.wav'),
    });
    erin = await Baresip.start({
      user: '2004',
      password: 'pw-2004',
      contacts: [`"Car" <sip:1000@127.0.0.1:${kam.port}>`],
      registrarPort: kam.port,
      autoAnswer: true,
      sourceWav: join(dir, 'tone.wav'),
    });
    frank = await Baresip.start({
      user: '2005',
      password: 'pw-2005',
      registrarPort: kam.port,
      autoAnswer: true,
      sourceWav: join(dir, 'tone.wav'),
    });
    bus = await PrivateBus.start();
    const imsPort = await freePort();
    centre = await SmsCentre.open(imsPort);
    config = {
      dbus: { bus: bus.address },
      history: { path: join(dir, 'history.sqlite') },
      contacts: { vcard: addressBook },
      accounts: [
        {
          id: 'sip0',
          name: 'Work line',
          user: '1000',
          password: 'pw-1000',
          domain: '127.0.0.1',
          registrar: kam.uri,
          rtcpIntervalSeconds: 1,
        },
        {
          id: 'ims',
          user: '1000',
          domain: '127.0.0.1',
          listen: { port: imsPort },
          sms: { serviceCentre: '+49170123456', psi: `sip:smsc@127.0.0.1:${centre.port}` },
        },
      ],
    };
    canPort = await freePort();
    daemon = await Carphoned.start(config, ['--can', `udp:${canPort}`]);
    client = await daemon.client();
    await waitFor(
      'registered',
      async () => (await client.properties('/sip0', 'org.carphone.SipAccount')).Registration === 'registered',
    );
    hmi = await Hmi.start(bus.address);
    await hmi.open();
  }, 60_000);

  afterEach(async () => {
    // A failed test must not leave a call up for the next one.
    if ((await calls().catch(() => [])).length > 0) {
      await client.manager('/sip0', 'HangupAll').catch(() => undefined);
      await waitFor('no calls', async () => (await calls()).length === 0).catch(() => undefined);
    }
  });

  afterAll(async () => {
    await hmi?.close();
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
    centre?.close();
    udp.close();
  });

  it('dials on the keypad; baresip answers; the in-call screen counts; hang up returns to the keypad', async () => {
    expect(await text('registration')).toBe('Ready');
    for (const k of ['2', '0', '0', '1']) {
      await tap(`key-${k}`);
    }
    expect(await text('number')).toBe('2001');
    await hmi.screenshot('keypad-1280x720-day');
    await tap('call');
    await hmi.page.waitForSelector('[data-testid=timer]');
    expect(await text('caller')).toBe('2001');
    const t1 = await text('timer');
    await sleep(2100);
    const t2 = await text('timer');
    // The timer counts (the screen redraws it every second; StartTime has whole seconds).
    const seconds = (x: string): number => Number(x.split(':')[0]) * 60 + Number(x.split(':')[1]);
    expect(seconds(t2)).toBeGreaterThan(seconds(t1));
    // The signal-quality indicator follows the call's RTCP-based quality (org.carphone.CallQuality).
    await hmi.page.waitForSelector('[data-testid=quality][data-level=good]', { timeout: 5000 });
    const path = (await calls())[0]?.[0] ?? '';
    expect((await client.properties(path, 'org.carphone.CallQuality')).Quality).toBe('good');
    expect(await hmi.page.locator('[data-testid=quality] span.on').count()).toBe(3);
    await hmi.screenshot('in-call-1280x720-day');
    expect(await hmi.smallTargets()).toEqual([]);
    await tap('hangup');
    await hmi.page.waitForSelector('[data-testid=key-1]');
    await waitFor('no calls', async () => (await calls()).length === 0);
  });

  it('shows the number last called when Call is pressed with nothing typed, and calls it only on a second Call', async () => {
    await tap('tab-keypad');
    expect(await text('number')).toBe('');
    await tap('call');
    // The test before called 2001 from the keypad.
    await waitFor('the last number shown', async () => (await text('number')) === '2001');
    expect(await calls()).toEqual([]);
    await tap('call');
    await hmi.page.waitForSelector('[data-testid=timer]');
    const [, props] = (await calls())[0] ?? [];
    expect(props).toMatchObject({ LineIdentification: '2001' });
    await tap('hangup');
    await waitFor('no calls', async () => (await calls()).length === 0);
    await hmi.page.waitForSelector('[data-testid=key-1]');
    expect(await text('number')).toBe('');
  });

  it('mutes, holds and sends DTMF from the in-call keypad', async () => {
    const bobEvents = bob.events.length;
    await tap('tab-keypad');
    for (const k of ['2', '0', '0', '1']) {
      await tap(`key-${k}`);
    }
    await tap('call');
    await hmi.page.waitForSelector('[data-testid=timer]');
    await tap('mute');
    await waitFor(
      'muted',
      async () => (await client.properties('/sip0', 'org.ofono.CallVolume')).Muted === true,
    );
    await hmi.page.waitForFunction(
      () => document.querySelector('[data-testid=mute]')?.textContent === 'Unmute',
    );
    await tap('mute');
    await waitFor(
      'unmuted',
      async () => (await client.properties('/sip0', 'org.ofono.CallVolume')).Muted === false,
    );
    await tap('hold');
    await waitFor('held', async () => (await calls())[0]?.[1].State === 'held');
    await callStateShows('On hold');
    await tap('hold');
    await waitFor('active again', async () => (await calls())[0]?.[1].State === 'active');
    await tap('keys');
    await hmi.screenshot('in-call-keypad-1280x720-day');
    expect(await hmi.smallTargets()).toEqual([]);
    await tap('dtmf-5');
    await tap('dtmf-#');
    // Seen once in a full CI run under load: the keys had not reached baresip after 5 s. The wait is
    // now the suite's usual 10 s, and a timeout says what baresip and carphoned did meanwhile.
    await waitFor(
      'keys at baresip',
      () => bob.events.slice(bobEvents).filter((e) => e.type === 'CALL_DTMF_START').length >= 2,
    ).catch(async (e: unknown) => {
      const media = await client.calls('/sip0').catch((err: unknown) => String(err));
      throw new Error(
        `${e instanceof Error ? e.message : String(e)}\nbaresip's events: ${JSON.stringify(bob.events.slice(bobEvents))}` +
          `\ncalls: ${JSON.stringify(media)}\ncarphoned:\n${daemon.log(40)}`,
      );
    });
    expect(
      bob.events
        .slice(bobEvents)
        .filter((e) => e.type === 'CALL_DTMF_START')
        .map((e) => e.param),
    ).toEqual(['5', '#']);
    await tap('hangup');
    await waitFor('no calls', async () => (await calls()).length === 0);
  });

  it('shows an incoming call, answers it with one tap, returns when the caller hangs up, lists it in recents, and calls back', async () => {
    await carol.command('dial', `sip:1000@127.0.0.1:${kam.port}`);
    await hmi.page.waitForSelector('[data-testid=answer]');
    expect(await text('caller')).toBe('2002');
    expect(await text('incoming-what')).toBe('Incoming call');
    await hmi.screenshot('incoming-1280x720-day');
    expect(await hmi.smallTargets()).toEqual([]);
    await tap('answer');
    await hmi.page.waitForSelector('[data-testid=timer]');
    await sleep(1200);
    await carol.command('hangup');
    await hmi.page.waitForSelector('[data-testid=tab-recents]');
    await tap('tab-recents');
    const first = hmi.page.locator('[data-testid=recents] button').first();
    // The call of the test before is listed too: wait for this one to come first.
    await waitFor('the call listed first', async () => /2002/.test(await first.innerText()));
    await hmi.screenshot('recents-1280x720-day');
    expect(await hmi.smallTargets()).toEqual([]);
    const carolEvents = carol.events.length;
    await first.click();
    await carol.waitForEvent('CALL_INCOMING', 5000, carolEvents);
    await hmi.page.waitForSelector('[data-testid=hangup]');
    await tap('hangup');
    await waitFor('no calls', async () => (await calls()).length === 0);
  });

  it('keeps the call buttons on screen for a caller whose name is 330 characters long, ringing or waiting', async () => {
    const [host = '', port = ''] = String(
      (await client.properties('/sip0', 'org.carphone.SipAccount')).LocalAddress,
    ).split(':');
    const caller = await RawSipPeer.open({ host, port: Number(port) });
    try {
      const name = 'Autohaus Müller & Söhne, Kundendienst '.repeat(9);
      caller.send(sipRequest(caller, seeded(1), 'INVITE', { body: sdpOffer(40020, false), fromName: name }));
      await hmi.page.waitForSelector('[data-testid=answer]');
      await hmi.screenshot('incoming-long-name-1280x720-day');
      expect(await hmi.smallTargets()).toEqual([]);
      const box = await hmi.page.locator('[data-testid=caller]').boundingBox();
      // 52 px type: two lines are under 150 px; the whole name would take eight.
      expect(box?.height).toBeGreaterThan(100);
      expect(box?.height).toBeLessThan(150);
      await tap('reject');
      await waitFor('no calls', async () => (await calls()).length === 0);

      // The same caller while a call is up: the waiting-call banner keeps its buttons on screen.
      const path = await client.dial('/sip0', '2001');
      await client.waitForCallState(path, 'active', 10_000);
      caller.send(sipRequest(caller, seeded(2), 'INVITE', { body: sdpOffer(40022, false), fromName: name }));
      await hmi.page.waitForSelector('[data-testid=hold-and-answer]');
      await hmi.screenshot('waiting-long-name-1280x720-day');
      expect(await hmi.smallTargets()).toEqual([]);
      expect((await hmi.page.locator('[data-testid=waiting]').boundingBox())?.height).toBeLessThan(200);
      await client.manager('/sip0', 'HangupAll');
      await waitFor('no calls', async () => (await calls()).length === 0);
    } finally {
      caller.close();
    }
  });

  /** bob called from the keypad and answering, then carol calling in: her call waiting. */
  /** The driver calls bob on the keypad; carol calls `carolDials` (this line, or 2099, forwarded here). */
  const callBobThenCarolCalls = async (carolDials = '1000'): Promise<void> => {
    await tap('tab-keypad');
    for (const k of ['2', '0', '0', '1']) {
      await tap(`key-${k}`);
    }
    await tap('call');
    await hmi.page.waitForSelector('[data-testid=timer]');
    await carol.command('dial', `sip:${carolDials}@127.0.0.1:${kam.port}`);
  };

  /** Waits until the banner of the other call matches `pattern`. */
  const bannerShows = (pattern: string): Promise<unknown> =>
    hmi.page.waitForFunction(
      (p) => new RegExp(p).test(document.querySelector('[data-testid=other-call]')?.textContent ?? ''),
      pattern,
    );
  /** Waits until the call screen says `what` (On hold, Conference …). */
  const callStateShows = (what: string): Promise<unknown> =>
    hmi.page.waitForFunction(
      (w) => document.querySelector('[data-testid=call-state]')?.textContent === w,
      what,
    );

  /** Waits until the call screen names `who`. */
  const callerShows = (who: string): Promise<unknown> =>
    hmi.page.waitForFunction((w) => document.querySelector('[data-testid=caller]')?.textContent === w, who);
  const stateOf = async (number: string): Promise<unknown> =>
    (await calls()).find(([, p]) => p.LineIdentification === number)?.[1].State;

  /** bob and carol's calls merged into a conference from the screen, shown as one call. */
  const conferenceOfBobAndCarol = async (): Promise<void> => {
    await callBobThenCarolCalls();
    await tap('hold-and-answer');
    await bannerShows('On hold: 2001');
    await tap('merge');
    await callStateShows('Conference');
  };

  it('presents a waiting call, answers it holding the first, and swaps between the two calls', async () => {
    await callBobThenCarolCalls();
    await hmi.page.waitForSelector('[data-testid=waiting]');
    expect(await text('waiting')).toMatch(/Call waiting: 2002/);
    await hmi.screenshot('waiting-1280x720-day');
    expect(await hmi.smallTargets()).toEqual([]);
    await tap('hold-and-answer');
    await waitFor(
      'bob held, carol active',
      async () => (await stateOf('2001')) === 'held' && (await stateOf('2002')) === 'active',
    );
    await bannerShows('On hold: 2001');
    await callerShows('2002');
    await hmi.screenshot('two-calls-1280x720-day');
    expect(await hmi.smallTargets()).toEqual([]);
    await tap('swap');
    await waitFor(
      'bob active, carol held',
      async () => (await stateOf('2001')) === 'active' && (await stateOf('2002')) === 'held',
    );
    await callerShows('2001');
    expect(await text('other-call')).toMatch(/On hold: 2002/);
    // Ending the active call leaves the held one on screen, to be resumed or ended.
    await tap('hangup');
    await waitFor('only carol left', async () => (await calls()).length === 1);
    await callStateShows('On hold');
    await callerShows('2002');
    await tap('hangup');
    await waitFor('no calls', async () => (await calls()).length === 0);
  });

  it("merges a held and an active call into a conference shown as one call, held under a third call by all its parties' names, and ends it with one tap", async () => {
    await conferenceOfBobAndCarol();
    await waitFor('both calls active and joined', async () =>
      (await calls()).every(([, p]) => p.State === 'active' && p.Multiparty === true),
    );
    await callerShows('2001, 2002');
    // Nothing else to switch to or join: the conference is the one call on screen.
    expect(await hmi.page.locator('[data-testid=other-call]').count()).toBe(0);
    await hmi.screenshot('conference-1280x720-day');
    expect(await hmi.smallTargets()).toEqual([]);
    // A third call (placed by another client of the service, a voice assistant say) holds the
    // conference: the banner names all its parties, and swapping brings it back as one call.
    await client.dial('/sip0', '2003');
    await bannerShows('On hold: 2001, 2002');
    await callerShows('2003');
    await tap('swap');
    await callStateShows('Conference');
    await callerShows('2001, 2002');
    // The banner follows once 2003's own state has come through as held.
    await bannerShows('On hold: 2003');
    await tap('hangup');
    await waitFor('only dave left', async () => (await calls()).length === 1);
    await client.manager('/sip0', 'HangupAll');
    await waitFor('no calls', async () => (await calls()).length === 0);
    await hmi.page.waitForSelector('[data-testid=key-1]');
  });

  it("lists a five-party conference's parties on one screen: one is ended from the list, another talked to alone while the rest stay held together", async () => {
    await conferenceOfBobAndCarol();
    // Each further party is called (by another client of the service) and merged from the screen.
    const parties = ['2001', '2002'];
    for (const next of ['2003', '2004', '2005']) {
      await client.dial('/sip0', next);
      // erin (2004) is in the address book: her name, not her number.
      await bannerShows(`On hold: ${parties.map((n) => (n === '2004' ? 'Erin Weber' : n)).join(', ')}`);
      await tap('merge');
      parties.push(next);
      await waitFor(`${parties.length} calls active and joined`, async () => {
        const all = await calls();
        return (
          all.length === parties.length && all.every(([, p]) => p.State === 'active' && p.Multiparty === true)
        );
      });
    }
    await callerShows('2001, 2002, 2003, Erin Weber, 2005');
    await tap('parties');
    await hmi.page.waitForSelector('[data-testid=party-2005]');
    await hmi.screenshot('conference-parties-1280x720-day');
    // Five parties, each with Private and End, and the call's own buttons: all on screen, none too small.
    expect(await hmi.smallTargets()).toEqual([]);

    // The main process takes a private chat only with a party of the conference, whatever the page asks.
    await expect(hmi.bridge.privateChat('/sip0/voicecall99')).rejects.toThrow(/party of the conference/);
    await expect(hmi.bridge.privateChat({ path: '/sip0/voicecall1' })).rejects.toThrow(
      /party of the conference/,
    );
    await tap('end-2002');
    await waitFor('carol gone, the other four still joined', async () => {
      const all = await calls();
      return all.length === 4 && all.every(([, p]) => p.Multiparty === true);
    });
    await hmi.page.waitForFunction(() => document.querySelector('[data-testid=party-2002]') === null);
    await tap('private-2001');
    await waitFor('bob alone and active, the other three held and still joined', async () => {
      const all = await calls();
      return all.every(([, p]) =>
        p.LineIdentification === '2001'
          ? p.State === 'active' && p.Multiparty === false
          : p.State === 'held' && p.Multiparty === true,
      );
    });
    await bannerShows('On hold: 2003, Erin Weber, 2005');
    await callerShows('2001');
    expect(await hmi.page.locator('[data-testid=parties-list]').count()).toBe(0);
    await client.manager('/sip0', 'HangupAll');
    await waitFor('no calls', async () => (await calls()).length === 0);
  });

  it('locks the keypad and contact search while the car moves, and unlocks them when it stops', async () => {
    await tap('tab-keypad');
    await sendSpeed(50);
    await hmi.page.waitForSelector('[data-testid=keypad-locked]');
    expect(await text('keypad-locked')).toMatch(/locked while driving/);
    expect(await hmi.page.locator('[data-testid=key-1]').isDisabled()).toBe(true);
    expect(await hmi.page.locator('[data-testid=call]').isDisabled()).toBe(true);
    await hmi.screenshot('keypad-locked-1280x720-day');
    // Recents and contacts stay one touch away; typing a search does not.
    await tap('tab-contacts');
    await hmi.page.waitForSelector('[data-testid=contacts] button');
    expect(await hmi.page.locator('[data-testid=contact-search]').count()).toBe(0);
    expect(await hmi.page.locator('[data-testid^=favourite-]').count()).toBe(0);
    // Slowing to 5 km/h is not stopping: the lock holds until below 3 km/h.
    await sendSpeed(5);
    await sleep(300);
    expect(await hmi.page.locator('[data-testid=contact-search]').count()).toBe(0);
    await sendSpeed(0);
    await hmi.page.waitForSelector('[data-testid=contact-search]');
    expect(await hmi.page.locator('[data-testid^=favourite-]').count()).toBeGreaterThan(0);
    await tap('tab-keypad');
    expect(await hmi.page.locator('[data-testid=key-1]').isDisabled()).toBe(false);
  });

  it('says voicemail is waiting in the status line, and calls the mailbox from the top of Recents with one tap while driving, or by holding 1 when parked', async () => {
    const mw = 'org.ofono.MessageWaiting';
    const sip = String((await client.properties('/sip0', 'org.carphone.SipAccount')).LocalAddress);
    // The mailbox is frank's number here: he answers.
    await client.setProperty('/sip0', mw, 'VoicemailMailboxNumber', 's', '2005');
    expect(await sendSummaryNotify(sip, 'Messages-Waiting: yes\r\nVoice-Message: 3/1\r\n')).toBe(
      'SIP/2.0 200 OK',
    );
    await hmi.page.waitForSelector('[data-testid=voicemail-waiting]');
    expect(await text('voicemail-waiting')).toBe('Voicemail 3 new');
    await tap('tab-recents');
    await hmi.page.waitForSelector('[data-testid=call-voicemail]');
    expect(await text('call-voicemail')).toBe('Voicemail 3 new');
    await hmi.screenshot('recents-voicemail-1280x720-day');
    expect(await hmi.smallTargets()).toEqual([]);
    await sendSpeed(50);
    await waitFor('driving', async () => (await hmi.bridge.snapshot()).driving);
    const frankEvents = frank.events.length;
    await tap('call-voicemail');
    await frank.waitForEvent('CALL_ESTABLISHED', 10_000, frankEvents);
    await callerShows('2005');
    await tap('hangup');
    await waitFor('no calls', async () => (await calls()).length === 0);
    await sendSpeed(0);
    await waitFor('parked', async () => !(await hmi.bridge.snapshot()).driving);
    // Parked, the keypad does as every phone does: a long press on 1 calls voicemail, on 0 gives +.
    await tap('tab-keypad');
    const longPress = async (key: string): Promise<void> => {
      await hmi.page.locator(`[data-testid="key-${key}"]`).hover();
      await hmi.page.mouse.down();
      await sleep(900);
      await hmi.page.mouse.up();
    };
    const again = frank.events.length;
    await longPress('1');
    await frank.waitForEvent('CALL_ESTABLISHED', 10_000, again);
    await tap('hangup');
    await waitFor('no calls', async () => (await calls()).length === 0);
    await hmi.page.waitForSelector('[data-testid=key-0]');
    await longPress('0');
    await tap('key-1');
    expect(await text('number')).toBe('+1');
    // With a number begun, 1 is a digit however long it is held.
    await longPress('1');
    expect(await text('number')).toBe('+11');
    expect(await calls()).toEqual([]);
    for (let i = 0; i < 3; i++) {
      await tap('backspace');
    }
    await tap('tab-recents');
    // The messages heard: the server says none wait, and the status line says nothing more.
    expect(await sendSummaryNotify(sip, 'Messages-Waiting: no\r\nVoice-Message: 0/4\r\n')).toBe(
      'SIP/2.0 200 OK',
    );
    await hmi.page.waitForSelector('[data-testid=voicemail-waiting]', { state: 'detached' });
    expect(await text('call-voicemail')).toBe('Voicemail');
    await client.setProperty('/sip0', mw, 'VoicemailMailboxNumber', 's', '');
    await hmi.page.waitForSelector('[data-testid=call-voicemail]', { state: 'detached' });
  });

  it('says in the status line where calls are forwarded while they are, and rings again once they are not', async () => {
    const cf = 'org.ofono.CallForwarding';
    await client.setProperty('/sip0', cf, 'VoiceUnconditional', 's', '+4917655512');
    await hmi.page.waitForSelector('[data-testid=calls-forwarded]');
    expect(await text('calls-forwarded')).toBe('Calls forwarded to +4917655512');
    await hmi.screenshot('recents-calls-forwarded-1280x720-day');
    expect(await hmi.smallTargets()).toEqual([]);
    await client.call('/sip0', cf, 'DisableAll', 's', ['all']);
    await hmi.page.waitForSelector('[data-testid=calls-forwarded]', { state: 'detached' });
  });

  it('says a text arrived in the status line, shows its words in Messages only while parked, and calls its sender back with one tap while driving', async () => {
    await tap('tab-keypad');
    await carol.command('message', 'Running late – call me when you can');
    await hmi.page.waitForSelector('[data-testid=new-texts]');
    expect(await text('new-texts')).toBe('1 new message');
    // carphoned keeps the count: a main process started afresh (after a crash of the HMI) says it too.
    const restarted = await PhoneBridge.connect(bus.address);
    try {
      expect((await restarted.snapshot()).newTexts).toBe(1);
    } finally {
      restarted.close();
    }
    await tap('tab-messages');
    await hmi.page.waitForSelector('[data-testid=text-body]');
    expect(await text('text-body')).toBe('Running late – call me when you can');
    expect(await hmi.page.locator('[data-testid=texts] .who').first().innerText()).toBe('← 2002');
    // Looked at: no longer new.
    await hmi.page.waitForSelector('[data-testid=new-texts]', { state: 'detached' });
    await hmi.screenshot('messages-1280x720-day');
    expect(await hmi.smallTargets()).toEqual([]);

    await sendSpeed(50);
    await hmi.page.waitForSelector('[data-testid=text-hidden]');
    expect(await hmi.page.locator('[data-testid=text-body]').count()).toBe(0);
    // One more arrives while the driver is on Messages at speed: listed at once, its words hidden too.
    await carol.command('message', 'Second one: are you on the A9?');
    await waitFor(
      'two texts listed',
      async () => (await hmi.page.locator('[data-testid=texts] .row').count()) === 2,
    );
    expect(await hmi.page.locator('[data-testid=text-hidden]').count()).toBe(2);
    const shown = await hmi.page.locator('main').innerText();
    expect(shown).not.toMatch(/Running late|A9/);
    await hmi.screenshot('messages-driving-1280x720-day');
    expect(await hmi.smallTargets()).toEqual([]);
    const carolEvents = carol.events.length;
    await hmi.page.locator('[data-testid=texts] button').first().click();
    await carol.waitForEvent('CALL_INCOMING', 10_000, carolEvents);
    await tap('hangup');
    await waitFor('no calls', async () => (await calls()).length === 0);
    // Still at speed: a canned reply with two touches, nothing typed.
    await tap('tab-messages');
    await hmi.page.locator('[data-testid^=reply-]').first().click();
    await hmi.page.waitForSelector('[data-testid=reply-panel]');
    expect(await text('reply-panel')).toMatch(/^Reply to 2002/);
    await hmi.screenshot('messages-reply-1280x720-day');
    expect(await hmi.smallTargets()).toEqual([]);
    await tap('reply-canned-0');
    await waitFor(
      'carol has the reply',
      () => carol.consoleText().includes('sip:1000@127.0.0.1: "I\'m driving. I\'ll call you back."'),
      10_000,
    );
    await hmi.page.waitForSelector('[data-testid=texts]');
    // The main process sends nothing but a canned reply, and only to a text that came in.
    const [latest] = await hmi.bridge.texts(1);
    await expect(hmi.bridge.replyToText(latest?.id, 'Send me your PIN')).rejects.toThrow(/quick replies/);
    await sendSpeed(0);
    await waitFor('parked', async () => !(await hmi.bridge.snapshot()).driving);
  });

  it("shows whether a text sent as SMS reached the phone, from the SMS centre's status report", async () => {
    const mm = 'org.ofono.MessageManager';
    await client.setProperty('/ims', mm, 'UseDeliveryReports', 'b', true);
    await client.call('/ims', mm, 'SendMessage', 'ss', ['+4917012345678', 'Bin gleich da']);
    const submit = await waitFor('the SMS-SUBMIT', () => centre.submits()[0], 5000);
    centre.rpAnswer(submit.callId, [0x03, submit.rp[1] ?? 0]);
    await tap('tab-messages');
    const newest = (what: string): Promise<string> =>
      hmi.page.locator(`[data-testid=texts] ${what}`).first().innerText();
    // The reply sent in the test before is also listed as sent: wait for this text to be the newest.
    await waitFor(
      'the text listed as sent',
      async () => (await newest('.body')) === 'Bin gleich da' && (await newest('.meta')).endsWith(' sent'),
    );
    expect(await newest('.who')).toMatch(/^→ /);
    centre.send('report-1', rpData(0x31, statusReport(submitOf(submit.rp)[1] ?? 0, 0x00)));
    await waitFor('the text listed as delivered', async () => (await newest('.meta')).endsWith(' delivered'));
    await hmi.screenshot('messages-delivered-1280x720-day');
    expect(await hmi.smallTargets()).toEqual([]);
  });

  it('opens a long text in full while parked, calls its sender back from there, and closes it when the car moves', async () => {
    const long =
      'Change of plan: the A9 is closed between Ingolstadt-Nord and Denkendorf after an accident, ' +
      'so take the B13 through Eichstätt instead and meet us at the car park behind the station. ' +
      'We will wait until half past six; call me if you are later than that.';
    await tap('tab-keypad');
    await carol.command('message', long);
    await tap('tab-messages');
    await waitFor(
      'the long text listed',
      async () => (await hmi.page.locator('[data-testid=texts] .body').first().innerText()) === long,
    );
    // In the list it is cut to one line: more than that does not fit. (Measured in the page, on the
    // element on screen: the list is rendered anew as state comes in.)
    await hmi.page.waitForFunction(
      () => {
        const e = document.querySelector('[data-testid=texts] .body');
        return e !== null && e.clientWidth > 0 && e.scrollWidth > e.clientWidth;
      },
      undefined,
      { timeout: 5000 },
    );
    await hmi.page.locator('[data-testid=texts] button').first().click();
    await hmi.page.waitForSelector('[data-testid=reading-panel]');
    expect(await text('reading-text')).toBe(long);
    // Open, all of it shows without scrolling.
    await hmi.page.waitForFunction(
      () => {
        const e = document.querySelector('[data-testid=reading-text]');
        return (
          e !== null &&
          e.clientHeight > 0 &&
          e.scrollHeight <= e.clientHeight &&
          e.scrollWidth <= e.clientWidth
        );
      },
      undefined,
      { timeout: 5000 },
    );
    await hmi.screenshot('messages-reading-1280x720-day');
    expect(await hmi.smallTargets()).toEqual([]);
    const carolEvents = carol.events.length;
    await tap('reading-call');
    await carol.waitForEvent('CALL_INCOMING', 10_000, carolEvents);
    await tap('hangup');
    await waitFor('no calls', async () => (await calls()).length === 0);

    await tap('tab-messages');
    await hmi.page.locator('[data-testid=texts] button').first().click();
    await hmi.page.waitForSelector('[data-testid=reading-panel]');
    await sendSpeed(50);
    await hmi.page.waitForSelector('[data-testid=reading-panel]', { state: 'detached' });
    await hmi.page.waitForSelector('[data-testid=text-hidden]');
    expect(await hmi.page.locator('main').innerText()).not.toMatch(/A9|Eichstätt/);
    await sendSpeed(0);
    await waitFor('parked', async () => !(await hmi.bridge.snapshot()).driving);
  });

  it('declines a ringing call with a canned text in two touches, at speed too, and the caller gets the text', async () => {
    await sendSpeed(50);
    const carolEvents = carol.events.length;
    const consoleBefore = carol.consoleText().length;
    await carol.command('dial', `sip:1000@127.0.0.1:${kam.port}`);
    await hmi.page.waitForSelector('[data-testid=decline-text]');
    await tap('decline-text');
    await hmi.page.waitForSelector('[data-testid=decline-panel]');
    expect(await text('decline-panel')).toMatch(/^Decline, and text 2002/);
    await hmi.screenshot('incoming-decline-text-1280x720-day');
    expect(await hmi.smallTargets()).toEqual([]);
    // Still ringing until a reply is chosen.
    expect((await calls()).map(([, p]) => p.State)).toEqual(['incoming']);
    await tap('decline-canned-1');
    await carol.waitForEvent('CALL_CLOSED', 10_000, carolEvents);
    await waitFor('no calls', async () => (await calls()).length === 0);
    await waitFor(
      'carol has the text',
      () => carol.consoleText().slice(consoleBefore).includes('sip:1000@127.0.0.1: "On my way."'),
      10_000,
    );
    // The main process declines only a call that rings, with a canned reply.
    await expect(hmi.bridge.declineWithText('/sip0/voicecall01', 'On my way.')).rejects.toThrow(/rings/);
    await sendSpeed(0);
    await waitFor('parked', async () => !(await hmi.bridge.snapshot()).driving);
  });

  it('declines a waiting call with a canned text and stays in the call it came into', async () => {
    await callBobThenCarolCalls();
    await hmi.page.waitForSelector('[data-testid=decline-text-waiting]');
    const carolEvents = carol.events.length;
    const consoleBefore = carol.consoleText().length;
    await tap('decline-text-waiting');
    await hmi.page.waitForSelector('[data-testid=decline-panel]');
    expect(await text('decline-panel')).toMatch(/^Decline, and text 2002/);
    await tap('decline-canned-0');
    await carol.waitForEvent('CALL_CLOSED', 10_000, carolEvents);
    await waitFor(
      'only bob, active',
      async () => (await calls()).length === 1 && (await stateOf('2001')) === 'active',
    );
    await hmi.page.waitForSelector('[data-testid=hangup]');
    await waitFor(
      'carol has the text',
      () =>
        carol
          .consoleText()
          .slice(consoleBefore)
          .includes('sip:1000@127.0.0.1: "I\'m driving. I\'ll call you back."'),
      10_000,
    );
    await tap('hangup');
    await waitFor('no calls', async () => (await calls()).length === 0);
  });

  it("shows the address book's name for a number: in the call, in recents and on a text", async () => {
    await tap('tab-keypad');
    for (const k of ['2', '0', '0', '4']) {
      await tap(`key-${k}`);
    }
    await tap('call');
    await hmi.page.waitForSelector('[data-testid=timer]');
    // carphoned says only "2004" (erin's baresip sends no display name): the name is the driver's own.
    const [, props] = (await calls())[0] ?? [];
    expect(props).toMatchObject({ LineIdentification: '2004', Name: '' });
    await callerShows('Erin Weber');
    await tap('hangup');
    await waitFor('no calls', async () => (await calls()).length === 0);
    await tap('tab-recents');
    // Earlier calls are listed too: wait for this one to come first.
    await waitFor(
      'the call listed under her name',
      async () => (await hmi.page.locator('[data-testid=recents] .who').first().innerText()) === 'Erin Weber',
    );
    await erin.command('message', 'Parking round the back');
    await tap('tab-messages');
    await waitFor(
      "erin's text listed under her name",
      async () => (await hmi.page.locator('[data-testid=texts] .who').first().innerText()) === '← Erin Weber',
    );
  });

  it('counts a missed call in the status line until Recents is looked at, on every HMI', async () => {
    const missedCount = async (): Promise<unknown> =>
      (await client.properties('/history', 'org.carphone.CallHistory')).MissedCount;
    // Calls the tests before left unseen are seen once Recents is open.
    await tap('tab-recents');
    await waitFor('earlier missed calls seen', async () => (await missedCount()) === 0);
    await tap('tab-keypad');
    // A second HMI on the same carphoned (a rear seat's): the count is carphoned's, not a screen's.
    const rearSeat = await PhoneBridge.connect(bus.address);
    try {
      // carol tries twice, giving up each time while it rings.
      for (const n of [1, 2]) {
        const carolEvents = carol.events.length;
        await carol.command('dial', `sip:1000@127.0.0.1:${kam.port}`);
        await hmi.page.waitForSelector('[data-testid=answer]');
        await carol.command('hangup');
        await carol.waitForEvent('CALL_CLOSED', 5000, carolEvents);
        await waitFor(`missed call ${n} counted`, async () => (await missedCount()) === n);
      }
      await hmi.page.waitForSelector('[data-testid=missed-calls]');
      await waitFor(
        'the status line counts both',
        async () => (await text('missed-calls')) === '2 missed calls',
      );
      await waitFor('the rear seat counts them', async () => (await rearSeat.snapshot()).missedCalls === 2);
      expect((await ctl(bus.address, 'status')).stdout).toMatch(/^missed calls: 2$/m);
      await hmi.screenshot('keypad-missed-calls-1280x720-day');
      await tap('tab-recents');
      await hmi.page.waitForSelector('[data-testid=missed-calls]', { state: 'detached' });
      expect(await missedCount()).toBe(0);
      await waitFor('the rear seat sees it seen', async () => (await rearSeat.snapshot()).missedCalls === 0);
      expect((await ctl(bus.address, 'status')).stdout).not.toMatch(/missed calls/);
      // Both tries are one row, "2002 (2)": eight rows reach further back.
      const first = hmi.page.locator('[data-testid=recents] button').first();
      await waitFor('the two tries listed first', async () => /\(2\)/.test(await first.innerText()));
      expect(await first.getAttribute('class')).toMatch(/\bmissed\b/);
      expect(await first.locator('.who').innerText()).toBe('2002');
      expect(await first.locator('[data-testid=recent-count]').innerText()).toBe('(2)');
      await hmi.screenshot('recents-missed-twice-1280x720-day');
    } finally {
      rearSeat.close();
    }
  });

  it('opens Recents when the phone key on the steering wheel is pressed with no call', async () => {
    await tap('tab-keypad');
    await hmi.page.waitForSelector('[data-testid=key-1]');
    const since = client.signals.length;
    await pressPhoneKey();
    await client.waitForSignal((sig) => sig.member === 'HmiRequest', 2000, since);
    await hmi.page.waitForSelector('[data-testid=recents]');
    expect(await hmi.page.locator('[data-testid=tab-recents]').getAttribute('aria-current')).toBe('page');
    expect(await hmi.page.locator('[data-testid=key-1]').count()).toBe(0);
  });

  it('says in the call-waiting banner that the network forwarded the waiting call, and from which number', async () => {
    await callBobThenCarolCalls('2099');
    await hmi.page.waitForSelector('[data-testid=waiting]');
    expect(await text('waiting')).toMatch(/^Call waiting: 2002 · via 2099/);
    await tap('reject-waiting');
    await waitFor('only bob left', async () => (await calls()).length === 1);
    await tap('hangup');
    await waitFor('no calls', async () => (await calls()).length === 0);
  });

  it('says on the incoming screen that the network forwarded the call, and from which number', async () => {
    // kamailio forwards calls for 2099 to this line, with History-Info, as an IMS core's CFU does.
    await carol.command('dial', `sip:2099@127.0.0.1:${kam.port}`);
    await hmi.page.waitForSelector('[data-testid=answer]');
    const [, props] = (await calls())[0] ?? [];
    expect(props).toMatchObject({
      LineIdentification: '2002',
      Forwarded: 'unconditional',
      ForwardedFrom: '2099',
      IncomingLine: '',
    });
    expect(await text('incoming-what')).toBe('Forwarded from 2099');
    expect(await text('caller')).toBe('2002');
    await hmi.screenshot('incoming-forwarded-1280x720-day');
    expect(await hmi.smallTargets()).toEqual([]);
    await tap('reject');
    await waitFor('no calls', async () => (await calls()).length === 0);
    // The call log keeps it: the recents row says which of the driver's numbers was called.
    await tap('tab-recents');
    const meta = hmi.page.locator('[data-testid=recents] .meta').first();
    await waitFor('the forwarded call listed first', async () => / · via 2099$/.test(await meta.innerText()));
    expect(await meta.innerText()).toMatch(/^declined \d\d:\d\d · via 2099$/);
    const listed = await ctl(bus.address, 'recents', '1');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} rejected 2002 0 s, local forwarded unconditional from 2099\n$/,
    );
    await hmi.screenshot('recents-forwarded-1280x720-day');
  });

  it('lists contacts, favourites first, with one tap to call', async () => {
    const [jurgen] = await searchContacts('jür');
    await client.call('/contacts', 'org.carphone.Contacts', 'SetFavourite', 'sb', [jurgen?.Id, true]);
    await tap('tab-contacts');
    await hmi.page.waitForSelector('[data-testid=contacts] button');
    expect(await hmi.page.locator('[data-testid=contacts] button').first().innerText()).toMatch(
      /★ Jürgen Müller/,
    );
    await hmi.screenshot('contacts-1280x720-day');
    expect(await hmi.smallTargets()).toEqual([]);
    // Parked, the star beside a contact makes it a favourite, and takes it back.
    const [anna] = await searchContacts('anna');
    const annaId = String(anna?.Id);
    expect(await text(`favourite-${annaId}`)).toBe('☆');
    await tap(`favourite-${annaId}`);
    await waitFor('anna a favourite', async () => (await text(`favourite-${annaId}`)) === '★');
    expect(await hmi.page.locator(`[data-testid="contact-${annaId}"]`).innerText()).toMatch(
      /^★ Anna Schmidt/,
    );
    const favourites = async (): Promise<unknown[]> =>
      (await searchContacts(''))
        .filter((c) => c.Favourite === true)
        .map((c) => String(c.Name))
        .sort();
    expect(await favourites()).toEqual(['Anna Schmidt, Dr.', 'Jürgen Müller']);
    await tap(`favourite-${annaId}`);
    await waitFor('anna no favourite', async () => (await text(`favourite-${annaId}`)) === '☆');
    expect(await favourites()).toEqual(['Jürgen Müller']);
    // Searching while parked narrows the list as the driver types.
    await hmi.page.locator('[data-testid=contact-search]').pressSequentially('schm');
    await hmi.page.waitForFunction(
      () => document.querySelectorAll('[data-testid=contacts] button[data-testid^=contact-]').length === 1,
    );
    expect(await hmi.page.locator('[data-testid=contacts] button').first().innerText()).toMatch(
      /Anna Schmidt/,
    );
    await hmi.page.locator('[data-testid=contact-search]').fill('');
    await hmi.page.waitForFunction(
      () => document.querySelectorAll('[data-testid=contacts] button[data-testid^=contact-]').length > 1,
    );
  });

  it('offers the numbers of a contact that has several, and calls the one chosen', async () => {
    await tap('tab-contacts');
    const grete = hmi.page.locator('[data-testid=contacts] button', { hasText: 'Grete Vogel' });
    expect(await grete.innerText()).toMatch(/mobile · 2 numbers/);
    await grete.click();
    await hmi.page.waitForSelector('[data-testid=contact-numbers]');
    expect(await hmi.page.locator('[data-testid=contact-numbers] button').allInnerTexts()).toEqual([
      'mobile · 2097',
      'work · 2098',
      'Close',
    ]);
    expect(await hmi.smallTargets()).toEqual([]);
    await hmi.screenshot('contacts-numbers-1280x720-day');
    const since = client.signals.length;
    await tap('contact-number-1');
    const added = await client.waitForSignal((sig) => sig.member === 'CallAdded', 5000, since);
    expect((added.args[1] as Record<string, unknown>).LineIdentification).toBe('2098');
    await waitFor('the call to nobody ended', async () => (await calls()).length === 0);
    // Back at the list, not at the numbers: the choice is made.
    await hmi.page.waitForSelector('[data-testid=contacts]');
    expect(await hmi.page.locator('[data-testid=contact-numbers]').count()).toBe(0);
  });

  it('says "phone service unavailable" while carphoned is gone, and recovers its state when it is back', async () => {
    const t0 = Date.now();
    const mark = (what: string): void => {
      if (process.env.HMI_DEBUG) {
        console.log(`${what} +${Date.now() - t0} ms`);
      }
    };
    client.disconnect();
    await daemon.stop();
    mark('stopped');
    await hmi.page.waitForSelector('[data-testid=unavailable]', { timeout: 10_000 });
    expect(await text('unavailable')).toBe('Phone service unavailable');
    await hmi.screenshot('unavailable-1280x720-day');
    mark('unavailable shown');
    daemon = await Carphoned.spawn(daemon.configPath);
    client = await daemon.client();
    mark('restarted');
    await hmi.page.waitForFunction(
      () => document.querySelector('[data-testid=registration]')?.textContent === 'Ready',
      undefined,
      { timeout: 15_000 },
    );
    // The screen the driver left (contacts) is still there, with its data read again.
    await hmi.page.waitForSelector('[data-testid=contacts] button');
    await tap('tab-keypad');
    await hmi.page.waitForSelector('[data-testid=key-1]');
  });

  /** carphoned started again with `started`'s config, and registered. */
  const restart = async (started: object): Promise<void> => {
    client.disconnect();
    await daemon.stop();
    daemon = await Carphoned.start(started);
    client = await daemon.client();
    await waitFor(
      'registered',
      async () => (await client.properties('/sip0', 'org.carphone.SipAccount')).Registration === 'registered',
    );
  };
  /** carphoned started again with an eCall section (the PSAP simulator `psap`). */
  const restartWithEcall = async (psap: PsapSimulator, ecall: Record<string, unknown>): Promise<void> => {
    const base = config as { accounts: Record<string, unknown>[] };
    await restart({
      ...base,
      // A call without RTP for a second is taken as dropped: the PSAP's drop is seen at once.
      accounts: base.accounts.map((a, i) => (i === 0 ? { ...a, mediaTimeoutSeconds: 1 } : a)),
      ecall: { psap: psap.uri, vin: 'WVWZZZ1KZAW123456', ...ecall },
    });
  };
  /** Waits until the eCall screen says `what`. */
  const ecallStateShows = (what: string): Promise<unknown> =>
    hmi.page.waitForFunction(
      (w) => document.querySelector('[data-testid=ecall-state]')?.textContent === w,
      what,
      { timeout: 15_000 },
    );

  it('shows the eCall from its first call to the callback window, through a dropped call, without any way to end it', async () => {
    const psap = await PsapSimulator.start();
    await restartWithEcall(psap, { redialSeconds: [3] });
    try {
      await client.call('/sip0', 'org.carphone.Emergency', 'Trigger', 's', ['manual']);
      await ecallStateShows('Help has your position');
      expect(await text('ecall')).toBe('Emergency call in progress');
      expect(await hmi.page.locator('button').count()).toBe(0);
      await hmi.screenshot('ecall-1280x720-day');
      const first = await waitFor('the eCall at the PSAP', () => psap.calls()[0]);
      psap.drop(first.callId);
      // Between the dropped call and the redial there is no call, and still no phone to dial on.
      await ecallStateShows('Connection lost – calling again…');
      expect(await calls()).toEqual([]);
      expect(await hmi.page.locator('button').count()).toBe(0);
      await hmi.screenshot('ecall-redial-1280x720-day');
      const seconds = (x: string): number => Number(x.split(':')[0]) * 60 + Number(x.split(':')[1]);
      const waited = seconds(await text('timer'));
      expect(waited).toBeGreaterThanOrEqual(1);
      const second = await waitFor(
        'the eCall redialled',
        () => psap.calls().find((c) => c.callId !== first.callId && c.state === 'active'),
        15_000,
      );
      await ecallStateShows('Help has your position');
      // The time since the eCall began, not since the redialled call was answered.
      expect(seconds(await text('timer'))).toBeGreaterThan(waited);
      psap.clearDown(second.callId);
      // The phone is the driver's again; the status line says until when the centre may call back.
      await hmi.page.waitForSelector('[data-testid=tab-keypad]');
      expect(await text('ecall-callback')).toMatch(/^Emergency centre may call back until \d{2}:\d{2}$/);
      await hmi.screenshot('ecall-callback-1280x720-day');
    } finally {
      psap.close();
    }
  });

  it('says an eCall that could not be connected, calls 112 again with one touch, or gives the phone back', async () => {
    const psap = await PsapSimulator.start({ reject: 3 });
    await restartWithEcall(psap, { redialSeconds: [] });
    const rejected: unknown[] = [];
    psap.events.on('log', (entry) => {
      if (entry.event === 'rejected') {
        rejected.push(entry);
      }
    });
    /** Closes the failed screen once it stands for the eCall carphoned says failed last. */
    const closeFailure = async (): Promise<void> => {
      const failed = await waitFor('the eCall failed', async () => {
        const p = await client.properties('/sip0', 'org.carphone.Emergency');
        return p.State === 'failed' ? p : undefined;
      });
      await hmi.page.waitForSelector(
        `[data-triggered-at="${String(failed.TriggeredAt)}"] [data-testid=ecall-close]`,
      );
      await tap('ecall-close');
      await hmi.page.waitForSelector('[data-testid=key-1]');
    };
    const dial112 = async (): Promise<void> => {
      for (const k of ['1', '1', '2']) {
        await tap(`key-${k}`);
      }
      await tap('call');
    };
    try {
      await client.call('/sip0', 'org.carphone.Emergency', 'Trigger', 's', ['manual']);
      await hmi.page.waitForSelector('[data-testid=ecall-retry]');
      expect(await text('ecall')).toBe('Emergency call could not be connected');
      expect(await hmi.smallTargets()).toEqual([]);
      await hmi.screenshot('ecall-failed-1280x720-day');
      await tap('ecall-retry');
      await waitFor('the second eCall refused too', () => rejected.length === 2, 10_000);
      await closeFailure();
      // From the keypad: 112 is an eCall again. Refused too, it is a new failure, shown again.
      await dial112();
      await waitFor('the third eCall refused', () => rejected.length === 3, 10_000);
      await closeFailure();
      // Call with nothing typed offers the number last called, never the emergency number just dialled.
      const [newest] = await callLog(1);
      expect(newest).toMatchObject({ Kind: 'outgoing', Emergency: true });
      await tap('call');
      await waitFor('a number offered', async () => (await text('number')) !== '');
      expect(await text('number')).not.toMatch(/^112$/);
      while ((await text('number')) !== '') {
        await tap('backspace');
      }
      // The centre takes the next one.
      await dial112();
      await ecallStateShows('Help has your position');
      const call = await waitFor('the eCall answered', () => psap.calls().find((c) => c.state === 'active'));
      psap.clearDown(call.callId);
      await hmi.page.waitForSelector('[data-testid=ecall-callback]');
    } finally {
      psap.close();
      // Without the eCall and its callback window, for the tests after this one.
      await restart(config);
    }
  }, 60_000);

  it('renders night theme, German, and the 1920 × 720 layout with every target at least 76 × 76', async () => {
    for (const [w, h] of [
      [1280, 720],
      [1920, 720],
    ] as const) {
      await hmi.page.setViewportSize({ width: w, height: h });
      for (const theme of ['day', 'night']) {
        await hmi.open(`theme=${theme}`);
        await hmi.page.waitForSelector('[data-testid=key-1]');
        expect(await hmi.smallTargets()).toEqual([]);
        await hmi.screenshot(`keypad-${w}x${h}-${theme}`);
      }
    }
    await hmi.open('lang=de&theme=night');
    await hmi.page.waitForSelector('[data-testid=key-1]');
    expect(await text('registration')).toBe('Bereit');
    expect(await text('tab-recents')).toBe('Anrufliste');
    await hmi.screenshot('keypad-1920x720-night-de');
    await hmi.page.setViewportSize({ width: 1280, height: 720 });
    await hmi.open();
  });
});
