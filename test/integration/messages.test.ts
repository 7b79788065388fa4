import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OfonoClientError, type OfonoClient, type Props } from '../../service/client/ofono-client.js';
import { Baresip } from '../harness/baresip.js';
import { Carphoned, REPO } from '../harness/carphoned.js';
import { ctl, run } from '../harness/carphonectl.js';
import { PrivateBus } from '../harness/dbus-daemon.js';
import { Kamailio } from '../harness/kamailio.js';
import { freePort } from '../harness/ports.js';
import { waitFor } from '../harness/process.js';

const MM = 'org.ofono.MessageManager';
const HISTORY = 'org.carphone.MessageHistory';

let kam: Kamailio;
let bob: Baresip;
let bus: PrivateBus;
let daemon: Carphoned;
let client: OfonoClient;
const historyPath = join(mkdtempSync(join(tmpdir(), 'carphone-messages-')), 'history.sqlite');

async function startDaemon(): Promise<void> {
  daemon = await Carphoned.start(
    {
      dbus: { bus: bus.address },
      history: { path: historyPath },
      accounts: [
        {
          id: 'sip0',
          user: '1000',
          password: 'secret-1000',
          displayName: 'Auto Müller',
          domain: '127.0.0.1',
          registrar: kam.uri,
        },
      ],
    },
    // As an existing oFono client finds it.
    ['--bus-name', 'org.ofono'],
  );
  client = await daemon.client('org.ofono');
  await waitFor(
    'sip0 registered',
    async () => (await client.properties('/sip0', 'org.carphone.SipAccount')).Registration === 'registered',
  );
}

async function recentMessages(limit = 10): Promise<Props[]> {
  return (await client.call('/history', HISTORY, 'GetRecent', 'u', [limit])) as Props[];
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof OfonoClientError) {
      return e.type;
    }
    throw e;
  }
  return 'no error';
}

beforeAll(async () => {
  kam = await Kamailio.start({
    users: [
      { user: '1000', password: 'secret-1000' },
      { user: '2001', password: 'secret-2001' },
    ],
    // MESSAGEs are challenged as INVITEs are: both sides must answer with their password.
    proxyAuth: true,
  });
  bob = await Baresip.start({
    user: '2001',
    password: 'secret-2001',
    registrarPort: kam.port,
    autoAnswer: false,
    sourceWav: join(REPO, 'test/fixtures/contacts.vcf'),
    contacts: [`"Car" <sip:1000@127.0.0.1:${kam.port}>`],
    console: true,
  });
  bus = await PrivateBus.start();
  await startDaemon();
}, 60_000);

afterAll(async () => {
  client?.disconnect();
  await daemon?.stop();
  await Promise.allSettled([bob?.stop(), kam?.stop(), bus?.stop()]);
});

