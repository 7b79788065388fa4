import { createSocket } from 'node:dgram';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { seeded } from '../../bench/jitter/traces.js';
import { listeningTcpPorts } from '../harness/process-table.js';
import { parseSip, sdpOffer, sipRequest } from '../harness/sip-fuzz.js';
import { Carphoned } from '../harness/carphoned.js';
import { failuresLogged } from '../harness/failure-logs.js';
import { PrivateBus } from '../harness/dbus-daemon.js';
import { Baresip } from '../harness/baresip.js';
import { analyseWav, medianWindowShare, windowedDominantFrequency, writeTone } from '../harness/audio.js';
import { Kamailio } from '../harness/kamailio.js';
import { Dnsmasq } from '../harness/dnsmasq.js';
import { selfSignedCertificate } from '../harness/tls-certificate.js';
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

async function start(acct: object, audio?: object): Promise<OfonoClient> {
  bus ??= await PrivateBus.start();
  daemon = await Carphoned.start({
    dbus: { bus: bus.address },
    log: { level: 'trace' },
    echoTest: { enabled: false },
    ...(audio ? { audio } : {}),
    accounts: [acct],
  });
  client = await daemon.client();
  return client;
}

async function registration(c: OfonoClient): Promise<Record<string, unknown>> {
  return c.properties('/sip0', 'org.carphone.SipAccount');
}

/**
 * DNS for registrar.carphone.test: two SRV targets on loopback, the preferred one (priority 10) at
 * `preferredPort`, kamailio (priority 20) at `backupPort`.
 */
