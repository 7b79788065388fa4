import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import type { OfonoClient } from '../../service/client/ofono-client.js';
import { Carphoned } from '../harness/carphoned.js';
import { ctl } from '../harness/carphonectl.js';
import { PrivateBus } from '../harness/dbus-daemon.js';
import { waitFor } from '../harness/process.js';
import { Sipp } from '../harness/sipp.js';
import { sendSummaryNotify } from '../harness/summary-notify.js';

const MW = 'org.ofono.MessageWaiting';

let bus: PrivateBus;
let daemon: Carphoned | undefined;
let client: OfonoClient | undefined;

beforeAll(async () => {
  bus = await PrivateBus.start();
});

afterEach(async () => {
  client?.disconnect();
  await daemon?.stop();
  client = daemon = undefined;
});

afterAll(async () => {
  await bus?.stop();
});

async function line(voicemail: object, account: object = {}): Promise<OfonoClient> {
  daemon = await Carphoned.start({
    dbus: { bus: bus.address },
    echoTest: { enabled: false },
    accounts: [{ id: 'sip0', user: '1000', domain: '127.0.0.1', voicemail, ...account }],
  });
  client = await daemon.client();
  return client;
}

/** The values `name` took in PropertyChanged signals since `since`. */
function changes(c: OfonoClient, name: string, since = 0): unknown[] {
  return c.signals
    .slice(since)
    .filter((s) => s.member === 'PropertyChanged' && s.args[0] === name)
    .map((s) => s.args[1]);
}

describe('voicemail indication (RFC 3842) as oFono MessageWaiting', () => {
  it('subscribes to message-summary, shows the new messages and their going, and un-subscribes as the line goes down', async () => {
    const sipp = await Sipp.start('voicemail-server-uas.xml');
    const c = await line({
      number: '*86',
      subscribe: true,
      server: `sip:voicemail@127.0.0.1:${sipp.port}`,
      expiresSeconds: 60,
    });
    // Read, not waited for as signals: the first NOTIFY may come before this client is on the bus.
    const mailbox = (): Promise<Record<string, unknown>> => c.properties('/sip0', MW);
    await waitFor('3 new messages', async () => (await mailbox()).VoicemailMessageCount === 3, 10_000);
    expect((await mailbox()).VoicemailWaiting).toBe(true);
    const since = c.signals.length;
    await waitFor('none new', async () => (await mailbox()).VoicemailWaiting === false, 10_000);
    expect(changes(c, 'VoicemailWaiting', since)).toEqual([false]);
    expect(changes(c, 'VoicemailMessageCount', since)).toEqual([0]);
    expect(await mailbox()).toEqual({
      VoicemailWaiting: false,
      VoicemailMessageCount: 0,
      VoicemailMailboxNumber: '*86',
    });
    expect((await c.properties('/sip0', 'org.carphone.SipAccount')).VoicemailSubscription).toBe('subscribed');
    expect((await c.properties('/sip0', 'org.ofono.Modem')).Interfaces).toContain(MW);
    await c.setProperty('/sip0', 'org.ofono.Modem', 'Powered', 'b', false);
    expect(await sipp.exitCode()).toBe(0);
  });

  it.each([
    ['answers the challenge with the password', 'secret-1000', 'subscribed', 2],
    ['is refused with a wrong password, and says so', 'not-the-password', 'refused', 0],
  ] as const)(
    'when the voicemail server challenges the SUBSCRIBE, %s',
    async (_, password, subscription, count) => {
      const sipp = await Sipp.start('voicemail-server-auth-uas.xml', [], { password: 'secret-1000' });
      const c = await line(
        { subscribe: true, server: `sip:voicemail@127.0.0.1:${sipp.port}`, expiresSeconds: 60 },
        { password },
      );
      const account = (): Promise<Record<string, unknown>> =>
        c.properties('/sip0', 'org.carphone.SipAccount');
      await waitFor(
        subscription,
        async () => (await account()).VoicemailSubscription === subscription,
        10_000,
      );
      if (count > 0) {
        await waitFor('2 new', async () => (await c.properties('/sip0', MW)).VoicemailMessageCount === count);
        await c.setProperty('/sip0', 'org.ofono.Modem', 'Powered', 'b', false);
        expect(await sipp.exitCode()).toBe(0);
      } else {
        expect((await c.properties('/sip0', MW)).VoicemailWaiting).toBe(false);
      }
    },
  );

  it('takes unsolicited NOTIFYs without a subscription, and answers ones it cannot read with a SIP error', async () => {
    const c = await line({ number: '*86' });
    const sip = String((await c.properties('/sip0', 'org.carphone.SipAccount')).LocalAddress);
    const yes = 'Messages-Waiting: yes\r\nVoice-Message: 300/2\r\n';
    expect(await sendSummaryNotify(sip, yes)).toBe('SIP/2.0 200 OK');
    await waitFor('255 or more', () => changes(c, 'VoicemailMessageCount').includes(255), 5000);
    expect((await c.properties('/sip0', MW)).VoicemailWaiting).toBe(true);
    expect((await ctl(bus.address, 'status')).stdout).toContain('voicemail waiting: 255 new (dial *86)');
    expect(await sendSummaryNotify(sip, 'Messages-Waiting: perhaps\r\n')).toMatch(/^SIP\/2\.0 400 /);
    expect(await sendSummaryNotify(sip, yes, { type: 'text/plain' })).toMatch(/^SIP\/2\.0 415 /);
    // In a dialog the line never made.
    expect(await sendSummaryNotify(sip, yes, { toTag: 'nope' })).toMatch(/^SIP\/2\.0 481 /);
    expect((await c.properties('/sip0', MW)).VoicemailMessageCount).toBe(255);
    expect((await c.properties('/sip0', 'org.carphone.SipAccount')).VoicemailSubscription).toBe('off');
  });

  it('takes a voicemail number the driver can dial, and refuses others with oFono errors', async () => {
    const c = await line({ number: '' });
    await c.setProperty('/sip0', MW, 'VoicemailMailboxNumber', 's', '+491712345678');
    expect((await c.properties('/sip0', MW)).VoicemailMailboxNumber).toBe('+491712345678');
    expect(changes(c, 'VoicemailMailboxNumber')).toEqual(['+491712345678']);
    await expect(
      c.setProperty('/sip0', MW, 'VoicemailMailboxNumber', 's', 'sip:vm@example.com'),
    ).rejects.toMatchObject({ type: 'org.ofono.Error.InvalidFormat' });
    await expect(c.setProperty('/sip0', MW, 'VoicemailMailboxNumber', 'u', 86)).rejects.toMatchObject({
      type: 'org.ofono.Error.InvalidArguments',
    });
    await expect(c.setProperty('/sip0', MW, 'VoicemailWaiting', 'b', false)).rejects.toMatchObject({
      type: 'org.ofono.Error.InvalidArguments',
    });
  });
});
