import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Carphoned, REPO } from '../harness/carphoned.js';
import { PrivateBus } from '../harness/dbus-daemon.js';
import { Child, waitFor } from '../harness/process.js';
import { ctl, run, type Run } from '../harness/carphonectl.js';

describe('carphonectl', () => {
  let bus: PrivateBus;
  let daemon: Carphoned;

  beforeAll(async () => {
    bus = await PrivateBus.start();
    daemon = await Carphoned.start({
      dbus: { bus: bus.address },
      accounts: [{ id: 'local', name: 'Local line', user: 'driver', domain: '127.0.0.1' }],
    });
  });

  afterAll(async () => {
    await daemon?.stop();
    await bus?.stop();
  });

  it('dials the echo line, lists it, prints events while monitoring, and hangs up', async () => {
    const monitor = new Child(
      'monitor',
      process.execPath,
      ['--import', 'tsx', join(REPO, 'service/bin/carphonectl.ts'), '--bus', bus.address, 'monitor'],
      { cwd: REPO },
    );
    await new Promise((r) => setTimeout(r, 1500));
    const status = await ctl(bus.address, 'status');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^\/local Local line on unregistered sip:driver@127\.0\.0\.1/m);

    const dial = await ctl(bus.address, 'dial', '*43');
    expect(dial).toMatchObject({ code: 0, stdout: '/local/voicecall01\n' });
    await waitFor(
      'call active',
      async () => /\/local\/voicecall01 active \*43 since /.test((await ctl(bus.address, 'calls')).stdout),
      10_000,
      200,
    );

    const hangup = await ctl(bus.address, 'hangup', '1');
    expect(hangup.code).toBe(0);
    await monitor.waitForLine(/\/local org\.ofono\.VoiceCallManager\.CallRemoved \["\/local\/voicecall01"\]/);
    await monitor.waitForLine(/\/local\/voicecall01 org\.ofono\.VoiceCall\.DisconnectReason \["local"\]/);
    await monitor.stop('SIGINT');
    expect((await ctl(bus.address, 'calls')).stdout).toBe('');
  });

  it('dials with --hide-caller-id: the INVITE on the wire is anonymous and asks for privacy', async () => {
    const far = createSocket('udp4');
    const invites: string[] = [];
    far.on('message', (m) => {
      if (m.toString('latin1').startsWith('INVITE ')) {
        invites.push(m.toString('latin1'));
      }
    });
    await new Promise<void>((resolve) => far.bind(0, '127.0.0.1', resolve));
    try {
      const dial = await ctl(
        bus.address,
        'dial',
        '--hide-caller-id',
        `sip:2001@127.0.0.1:${far.address().port}`,
      );
      expect(dial).toMatchObject({
        code: 0,
        stdout: expect.stringMatching(/^\/local\/voicecall\d+\n$/) as unknown,
      });
      const invite = await waitFor('the INVITE', () => invites[0]);
      expect(invite).toMatch(/^From: +"Anonymous" <sip:anonymous@anonymous\.invalid>;tag=/m);
      expect(invite).toMatch(/^Privacy: +header;id\r$/m);
      // The Contact stays routable; Privacy's "header" asks the network to obscure it.
      expect(invite.split('\r\n').filter((l) => l.includes('driver@'))).toEqual([
        expect.stringMatching(/^Contact: +<sip:driver@127\.0\.0\.1:\d+>$/),
      ]);
      expect((await ctl(bus.address, 'hangup')).code).toBe(0);
    } finally {
      far.close();
    }
  });

  it('joins two calls with join, splits one out with private, and hangs up the multiparty call', async () => {
    const calls = async (): Promise<string> => (await ctl(bus.address, 'calls')).stdout;
    const refused = await ctl(bus.address, 'join');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/org\.ofono\.Error\.Failed/);
    const first = (await ctl(bus.address, 'dial', '*43')).stdout.trim();
    await waitFor('first call active', async () => (await calls()).includes(`${first} active`), 10_000, 200);
    const second = (await ctl(bus.address, 'dial', '*43')).stdout.trim();
    await waitFor(
      'second call active',
      async () => (await calls()).includes(`${second} active`),
      10_000,
      200,
    );
    expect(await calls()).toContain(`${first} held`);

    expect(await ctl(bus.address, 'join')).toMatchObject({ code: 0, stdout: `${first}\n${second}\n` });
    await waitFor(
      'both active and joined',
      async () => (await calls()).split('\n').filter((l) => / active .* MULTIPARTY$/.test(l)).length === 2,
      10_000,
      200,
    );
    const number = first.replace(/.*voicecall0*/, '');
    expect(await ctl(bus.address, 'private', number)).toMatchObject({ code: 0, stdout: '' });
    await waitFor('second held', async () => (await calls()).includes(`${second} held`), 10_000, 200);
    expect(await calls()).not.toMatch(/MULTIPARTY/);

    // The echo line takes no REFER: a transfer between two of its calls is refused, and says why.
    const transfer = await ctl(bus.address, 'transfer');
    expect(transfer.code).toBe(1);
    expect(transfer.stderr).toMatch(/org\.ofono\.Error\.Failed: the held party refused the transfer \(403\)/);
    expect((await ctl(bus.address, 'join')).code).toBe(0);
    expect((await ctl(bus.address, 'hangup', '--multiparty')).code).toBe(0);
    await waitFor('no calls', async () => (await calls()) === '', 10_000, 200);
  });

  it('exits 1 with the D-Bus error name when the service refuses', async () => {
    const r = await ctl(bus.address, 'dial', 'not a number');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/org\.ofono\.Error\.InvalidFormat/);
  });

  it('exits 4 when there is nothing to act on', async () => {
    expect((await ctl(bus.address, 'hangup', '7')).code).toBe(4);
    expect((await ctl(bus.address, 'answer')).code).toBe(4);
  });

  it('exits 3 when carphoned is not on the bus, and 2 on a usage error', async () => {
    const other = await PrivateBus.start();
    try {
      const r = await ctl(other.address, 'status');
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/org\.carphone is not running/);
    } finally {
      await other.stop();
    }
    expect((await ctl(bus.address, 'frobnicate')).code).toBe(2);
  });
});