function preferredAndBackup(
  transport: 'udp' | 'tcp',
  preferredPort: number,
  backupPort: number,
): Promise<Dnsmasq> {
  const service = `_sip._${transport}.registrar.carphone.test`;
  return Dnsmasq.start([
    { type: 'SRV', service, target: 'preferred.carphone.test', port: preferredPort, priority: 10 },
    { type: 'SRV', service, target: 'kam.carphone.test', port: backupPort, priority: 20 },
    { type: 'A', name: 'preferred.carphone.test', address: '127.0.0.1' },
    { type: 'A', name: 'kam.carphone.test', address: '127.0.0.1' },
  ]);
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

  it('registers over TLS, trusting the registrar by the CA file given, and takes an SRTP call down that connection', async () => {
    const certificate = selfSignedCertificate();
    kam = await Kamailio.start({
      users: [...users, { user: '2001', password: 'secret-2001' }],
      tls: certificate,
    });
    const proxyTlsPort = kam.port + 1;
    const dir = mkdtempSync(join(tmpdir(), 'carphone-tls-'));
    writeTone(join(dir, '440.wav'), 440, 10);
    writeTone(join(dir, '700.wav'), 700, 10);
    const recordings = join(dir, 'carphone');
    const c = await start(
      account(kam.tlsUri, { transport: 'tls', tlsCaFile: certificate.certFile, srtp: 'mandatory' }),
      { device: { type: 'file', play: join(dir, '700.wav'), record: recordings } },
    );
    await waitFor('registered', async () => (await registration(c)).Registration === 'registered');
    expect(kam.log()).toMatch(
      /REQ REGISTER sip:127\.0\.0\.1:\d+;transport=tls from 127\.0\.0\.1:\d+ proto=tls/,
    );
    // A call from a phone on UDP: kamailio has no connection of its own to carphone and cannot open
    // one (carphone offers no certificate), so the INVITE arriving means the registration's connection
    // carried it. Its SDES keys cross carphone's leg inside TLS only.
    const caller = await Baresip.start({
      user: '2001',
      password: 'secret-2001',
      registrarPort: kam.port,
      autoAnswer: false,
      sourceWav: join(dir, '440.wav'),
      mediaenc: 'srtp-mand',
    });
    try {
      await caller.command('dial', `sip:1000@127.0.0.1:${kam.port}`);
      await waitFor('the call rings on carphone', async () => (await c.calls('/sip0')).length === 1);
      const [[path, call] = ['', {}]] = await c.calls('/sip0');
      expect(call.State).toBe('incoming');
      // It came from kamailio's TLS port, i.e. down the connection carphone opened to register.
      const invite = (daemon?.log(20_000) ?? '')
        .split('\n')
        .find((line) => line.includes(`"remote":"127.0.0.1:${proxyTlsPort}","msg":"<<< INVITE`));
      expect(invite).toMatch(/m=audio \d+ RTP\/SAVP .*a=crypto:\d+ AES_CM_128_HMAC_SHA1_80 inline:/);
      expect(kam.log()).toMatch(/REQ INVITE sip:1000@127\.0\.0\.1:\d+ from 127\.0\.0\.1:\d+ proto=udp/);
      await c.answer(path);
      await c.waitForCallState(path, 'active', 10_000);
      await new Promise((r) => setTimeout(r, 2000));
      await c.hangup(path);
      await waitFor('the call ended', async () => (await c.calls('/sip0')).length === 0);
      // Audio both ways on SRTP (baresip takes nothing else): each side's tone in the other's recording.
      const recorded = (file: string | undefined): string | undefined =>
        file !== undefined && analyseWav(file).seconds > 1 ? file : undefined;
      const heardByCaller = await waitFor('baresip recording', () =>
        recorded(caller.receivedRecordings()[0]),
      );
      expect(analyseWav(heardByCaller).hz).toBe(700);
      expect(analyseWav(heardByCaller).share).toBeGreaterThan(0.9);
      const ours = await waitFor('carphone recording', () =>
        recorded(readdirSync(recordings).map((f) => join(recordings, f))[0]),
      );
      // Window by window: the recording starts with the ringtone carphone played while the call rang.
      expect(windowedDominantFrequency(ours)).toBe(440);
      expect(medianWindowShare(ours, 440)).toBeGreaterThan(0.9);
    } finally {
      await caller.stop();
    }
  });

  it('calls a sips: URI over TLS with a sips: Contact (RFC 3261 §8.1.1.8), and the call is answered', async () => {
    const certificate = selfSignedCertificate();
    kam = await Kamailio.start({
      users: [...users, { user: '2001', password: 'secret-2001' }],
      tls: certificate,
    });
    const dir = mkdtempSync(join(tmpdir(), 'carphone-sips-'));
    writeTone(join(dir, '440.wav'), 440, 10);
    const far = await Baresip.start({
      user: '2001',
      password: 'secret-2001',
      registrarPort: kam.port,
      autoAnswer: true,
      sourceWav: join(dir, '440.wav'),
    });
    try {
      const c = await start(account(kam.tlsUri, { transport: 'tls', tlsCaFile: certificate.certFile }));
      await waitFor('registered', async () => (await registration(c)).Registration === 'registered');
      const path = await c.dial('/sip0', 'sips:2001@127.0.0.1');
      await c.waitForCallState(path, 'active', 10_000);
      const invite = (daemon?.log(20_000) ?? '')
        .split('\n')
        .find((l) => l.includes('>>> INVITE sips:2001@127.0.0.1'));
      expect(invite).toMatch(/Contact:\s+<sips:1000@127\.0\.0\.1:\d+>/);
      expect(kam.log()).toMatch(/REQ INVITE sips:2001@127\.0\.0\.1 from 127\.0\.0\.1:\d+ proto=tls/);
      await c.hangup(path);
    } finally {
      await far.stop();
    }
  });

  it("answers a sips: INVITE that comes over TLS to its listener with a sips: Contact, offering the vehicle's certificate", async () => {
    const vehicle = selfSignedCertificate();
    const c = await start({
      id: 'sip0',
      user: '1000',
      domain: '127.0.0.1',
      transport: 'tls',
      tlsCertFile: vehicle.certFile,
      tlsKeyFile: vehicle.keyFile,
    });
    const sipPort = Number(String((await registration(c)).LocalAddress).split(':')[1]);
    // The sip package's TLS listener: the daemon's one TCP listening port beside the SIP port's.
    const tlsPorts = listeningTcpPorts(daemon?.child.proc.pid ?? 0).filter((p) => p !== sipPort);
    expect(tlsPorts).toHaveLength(1);
    const [tlsPort = 0] = tlsPorts;
    const socket = connectTls({ port: tlsPort, host: '127.0.0.1', ca: readFileSync(vehicle.certFile) });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    try {
      let received = '';
      socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
      const rand = seeded(21);
      const far = { port: socket.localPort ?? 0, target: { host: '127.0.0.1', port: tlsPort } };
      const since = c.signals.length;
      socket.write(
        sipRequest(far, rand, 'INVITE', { body: sdpOffer(40030, false) })
          .replace(/^INVITE sip:/, 'INVITE sips:')
          .replace('SIP/2.0/UDP', 'SIP/2.0/TLS')
          .replace(/^Contact: <sip:/m, 'Contact: <sips:'),
      );
      const added = await c.waitForSignal((sig) => sig.member === 'CallAdded', 10_000, since);
      await c.answer(String(added.args[0]));
      const ok = await waitFor('the 200 OK over TLS', () =>
        received
          .split(/(?=SIP\/2\.0 )/)
          .map(parseSip)
          .find((m) => m.startLine === 'SIP/2.0 200 OK'),
      );
      expect(ok.header('contact')).toMatch(/^<sips:1000@127\.0\.0\.1:\d+>$/);
      expect(failuresLogged(daemon!)).toEqual([]);
    } finally {
      socket.destroy();
    }
  });

  it('refuses a registrar whose TLS certificate it cannot trust, and says so', async () => {
    kam = await Kamailio.start({ users, tls: selfSignedCertificate() });
    // A CA file that is a certificate, but not the one that signed the registrar's.
    const c = await start(
      account(kam.tlsUri, { transport: 'tls', tlsCaFile: selfSignedCertificate().certFile }),
    );
    await waitFor('failure reported', async () => (await registration(c)).Registration === 'failed');
    expect((await registration(c)).RegistrationError).toMatch(/registrar unreachable \(503: .*certificate/);
    expect(kam.log()).not.toMatch(/REQ REGISTER/);
  });

  it("registers over mutual TLS with the vehicle's own certificate, which the registrar checks", async () => {
    const registrar = selfSignedCertificate();
    const vehicle = selfSignedCertificate('vin-wvwzzz1kz6w000001.carphone.test');
    kam = await Kamailio.start({ users, tls: { ...registrar, clientCaFile: vehicle.certFile } });
    const c = await start(
      account(kam.tlsUri, {
        transport: 'tls',
        tlsCaFile: registrar.certFile,
        tlsCertFile: vehicle.certFile,
        tlsKeyFile: vehicle.keyFile,
      }),
    );
    await waitFor('registered', async () => (await registration(c)).Registration === 'registered');
    expect(kam.log()).toMatch(/TLS client certificate CN=vin-wvwzzz1kz6w000001\.carphone\.test verified=1/);
    // Renewing: the files are read again when the line comes up. A key that is not the certificate's
    // keeps it down with an error naming the key; the right one brings it up registered again.
    const renewedKey = readFileSync(vehicle.keyFile);
    copyFileSync(selfSignedCertificate().keyFile, vehicle.keyFile);
    await c.setProperty('/sip0', 'org.ofono.Modem', 'Powered', 'b', false);
    await expect(c.setProperty('/sip0', 'org.ofono.Modem', 'Powered', 'b', true)).rejects.toMatchObject({
      type: 'org.ofono.Error.Failed',
      message: expect.stringMatching(
        /^tlsKeyFile is not the private key of the certificate in tlsCertFile/,
      ) as unknown,
    });
    writeFileSync(vehicle.keyFile, renewedKey);
    await c.setProperty('/sip0', 'org.ofono.Modem', 'Powered', 'b', true);
    await waitFor('registered again', async () => (await registration(c)).Registration === 'registered');
    expect(failuresLogged(daemon!)).toEqual([]);
  });

  it('fails to register, and says why, where the registrar asks for a certificate the account does not give', async () => {
    const registrar = selfSignedCertificate();
    kam = await Kamailio.start({
      users,
      tls: { ...registrar, clientCaFile: selfSignedCertificate().certFile },
    });
    const c = await start(account(kam.tlsUri, { transport: 'tls', tlsCaFile: registrar.certFile }));
    await waitFor('failure reported', async () => (await registration(c)).Registration === 'failed');
    expect((await registration(c)).RegistrationError).toBe(
      'registrar unreachable (503: tlsv13 alert certificate required)',
    );
    expect(kam.log()).not.toMatch(/REQ REGISTER/);
  });

  it("finds a registrar named by host name through the account's DNS servers: SRV, then its A record", async () => {
    kam = await Kamailio.start({ users });
    const dns = await Dnsmasq.start([
      {
        type: 'SRV',
        service: '_sip._udp.registrar.carphone.test',
        target: 'kam.carphone.test',
        port: kam.port,
      },
      { type: 'A', name: 'kam.carphone.test', address: '127.0.0.1' },
    ]);
    try {
      const c = await start(account('sip:registrar.carphone.test', { dnsServers: [dns.server] }));
      await waitFor('registered', async () => (await registration(c)).Registration === 'registered');
      expect(dns.queries()).toEqual(
        expect.arrayContaining(['_sip._udp.registrar.carphone.test', 'kam.carphone.test']),
      );
      expect(kam.log()).toMatch(/REQ REGISTER sip:registrar\.carphone\.test from 127\.0\.0\.1:\d+ proto=udp/);
    } finally {
      await dns.stop();
    }
  });

  it('tries the next SRV target when the preferred one refuses the connection (RFC 3263 §4.3)', async () => {
    kam = await Kamailio.start({ users });
    const closed = await freePort();
    const dns = await preferredAndBackup('tcp', closed, kam.port);
    try {
      const c = await start(
        account('sip:registrar.carphone.test', { transport: 'tcp', dnsServers: [dns.server] }),
      );
      await waitFor('registered', async () => (await registration(c)).Registration === 'registered');
      const log = daemon?.log(5000) ?? '';
      expect(log).toContain(`"failed":"127.0.0.1:${closed}"`);
      expect(log).toMatch(/trying the next target/);
      expect(kam.log()).toMatch(
        /REQ REGISTER sip:registrar\.carphone\.test;transport=tcp from 127\.0\.0\.1:\d+ proto=tcp/,
      );
    } finally {
      await dns.stop();
    }
  });

  it('tries the next SRV target when the preferred one never answers over UDP, once its transaction times out (RFC 3263 §4.3)', async () => {
    kam = await Kamailio.start({ users });
    // A UDP port that takes every datagram and answers none: a registrar whose host is up but whose SIP is not.
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    let swallowed = 0;
    silent.on('message', () => swallowed++);
    const dns = await preferredAndBackup('udp', silent.address().port, kam.port);
    try {
      const c = await start(account('sip:registrar.carphone.test', { dnsServers: [dns.server] }));
      // Within 45 s: the REGISTER's transaction to the silent target ends after 32 s, and the
      // authenticated REGISTER after kamailio's challenge goes straight to kamailio (to the silent
      // target first, it would wait another 32 s).
      await waitFor('registered', async () => (await registration(c)).Registration === 'registered', 45_000);
      // The REGISTER and its retransmissions (500 ms, doubling) went to the silent target first.
      expect(swallowed).toBeGreaterThanOrEqual(7);
      const log = daemon?.log(5000) ?? '';
      expect(log).toContain(`"failed":"127.0.0.1:${silent.address().port}","why":"no answer"`);
      expect(kam.log()).toMatch(/REQ REGISTER sip:registrar\.carphone\.test from 127\.0\.0\.1:\d+ proto=udp/);
    } finally {
      silent.close();
      await dns.stop();
    }
  }, 60_000);

  /** kamailio on TLS with a certificate for `certifiedName`, found as registrar.carphone.test by SRV. */
  async function tlsByName(certifiedName: string): Promise<{ c: OfonoClient; dns: Dnsmasq; caFile: string }> {
    const certificate = selfSignedCertificate(certifiedName);
    kam = await Kamailio.start({ users, tls: certificate });
    const dns = await Dnsmasq.start([
      {
        type: 'SRV',
        service: '_sips._tcp.registrar.carphone.test',
        target: 'kam.carphone.test',
        port: kam.port + 1,
      },
      { type: 'A', name: 'kam.carphone.test', address: '127.0.0.1' },
    ]);
    const c = await start(
      account('sip:registrar.carphone.test', {
        transport: 'tls',
        tlsCaFile: certificate.certFile,
        dnsServers: [dns.server],
      }),
    );
    return { c, dns, caFile: certificate.certFile };
  }

  /**
   * kamailio on TLS with a certificate for `certifiedNames`, as registrar.carphone.test and
   * proxy.carphone.test (both its address): the account registers at the one and calls through the
   * other, down the one connection the sip package keeps per address. Returns the call's fate.
   */
  async function callThroughSecondName(certifiedNames: string[]): Promise<{ invites: number; log: string }> {
    const certificate = selfSignedCertificate(certifiedNames);
    kam = await Kamailio.start({ users, tls: certificate });
    const dns = await Dnsmasq.start([
      { type: 'A', name: 'registrar.carphone.test', address: '127.0.0.1' },
      { type: 'A', name: 'proxy.carphone.test', address: '127.0.0.1' },
    ]);
    try {
      const c = await start(
        account(`sip:registrar.carphone.test:${kam.port + 1};transport=tls`, {
          outboundProxy: `sip:proxy.carphone.test:${kam.port + 1};transport=tls`,
          transport: 'tls',
          tlsCaFile: certificate.certFile,
          dnsServers: [dns.server],
        }),
      );
      await waitFor('registered', async () => (await registration(c)).Registration === 'registered');
      const since = c.signals.length;
      const path = await c.dial('/sip0', '2000');
      await c.waitForSignal((s) => s.member === 'CallRemoved' && s.args[0] === path, 10_000, since);
      return {
        invites: (kam.log().match(/REQ INVITE sip:2000@/g) ?? []).length,
        log: daemon?.log(3000) ?? '',
      };
    } finally {
      await dns.stop();
    }
  }

  it('calls through a proxy named on the certificate that the registrar at the same address presented', async () => {
    const { invites } = await callThroughSecondName(['registrar.carphone.test', 'proxy.carphone.test']);
    expect(invites).toBeGreaterThan(0);
  });

  it('sends no call down a TLS connection whose certificate names the registrar and not the proxy', async () => {
    const { invites, log } = await callThroughSecondName(['registrar.carphone.test']);
    expect(invites).toBe(0);
    expect(log).toMatch(/was checked for registrar\.carphone\.test, not proxy\.carphone\.test/);
  });

  it('over TLS to a registrar named by host name, takes a certificate for that name (RFC 5922), not for the address', async () => {
    const { c, dns } = await tlsByName('registrar.carphone.test');
    try {
      await waitFor('registered', async () => (await registration(c)).Registration === 'registered');
      expect(dns.queries()).toContain('_sips._tcp.registrar.carphone.test');
      expect(kam?.log()).toMatch(/REQ REGISTER sip:registrar\.carphone\.test;transport=tls .* proto=tls/);
    } finally {
      await dns.stop();
    }
  });

  it('over TLS, refuses a registrar whose certificate names another host, and says so', async () => {
    const { c, dns } = await tlsByName('elsewhere.carphone.test');
    try {
      await waitFor('failure reported', async () => (await registration(c)).Registration === 'failed');
      expect((await registration(c)).RegistrationError).toMatch(
        /registrar unreachable \(503: .*registrar\.carphone\.test.*elsewhere\.carphone\.test/,
      );
      expect(kam?.log()).not.toMatch(/REQ REGISTER/);
    } finally {
      await dns.stop();
    }
  });

  it('reports a registrar name that DNS does not know, and sends nothing', async () => {
    kam = await Kamailio.start({ users });
    const dns = await Dnsmasq.start([{ type: 'A', name: 'kam.carphone.test', address: '127.0.0.1' }]);
    try {
      const c = await start(account('sip:nowhere.carphone.test', { dnsServers: [dns.server] }));
      await waitFor('failure reported', async () => (await registration(c)).Registration === 'failed');
      expect((await registration(c)).RegistrationError).toMatch(
        /registrar unreachable \(503: DNS: nowhere\.carphone\.test: E[A-Z]+\)/,
      );
      expect(dns.queries()).toContain('nowhere.carphone.test');
      expect(kam.log()).not.toMatch(/REQ REGISTER/);
    } finally {
      await dns.stop();
    }
  });

  it('keeps retrying with backoff while the registrar is down, and registers once it is up', async () => {
    const port = await freePort();
    const c = await start(account(`sip:127.0.0.1:${port}`, { transport: 'tcp' }));
    await waitFor('failure reported', async () => (await registration(c)).Registration === 'failed');
    expect((await registration(c)).RegistrationError).toMatch(
      /registrar unreachable \(503: connect ECONNREFUSED/,
    );
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
