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
import { rpData, SmsCentre, statusReport, submitOf, ucs2Deliver } from '../harness/sms-centre.js';
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

  it('signals a text from baresip as IncomingMessage, and still has it, unread, after carphoned is killed', async () => {
    const text = 'Wo bist du? 🙂\nRuf an';
    const since = client.signals.length;
    const unreadBefore = Number((await client.properties('/history', HISTORY)).UnreadCount);
    await bob.command('message', text);
    const incoming = await client.waitForSignal((s) => s.member === 'IncomingMessage', 10_000, since);
    const counted = await client.waitForSignal(
      (s) => s.interface === HISTORY && s.member === 'PropertyChanged',
      5000,
      since,
    );
    expect(counted.args).toEqual(['UnreadCount', unreadBefore + 1]);
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
      Unread: true,
    });
    // Read where it was shown (the HMI's Messages screen): for every client, and across restarts.
    expect((await client.properties('/history', HISTORY)).UnreadCount).toBe(unreadBefore + 1);
    const read = client.signals.length;
    await client.call('/history', HISTORY, 'MarkRead');
    const cleared = await client.waitForSignal((s) => s.interface === HISTORY, 5000, read);
    expect(cleared.args).toEqual(['UnreadCount', 0]);
    client.disconnect();
    await daemon.stop('SIGKILL');
    await startDaemon();
    expect((await client.properties('/history', HISTORY)).UnreadCount).toBe(0);
    expect((await recentMessages(1))[0]).toMatchObject({ Text: text, Unread: false });
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

