import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Carphoned } from '../harness/carphoned.js';
import { PrivateBus } from '../harness/dbus-daemon.js';
import { Kamailio } from '../harness/kamailio.js';
import { freePort } from '../harness/ports.js';
import { waitFor } from '../harness/process.js';
import type { OfonoClient } from '../../service/client/ofono-client.js';

const users = [{ user: '1000', password: 'secret-1000' }];
const account = (registrar: string, extra: object = {}): object => ({
  id: 'sip0',
  user: '1000',
  password: 'secret-1000',
  domain: '127.0.0.1',
  registrar,
  ...extra,
});

let bus: PrivateBus;
let kam: Kamailio | undefined;
let daemon: Carphoned | undefined;
let client: OfonoClient | undefined;

async function start(acct: object): Promise<OfonoClient> {
  bus ??= await PrivateBus.start();
  daemon = await Carphoned.start({
    dbus: { bus: bus.address },
    log: { level: 'trace' },
    echoTest: { enabled: false },
    accounts: [acct],
  });
  client = await daemon.client();
  return client;
}

async function registration(c: OfonoClient): Promise<Record<string, unknown>> {
  return c.properties('/sip0', 'org.carphone.SipAccount');
}

afterEach(async () => {
  client?.disconnect();
  await daemon?.stop();
  await kam?.stop();
  client = undefined;
  daemon = undefined;
  kam = undefined;
});

afterAll(async () => {
  await bus?.stop();
});

describe('registration against kamailio', () => {
  it('answers a SHA-256 digest challenge (RFC 8760)', async () => {
    kam = await Kamailio.start({ users, algorithm: 'SHA-256' });
    const c = await start(account(kam.uri));
    await waitFor('registered', async () => (await registration(c)).Registration === 'registered');
    const log = daemon?.log(5000) ?? '';
    expect(log).toMatch(/WWW-Authenticate: Digest [^\n]*algorithm=SHA-256/);
    expect(log).toMatch(/Authorization: Digest [^\n]*algorithm=SHA-256/);
    expect(log).not.toMatch(/Authorization: Digest [^\n]*algorithm=MD5/);
  });

  it('registers over TCP', async () => {
    kam = await Kamailio.start({ users });
    const c = await start(account(kam.uri, { transport: 'tcp' }));
    await waitFor('registered', async () => (await registration(c)).Registration === 'registered');
    expect(kam.log()).toMatch(
      /REQ REGISTER sip:127\.0\.0\.1:\d+;transport=tcp from 127\.0\.0\.1:\d+ proto=tcp/,
    );
  });

  it('keeps retrying with backoff while the registrar is down, and registers once it is up', async () => {
    const port = await freePort();
    const c = await start(account(`sip:127.0.0.1:${port}`, { transport: 'tcp' }));
    await waitFor('failure reported', async () => (await registration(c)).Registration === 'failed');
    expect((await registration(c)).RegistrationError).toMatch(/registrar unreachable \(503\)/);
    expect((await c.properties('/sip0', 'org.ofono.NetworkRegistration')).Status).toBe('unknown');
    kam = await Kamailio.start({ users, port });
    await waitFor(
      'registered after the registrar came up',
      async () => (await registration(c)).Registration === 'registered',
      20_000,
      200,
    );
  });

  it('un-registers (Expires: 0) when carphoned shuts down', async () => {
    kam = await Kamailio.start({ users });
    const c = await start(account(kam.uri));
    await waitFor('registered', async () => (await registration(c)).Registration === 'registered');
    const local = String((await registration(c)).LocalAddress);
    c.disconnect();
    client = undefined;
    expect(await daemon?.stop()).toBe(0);
    daemon = undefined;
    await waitFor(
      'un-REGISTER at kamailio',
      () => new RegExp(`REQ REGISTER .* from ${local} proto=udp expires=0`).test(kam?.log() ?? ''),
      5000,
    );
  });
});