describe('a python3-dbus client written for oFono', () => {
  let bus: PrivateBus;
  let daemon: Carphoned;
  const py = (...args: string[]): Promise<Run> =>
    run('/usr/bin/python3', [join(REPO, 'test/clients/ofono_client.py'), ...args], {
      DBUS_SYSTEM_BUS_ADDRESS: bus.address,
    });

  beforeAll(async () => {
    bus = await PrivateBus.start();
    daemon = await Carphoned.start(
      { dbus: { bus: bus.address }, accounts: [{ id: 'sip0', user: 'driver', domain: '127.0.0.1' }] },
      ['--bus-name', 'org.ofono'],
    );
  });

  afterAll(async () => {
    await daemon?.stop();
    await bus?.stop();
  });

  it('lists modems with every interface they announce', async () => {
    const r = await py('list-modems');
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^\[ \/sip0 \]$/m);
    expect(r.stdout).toMatch(
      /Interfaces = org\.ofono\.VoiceCallManager org\.ofono\.CallVolume org\.ofono\.CallSettings org\.ofono\.CallForwarding org\.ofono\.MessageWaiting org\.ofono\.MessageManager org\.ofono\.NetworkRegistration org\.carphone\.SipAccount/,
    );
    expect(r.stdout).toMatch(/\[VoiceCallManager\] EmergencyNumbers = 112 911/);
    expect(r.stdout).toMatch(/\[SipAccount\] Aor = sip:driver@127\.0\.0\.1/);
    expect(r.stdout).toMatch(/\[MessageWaiting\] VoicemailWaiting = 0/);
    expect(r.stdout).toMatch(/\[CallSettings\] HideCallerId = default/);
    expect(r.stdout).toMatch(/\[CallForwarding\] VoiceNoReplyTimeout = 20/);
  });

  it('dials, lists the call, and hangs up', async () => {
    const dial = await py('dial', '*43');
    expect(dial).toMatchObject({ code: 0, stdout: '/sip0/voicecall01\n' });
    await waitFor(
      'call active',
      async () => /State = active/.test((await py('list-calls')).stdout),
      10_000,
      200,
    );
    const calls = await py('list-calls');
    expect(calls.stdout).toMatch(/LineIdentification = \*43/);
    expect((await py('hangup-all')).code).toBe(0);
    await waitFor('no calls', async () => (await py('list-calls')).stdout === '', 10_000, 200);
  });

  it('joins two calls into a multiparty call, chats privately with one, and hangs the multiparty call up', async () => {
    const state = async (): Promise<string> =>
      (await py('list-calls')).stdout
        .split(/^\[ /m)
        .filter((c) => c)
        .map((c) => `${c.split(' ')[0]}:${/State = (\w+)/.exec(c)?.[1]}:${/Multiparty = (\d)/.exec(c)?.[1]}`)
        .join(' ');
    await py('dial', '*43');
    await waitFor('first active', async () => (await state()).includes(':active:'), 10_000, 200);
    await py('dial', '*43');
    await waitFor(
      'one active, one held',
      async () => (await state()) === '/sip0/voicecall02:held:0 /sip0/voicecall03:active:0',
      10_000,
      200,
    );
    expect(await py('create-multiparty')).toMatchObject({
      code: 0,
      stdout: '/sip0/voicecall02\n/sip0/voicecall03\n',
    });
    await waitFor(
      'both active in the multiparty call',
      async () => (await state()) === '/sip0/voicecall02:active:1 /sip0/voicecall03:active:1',
      10_000,
      200,
    );
    expect(await py('private-chat', '/sip0/voicecall03')).toMatchObject({ code: 0, stdout: '' });
    await waitFor(
      'a private chat with the second call',
      async () => (await state()) === '/sip0/voicecall02:held:0 /sip0/voicecall03:active:0',
      10_000,
      200,
    );
    expect((await py('create-multiparty')).code).toBe(0);
    expect((await py('hangup-multiparty')).code).toBe(0);
    await waitFor('no calls', async () => (await state()) === '', 10_000, 200);
  });

  it('sees oFono error names', async () => {
    const r = await py('dial', '+49 30 1234');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^org\.ofono\.Error\.InvalidFormat: /);
  });
});