describe('text messages (SIP MESSAGE) as oFono MessageManager', () => {
  it('sends a text through the proxy challenge to baresip, which shows it intact, and logs it as sent', async () => {
    const text = 'Bin in 10 Minuten da – Grüße 🚗';
    const since = client.signals.length;
    const sent = await client.sendMessage('/sip0', '2001', text);
    expect(sent).toEqual({ path: '/sip0/message_01', state: 'sent', reason: '' });
    // Its From is the line's address of record; the display name is not printed.
    await waitFor(
      'baresip shows the text',
      () => bob.consoleText().includes(`sip:1000@127.0.0.1: "${text}"`),
      5000,
    );
    await client.waitForSignal((s) => s.member === 'MessageRemoved', 5000, since);
    const signals = client.signals.slice(since).filter((s) => s.path.startsWith('/sip0'));
    expect(signals.map((s) => `${s.member} ${JSON.stringify(s.args)}`)).toEqual([
      `MessageAdded ["/sip0/message_01",{"State":"pending"}]`,
      `PropertyChanged ["State","sent"]`,
      `MessageRemoved ["/sip0/message_01"]`,
    ]);
    expect(await client.call('/sip0', MM, 'GetMessages')).toEqual([]);
    expect((await recentMessages(1))[0]).toMatchObject({
      Direction: 'outgoing',
      LineIdentification: '2001',
      Text: text,
      State: 'sent',
      FailureReason: '',
    });
  });

  it('signals a text from baresip as IncomingMessage, and still has it after carphoned is killed', async () => {
    const text = 'Wo bist du? 🙂\nRuf an';
    const since = client.signals.length;
    await bob.command('message', text);
    const incoming = await client.waitForSignal((s) => s.member === 'IncomingMessage', 10_000, since);
    expect(incoming.path).toBe('/sip0');
    expect(incoming.args[0]).toBe(text);
    expect(incoming.args[1]).toMatchObject({ Sender: '2001' });
    expect(String((incoming.args[1] as Props).SentTime)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$/);
    // The 200 went to baresip after the message was on disk: a kill now loses nothing.
    client.disconnect();
    await daemon.stop('SIGKILL');
    await startDaemon();
    expect((await recentMessages(1))[0]).toMatchObject({
      Direction: 'incoming',
      LineIdentification: '2001',
      Text: text,
      State: 'received',
    });
  });

  it("fails a text to someone not registered with the network's reason, and carphonectl says so", async () => {
    const r = await ctl(bus.address, '--name', 'org.ofono', 'text', '2999', 'are', 'you', 'there?');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\/sip0\/message_\d+ failed: 404 Not Found/);
    expect((await recentMessages(1))[0]).toMatchObject({
      Direction: 'outgoing',
      LineIdentification: '2999',
      Text: 'are you there?',
      State: 'failed',
      FailureReason: '404 Not Found',
    });
    const listed = await ctl(bus.address, '--name', 'org.ofono', 'messages', '3');
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n')[0]).toMatch(/ -> 2999 failed \[404 Not Found\]: are you there\?$/);
  });

  it("sends with oFono's own send-sms steps from a python3-dbus client", async () => {
    const r = await run(
      '/usr/bin/python3',
      [join(REPO, 'test/clients/ofono_client.py'), 'send-sms', '2001', 'via python', '1'],
      {
        DBUS_SYSTEM_BUS_ADDRESS: bus.address,
      },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^\/sip0\/message_\d+\n$/);
    await waitFor('baresip shows the text', () => bob.consoleText().includes(': "via python"'), 5000);
    expect((await client.properties('/sip0', MM)).UseDeliveryReports).toBe(true);
    expect((await client.properties('/sip0', 'org.ofono.Modem')).Features).toEqual(['sms']);
  });

  it('refuses what cannot be sent with oFono error names, sending nothing', async () => {
    const before = (await recentMessages(1))[0]?.Id;
    const send = (to: string, text: string): Promise<unknown> =>
      client.call('/sip0', MM, 'SendMessage', 'ss', [to, text]);
    expect(await refusal(send('2001', 'x'.repeat(1001)))).toBe('org.ofono.Error.InvalidFormat');
    expect(await refusal(send('2001', ' '))).toBe('org.ofono.Error.InvalidFormat');
    expect(await refusal(send('not a number', 'hi'))).toBe('org.ofono.Error.InvalidFormat');
    expect(await refusal(send('112', 'help'))).toBe('org.ofono.Error.NotSupported');
    expect(await refusal(send('sips:2001@127.0.0.1', 'hi'))).toBe('org.ofono.Error.NotSupported');
    expect(await refusal(client.call('/sip0', MM, 'SendMessage', 's', ['2001']))).toBe(
      'org.ofono.Error.InvalidArguments',
    );
    expect(await refusal(client.setProperty('/sip0', MM, 'ServiceCenterAddress', 's', '+491234'))).toBe(
      'org.ofono.Error.NotSupported',
    );
    expect(await refusal(client.setProperty('/sip0', MM, 'UseDeliveryReports', 's', 'yes'))).toBe(
      'org.ofono.Error.InvalidArguments',
    );
    expect(await refusal(client.call('/history', HISTORY, 'GetRecent', 'u', [0]))).toBe(
      'org.ofono.Error.InvalidArguments',
    );
    expect((await recentMessages(1))[0]?.Id).toBe(before);
  });
});

