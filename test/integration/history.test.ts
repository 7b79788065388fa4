import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OfonoClient } from '../../service/client/ofono-client.js';
import { writeTone } from '../harness/audio.js';
import { Baresip } from '../harness/baresip.js';
import { Carphoned, REPO } from '../harness/carphoned.js';
import { PrivateBus } from '../harness/dbus-daemon.js';
import { waitFor } from '../harness/process.js';

type Entry = Record<string, unknown>;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('the call history', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carphone-history-'));
  const path = join(dir, 'history.sqlite');
  const vcard = join(REPO, 'test/fixtures/contacts.vcf');
  const config = (bus: string, country?: string): object => ({
    contacts: { vcard, ...(country ? { country } : {}) },
    dbus: { bus },
    history: { path },
    accounts: [{ id: 'sip0', user: '1000', domain: '127.0.0.1' }],
  });
  let bus: PrivateBus;
  let daemon: Carphoned;
  let client: OfonoClient;
  let carol: Baresip;
  const recent = async (n = 10): Promise<Entry[]> =>
    (await client.call('/history', 'org.carphone.CallHistory', 'GetRecent', 'u', [n])) as Entry[];

  beforeAll(async () => {
    writeTone(join(dir, 'tone.wav'), 1000, 60);
    bus = await PrivateBus.start();
    daemon = await Carphoned.start(config(bus.address));
    client = await daemon.client();
    carol = await Baresip.start({ user: '2002', autoAnswer: false, sourceWav: join(dir, 'tone.wav') });
  });

  afterAll(async () => {
    client?.disconnect();
    await daemon?.stop();
    await carol?.stop();
    await bus?.stop();
  });

  it('records an outgoing call with its duration and announces it', async () => {
    const since = client.signals.length;
    const call = await client.dial('/sip0', '*43');
    await client.waitForCallState(call, 'active', 5000, since);
    await sleep(1200);
    await client.hangup(call);
    const added = await client.waitForSignal((s) => s.member === 'EntryAdded', 5000, since);
    expect(added.args[0]).toMatchObject({
      Kind: 'outgoing',
      LineIdentification: '*43',
      Line: 'sip0',
      DisconnectReason: 'local',
    });
    const [latest] = await recent();
    expect(latest).toMatchObject({ Kind: 'outgoing', LineIdentification: '*43' });
    expect(Number(latest?.Duration)).toBeGreaterThanOrEqual(1);
    expect(String(latest?.StartTime)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$/);
  });

  it('records a call the caller gave up as missed, one the driver refused as rejected, an answered one as incoming', async () => {
    const sip = String((await client.properties('/sip0', 'org.carphone.SipAccount')).LocalAddress);
    const ring = async (): Promise<string> => {
      const since = client.signals.length;
      await carol.command('dial', `sip:1000@${sip}`);
      const added = await client.waitForSignal((s) => s.member === 'CallAdded', 10_000, since);
      return (added.args as [string])[0];
    };
    const entries = async (n: number): Promise<void> => {
      await waitFor(`${n} entries`, async () => (await recent(50)).length >= n, 5000);
    };
    await ring();
    await sleep(200);
    await carol.command('hangup');
    await entries(2);
    let call = await ring();
    await client.hangup(call);
    await entries(3);
    call = await ring();
    await client.answer(call);
    await client.waitForCallState(call, 'active', 5000);
    await sleep(1100);
    await carol.command('hangup');
    await entries(4);
    const [answered, rejected, missed] = await recent(3);
    expect(missed).toMatchObject({ Kind: 'missed', LineIdentification: '2002', Duration: 0 });
    expect(rejected).toMatchObject({
      Kind: 'rejected',
      LineIdentification: '2002',
      DisconnectReason: 'local',
    });
    expect(answered).toMatchObject({ Kind: 'incoming', LineIdentification: '2002' });
    expect(Number(answered?.Duration)).toBeGreaterThanOrEqual(1);
  });

  it('searches the imported vCard contacts and marks favourites', async () => {
    const found = (await client.call('/contacts', 'org.carphone.Contacts', 'Search', 'su', [
      'jür',
      10,
    ])) as Entry[];
    expect(found).toEqual([
      {
        Id: expect.stringMatching(/^[0-9a-f]{12}$/) as unknown,
        Name: 'Jürgen Müller',
        Numbers: [
          { Number: '+491701234567', Type: 'cell' },
          { Number: '+4930987654', Type: 'work' },
        ],
        Favourite: false,
      },
    ]);
    await client.call('/contacts', 'org.carphone.Contacts', 'SetFavourite', 'sb', [found[0]?.Id, true]);
    const favourites = (await client.call('/contacts', 'org.carphone.Contacts', 'GetFavourites')) as Entry[];
    expect(favourites.map((f) => f.Name)).toEqual(['Jürgen Müller']);
    expect(await client.properties('/contacts', 'org.carphone.Contacts')).toEqual({
      Source: vcard,
      Count: 4,
    });
    await expect(
      client.call('/contacts', 'org.carphone.Contacts', 'SetFavourite', 'sb', ['nope', true]),
    ).rejects.toMatchObject({
      type: 'org.ofono.Error.NotFound',
    });
    // Who a caller is: the network's international form of a number stored nationally ("0171 2223334").
    const lookup = (n: string): Promise<unknown> =>
      client.call('/contacts', 'org.carphone.Contacts', 'Lookup', 's', [n]);
    expect(await lookup('+491712223334')).toMatchObject({ Name: 'Ayşe Özdemir' });
    expect(await lookup('0049 30 987654')).toMatchObject({ Name: 'Jürgen Müller', Favourite: true });
    // Two international numbers that end alike are different phones.
    await expect(lookup('+4430987654')).rejects.toMatchObject({ type: 'org.ofono.Error.NotFound' });
  });

  it('survives a restart of the daemon', async () => {
    const before = await recent(50);
    client.disconnect();
    await daemon.stop();
    // Started again knowing the car's country: numbers are matched by Germany's numbering plan now.
    daemon = await Carphoned.start(config(bus.address, 'DE'));
    client = await daemon.client();
    expect(await recent(50)).toEqual(before);
    const lookup = (n: string): Promise<unknown> =>
      client.call('/contacts', 'org.carphone.Contacts', 'Lookup', 's', [n]);
    expect(await lookup('+491712223334')).toMatchObject({ Name: 'Ayşe Özdemir' });
    // A London number that ends like her national one is someone else (the last-8-digits rule took it).
    await expect(lookup('+441712223334')).rejects.toMatchObject({ type: 'org.ofono.Error.NotFound' });
    const favourites = (await client.call('/contacts', 'org.carphone.Contacts', 'GetFavourites')) as Entry[];
    expect(favourites.map((f) => f.Name)).toEqual(['Jürgen Müller']);
  });

  it('ends a call in progress with a BYE when it is stopped (the ignition off), and logs it as ended here', async () => {
    const carolEvents = carol.events.length;
    const call = await client.dial('/sip0', carol.uri);
    await carol.waitForEvent('CALL_INCOMING', 5000, carolEvents);
    await carol.command('accept');
    await client.waitForCallState(call, 'active', 5000);
    client.disconnect();
    await daemon.stop('SIGTERM');
    // baresip has no media timeout: without a BYE its call would stay up.
    const closed = await carol.waitForEvent('CALL_CLOSED', 3000, carolEvents);
    expect(closed.param).not.toMatch(/timeout/i);
    daemon = await Carphoned.start(config(bus.address));
    client = await daemon.client();
    const [latest] = await recent();
    expect(latest).toMatchObject({ Kind: 'outgoing', Line: 'sip0', DisconnectReason: 'local' });
  });

  it('logs a call that a killed daemon left in progress as interrupted, with its talk time so far', async () => {
    const call = await client.dial('/sip0', '*43');
    await client.waitForCallState(call, 'active', 5000);
    // The talk time so far is written down every 10 s.
    await sleep(11_000);
    client.disconnect();
    await daemon.stop('SIGKILL');
    daemon = await Carphoned.start(config(bus.address));
    client = await daemon.client();
    const [latest] = await recent();
    expect(latest).toMatchObject({
      Kind: 'outgoing',
      LineIdentification: '*43',
      Line: 'sip0',
      DisconnectReason: 'interrupted',
    });
    expect(Number(latest?.Duration)).toBeGreaterThanOrEqual(10);
    expect(Number(latest?.Duration)).toBeLessThanOrEqual(12);
    expect(existsSync(join(dir, 'calls-in-progress.json'))).toBe(false);
  }, 40_000);

  it('keeps a corrupted log aside and starts a new one, and the daemon serves calls', async () => {
    client.disconnect();
    await daemon.stop();
    writeFileSync(path, 'this is not an SQLite database');
    daemon = await Carphoned.start(config(bus.address));
    client = await daemon.client();
    expect(await recent()).toEqual([]);
    expect(readdirSync(dir).some((f) => f.startsWith('history.sqlite.corrupt-'))).toBe(true);
    await expect(
      client.call('/history', 'org.carphone.CallHistory', 'GetRecent', 'u', [0]),
    ).rejects.toMatchObject({ type: 'org.ofono.Error.InvalidArguments' });
  });
});