describe('SMS relayed over IP (3GPP TS 24.341): application/vnd.3gpp.sms', () => {
  it('shows the text, whole once every part is in, and answers the service centre with RP-ACK, or RP-ERROR for one it cannot read; sends texts to numbers as SMS-SUBMIT, again with TP-RD after a temporary RP-ERROR; records the delivery reports of the centre', async () => {
    // A fixed port and state directory: carphoned is killed between two parts of a text and started again.
    const imsPort = await freePort();
    const centre = await SmsCentre.open(imsPort);
    const imsConfig = {
      dbus: { bus: bus.address },
      echoTest: { enabled: false },
      accounts: [
        {
          id: 'ims',
          user: '1000',
          domain: '127.0.0.1',
          listen: { port: imsPort },
          sms: { serviceCentre: '+49170123456', psi: `sip:smsc@127.0.0.1:${centre.port}` },
        },
      ],
    };
    const state = { XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'carphone-sms-state-')) };
    let ims = await Carphoned.start(imsConfig, [], state);
    let c = await ims.client();
    try {
      // dreamfabric's classic SMS-DELIVER: "hellohello", 7-bit.
      const since = c.signals.length;
      centre.send(
        'sms-1',
        rpData(0x21, Buffer.from('040BC87238880900F10000993092516195800AE8329BFD4697D9EC37', 'hex')),
      );
      const hello = await c.waitForSignal((s) => s.member === 'IncomingMessage', 5000, since);
      expect(hello.args).toEqual([
        'hellohello',
        {
          Sender: '27838890001',
          Name: '',
          SentTime: '1999-03-29T13:16:59+0000',
          LocalSentTime: '1999-03-29T13:16:59+0000',
        },
      ]);
      expect(await centre.answerTo('sms-1')).toBe('0221');
      // The centre sends it again, as it does when our RP-ACK is lost: acknowledged, not shown twice.
      centre.send(
        'sms-1-again',
        rpData(0x20, Buffer.from('040BC87238880900F10000993092516195800AE8329BFD4697D9EC37', 'hex')),
      );
      expect(await centre.answerTo('sms-1-again')).toBe('0220');
      expect(c.signals.slice(since).filter((s) => s.member === 'IncomingMessage')).toHaveLength(1);
      expect(
        centre.peer.received.some((r) => r.startLine === 'SIP/2.0 200 OK' && r.header('call-id') === 'sms-1'),
      ).toBe(true);

      // A text in two parts, the second first, each acknowledged; carphoned is killed between them, and
      // the part it acknowledged is not lost: one IncomingMessage, with the whole text.
      centre.send('sms-2b', rpData(0x23, ucs2Deliver('ruf mich an 📞', 0x08, [0x42, 2, 2])));
      expect(await centre.answerTo('sms-2b')).toBe('0223');
      c.disconnect();
      await ims.stop('SIGKILL');
      ims = await Carphoned.start(imsConfig, [], state);
      c = await ims.client();
      const parts = c.signals.length;
      // hellohello once more: the new run knows it too (sms-taken.json), so it is not shown again.
      centre.send(
        'sms-1-after-restart',
        rpData(0x26, Buffer.from('040BC87238880900F10000993092516195800AE8329BFD4697D9EC37', 'hex')),
      );
      expect(await centre.answerTo('sms-1-after-restart')).toBe('0226');
      centre.send('sms-2a', rpData(0x22, ucs2Deliver('Stau auf der A9, ', 0x08, [0x42, 2, 1])));
      expect(await centre.answerTo('sms-2a')).toBe('0222');
      const whole = await c.waitForSignal((s) => s.member === 'IncomingMessage', 5000, parts);
      expect(whole.args[0]).toBe('Stau auf der A9, ruf mich an 📞');
      expect(c.signals.slice(parts).filter((s) => s.member === 'IncomingMessage')).toHaveLength(1);

      // Class 0: shown at once, oFono's ImmediateMessage.
      const flash = c.signals.length;
      centre.send('sms-3', rpData(0x24, ucs2Deliver('Network maintenance tonight', 0x18)));
      const immediate = await c.waitForSignal((s) => s.member === 'ImmediateMessage', 5000, flash);
      expect(immediate.args[0]).toBe('Network maintenance tonight');

      // A TPDU that is not an SMS-DELIVER: RP-ERROR, cause 95 (semantically incorrect); nothing shown.
      const bad = c.signals.length;
      centre.send('sms-4', rpData(0x25, Buffer.from([0x01, 0x00])));
      expect(await centre.answerTo('sms-4')).toBe('0425015f');
      expect(c.signals.slice(bad).filter((s) => /Message$/.test(s.member))).toEqual([]);
      const logged = (await c.call('/history', HISTORY, 'GetRecent', 'u', [5])) as Props[];
      expect(logged.map((e) => e.Text)).toEqual([
        'Network maintenance tonight',
        'Stau auf der A9, ruf mich an 📞',
        'hellohello',
      ]);

      // A text to a number goes as SMS: UCS-2 (an emoji), 80 units, so in two parts, the second only
      // after the centre's RP-ACK for the first.
      const reply = `Bin gleich da ${'🚗'.repeat(33)}`;
      const path = String(await c.call('/ims', MM, 'SendMessage', 'ss', ['+4917012345678', reply]));
      const first = await waitFor('the first SMS-SUBMIT', () => centre.submits()[0], 5000);
      await new Promise((r) => setTimeout(r, 500));
      expect(centre.submits()).toHaveLength(1);
      // RP-DATA from the phone: RP-MTI 0, its reference, an empty originator, the centre +49170123456
      // (international), then the SMS-SUBMIT: with a header (0x51), to +4917012345678, UCS-2, 24 h.
      const rp = first.rp;
      expect(rp[0]).toBe(0x00);
      expect(rp.subarray(2, 11).toString('hex')).toBe('0007919471103254f6');
      expect(submitOf(rp)[0]).toBe(0x51);
      expect(submitOf(rp).subarray(2, 14).toString('hex')).toBe('0d91947110325476f80008a7');
      // The user data after the 6-octet concatenation header (reference, 2 parts, this one's number).
      const ud = (t: Buffer): Buffer => t.subarray(15 + 6);
      expect(submitOf(rp).subarray(15, 21).toString('hex')).toMatch(/^050003[0-9a-f]{2}0201$/);
      centre.rpAnswer(first.callId, [0x03, rp[1] ?? 0]);
      const second = await waitFor('the second SMS-SUBMIT', () => centre.submits()[1], 5000);
      expect((await c.properties(path, 'org.ofono.Message')).State).toBe('pending');
      // carphoned is killed before the centre answers the second part. The next run sends that part
      // again, the same SMS-SUBMIT with TP-RD set (the centre may have it), not the first; then sent.
      c.disconnect();
      await ims.stop('SIGKILL');
      ims = await Carphoned.start(imsConfig, [], state);
      c = await ims.client();
      const again = await waitFor('the second part sent again', () => centre.submits()[2], 5000);
      expect(submitOf(again.rp)[0]).toBe((submitOf(second.rp)[0] ?? 0) | 0x04);
      expect(submitOf(again.rp).subarray(1)).toEqual(submitOf(second.rp).subarray(1));
      centre.rpAnswer(again.callId, [0x03, again.rp[1] ?? 0]);
      await waitFor('the text logged as sent', async () => {
        const [newest] = (await c.call('/history', HISTORY, 'GetRecent', 'u', [1])) as Props[];
        return newest?.Text === reply && newest.State === 'sent';
      });
      expect(centre.submits()).toHaveLength(3);
      const joined = Buffer.concat([ud(submitOf(first.rp)), ud(submitOf(second.rp))])
        .swap16()
        .toString('utf16le');
      expect(joined).toBe(reply);

      // The centre refuses one (RP-ERROR, cause 21: transfer rejected): the text fails, with the cause.
      const refused = String(await c.call('/ims', MM, 'SendMessage', 'ss', ['+4917012345678', 'Hi']));
      const third = await waitFor('the third SMS-SUBMIT', () => centre.submits()[3], 5000);
      centre.rpAnswer(third.callId, [0x05, third.rp[1] ?? 0, 0x01, 21]);
      await c.waitForSignal(
        (s) => s.path === refused && s.args[0] === 'State' && s.args[1] === 'failed',
        5000,
      );
      expect(((await c.call('/history', HISTORY, 'GetRecent', 'u', [1])) as Props[])[0]).toMatchObject({
        Text: 'Hi',
        State: 'failed',
        FailureReason: 'RP-ERROR cause 21',
      });

      // A temporary failure (RP-ERROR, cause 41): the text stays pending and goes again a few seconds
      // later with the same TP-MR and TP-RD set (TS 23.040 §9.2.3.6); the centre takes it then.
      const retried = String(await c.call('/ims', MM, 'SendMessage', 'ss', ['+4917012345678', 'Gleich']));
      const fourth = await waitFor('the fourth SMS-SUBMIT', () => centre.submits()[4], 5000);
      centre.rpAnswer(fourth.callId, [0x05, fourth.rp[1] ?? 0, 0x01, 41]);
      const fifth = await waitFor('the SMS-SUBMIT sent again', () => centre.submits()[5], 15_000);
      expect(submitOf(fourth.rp)[0]).toBe(0x11);
      expect(submitOf(fifth.rp)[0]).toBe(0x11 | 0x04);
      expect(submitOf(fifth.rp).subarray(1)).toEqual(submitOf(fourth.rp).subarray(1));
      expect((await c.properties(retried, 'org.ofono.Message')).State).toBe('pending');
      centre.rpAnswer(fifth.callId, [0x03, fifth.rp[1] ?? 0]);
      await c.waitForSignal((s) => s.path === retried && s.args[0] === 'State' && s.args[1] === 'sent', 5000);
      expect(centre.submits()).toHaveLength(6);

      // Delivery reports on (oFono's UseDeliveryReports): the SMS-SUBMIT asks for one (TP-SRR), the
      // text is logged as awaiting it, and the centre's SMS-STATUS-REPORT (here after a kill of
      // carphoned) is acknowledged with RP-ACK and marks the logged text delivered.
      await c.setProperty('/ims', MM, 'UseDeliveryReports', 'b', true);
      const reported = String(await c.call('/ims', MM, 'SendMessage', 'ss', ['+4917012345678', 'Bin da']));
      const sixth = await waitFor('the SMS-SUBMIT asking for a report', () => centre.submits()[6], 5000);
      expect(submitOf(sixth.rp)[0]).toBe(0x11 | 0x20);
      centre.rpAnswer(sixth.callId, [0x03, sixth.rp[1] ?? 0]);
      await c.waitForSignal(
        (s) => s.path === reported && s.args[0] === 'State' && s.args[1] === 'sent',
        5000,
      );
      const newest = async (): Promise<Props | undefined> =>
        ((await c.call('/history', HISTORY, 'GetRecent', 'u', [1])) as Props[])[0];
      expect(await newest()).toMatchObject({ Text: 'Bin da', State: 'sent', Delivery: 'waiting' });
      c.disconnect();
      await ims.stop('SIGKILL');
      ims = await Carphoned.start(imsConfig, [], state);
      c = await ims.client();
      const beforeReport = c.signals.length;
      // SMS-STATUS-REPORT on the SMS-SUBMIT's TP-MR, status 0: received by the recipient.
      centre.send('sms-report', rpData(0x30, statusReport(submitOf(sixth.rp)[1] ?? 0, 0x00)));
      expect(await centre.answerTo('sms-report')).toBe('0230');
      const changed = await c.waitForSignal((s) => s.member === 'EntryChanged', 5000, beforeReport);
      expect(changed.args[0]).toMatchObject({ Text: 'Bin da', Delivery: 'delivered' });
      expect(await newest()).toMatchObject({ Text: 'Bin da', State: 'sent', Delivery: 'delivered' });
      const listed = await ctl(bus.address, 'messages', '1');
      expect(listed.stdout.trim()).toMatch(/ -> \+4917012345678 sent \(delivered\): Bin da$/);
      expect(c.signals.slice(beforeReport).filter((s) => /Message$/.test(s.member))).toEqual([]);
      expect((await c.properties('/ims', MM)).ServiceCenterAddress).toBe('+49170123456');
    } finally {
      centre.close();
      c.disconnect();
      await ims.stop();
    }
  });
});