describe('texts sent while the line cannot reach its registrar', () => {
  it('wait pending across a kill of carphoned, can be cancelled while waiting, and go once the line registers', async () => {
    // The car's own registrar, down for now: nothing listens on its port (TCP: each try is refused at once).
    const registrarPort = await freePort();
    const state = { XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'carphone-texts-state-')) };
    const config = {
      dbus: { bus: bus.address },
      echoTest: { enabled: false },
      accounts: [
        {
          id: 'car',
          user: '1000',
          password: 'secret-1000',
          domain: '127.0.0.1',
          registrar: `sip:127.0.0.1:${registrarPort}`,
          transport: 'tcp',
        },
      ],
    };
    let car = await Carphoned.start(config, [], state);
    let c = await car.client();
    // To bob, through the car's registrar (once it is there) and on to the test's kamailio, where he is.
    const bobUri = `sip:2001@127.0.0.1:${kam.port}`;
    let registrar: Kamailio | undefined;
    try {
      const queued = await ctl(bus.address, 'text', bobUri, 'Typed', 'in', 'the', 'tunnel');
      expect(queued).toMatchObject({
        code: 0,
        stdout: '/car/message_01 pending: it goes when the line registers\n',
      });
      const tunnel = '/car/message_01';
      const never = String(await c.call('/car', MM, 'SendMessage', 'ss', [bobUri, 'Never mind']));
      expect(await c.properties(tunnel, 'org.ofono.Message')).toEqual({ State: 'pending' });
      expect((await c.call('/car', MM, 'GetMessages')) as unknown[]).toHaveLength(2);
      const since = c.signals.length;
      await c.call(never, 'org.ofono.Message', 'Cancel');
      await c.waitForSignal((s) => s.path === '/car' && s.member === 'MessageRemoved', 5000, since);
      expect(c.signals.slice(since).map((s) => `${s.path} ${s.member} ${JSON.stringify(s.args)}`)).toContain(
        `${never} PropertyChanged ["State","cancelled"]`,
      );
      const cancelled = (await c.call('/history', HISTORY, 'GetRecent', 'u', [1])) as Props[];
      expect(cancelled[0]).toMatchObject({ Text: 'Never mind', State: 'cancelled' });

      // The car is switched off hard; the text it has not sent is on disk and waits again.
      c.disconnect();
      await car.stop('SIGKILL');
      car = await Carphoned.start(config, [], state);
      c = await car.client();
      const waiting = (await c.call('/car', MM, 'GetMessages')) as [string, Props][];
      expect(waiting.map(([, p]) => p.State)).toEqual(['pending']);
      expect(bob.consoleText()).not.toContain('Typed in the tunnel');

      registrar = await Kamailio.start({
        users: [{ user: '1000', password: 'secret-1000' }],
        port: registrarPort,
        relayElsewhere: true,
      });
      await waitFor(
        'baresip shows the text',
        () => bob.consoleText().includes('sip:1000@127.0.0.1: "Typed in the tunnel"'),
        30_000,
      );
      await waitFor(
        'logged as sent',
        async () =>
          ((await c.call('/history', HISTORY, 'GetRecent', 'u', [1])) as Props[])[0]?.State === 'sent',
        5000,
      );
      expect(await c.call('/car', MM, 'GetMessages')).toEqual([]);
      expect(bob.consoleText()).not.toContain('Never mind');
    } finally {
      c.disconnect();
      await car.stop();
      await registrar?.stop();
    }
  }, 60_000);
});
