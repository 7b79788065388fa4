import { selfSignedCertificate } from '../../harness/tls-certificate.js';
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  embeddedDefaults,
  loadConfigFile,
  parseConfig,
  parseConfigText,
} from '../../../service/config/load.js';
import { ConfigError } from '../../../service/core/errors.js';

function problem(text: string): { key: string; problem: string } {
  try {
    parseConfigText(text);
  } catch (e) {
    if (e instanceof ConfigError) {
      return { key: e.key, problem: e.problem };
    }
    throw e;
  }
  throw new Error('config was accepted');
}

describe('configuration', () => {
  it('embedded defaults give one local line, the *43 echo test and the null audio device', () => {
    const c = parseConfig(embeddedDefaults);
    expect(c.accounts).toHaveLength(1);
    expect(c.echoTest).toEqual({ enabled: true, number: '*43', address: '127.0.0.2' });
    expect(c.audio.device).toEqual({ type: 'null' });
    expect(c.dbus).toEqual({ bus: 'auto', name: 'org.carphone' });
  });

  it('the documented example config is valid and uses every top-level key', () => {
    const c = loadConfigFile(join(import.meta.dirname, '../../../config/carphoned.example.yaml'));
    expect(Object.keys(c).sort()).toEqual([
      'accounts',
      'audio',
      'contacts',
      'dbus',
      'ecall',
      'echoTest',
      'gnss',
      'history',
      'log',
      'messages',
      'vehicle',
    ]);
    expect(readFileSync(join(import.meta.dirname, '../../../config/carphoned.example.yaml'), 'utf8')).toMatch(
      /outboundProxy/,
    );
  });

  it("refuses a negative or fractional keep-alive interval, naming the account's key", () => {
    for (const value of ['-1', '2.5', '"often"']) {
      const keepAlive = problem(
        `accounts:\n  - id: sip0\n    user: alice\n    domain: example.com\n    keepAliveSeconds: ${value}\n`,
      );
      expect(keepAlive.key).toBe('accounts[0].keepAliveSeconds');
    }
  });

  it("takes the carmaker's quick replies per language, and names the key of a wrong one", () => {
    expect(parseConfig(embeddedDefaults).messages.quickReplies.en).toContain('On my way.');
    expect(parseConfigText('messages:\n  quickReplies:\n    fr: [" Je conduis. "]\n').messages).toEqual({
      quickReplies: { fr: ['Je conduis.'] },
    });
    expect(parseConfigText('messages:\n  quickReplies: {}\n').messages.quickReplies).toEqual({});
    expect(problem('messages:\n  quickReplies:\n    english: [Hi]\n')).toEqual({
      key: 'messages.quickReplies.english',
      problem: 'must be a language code of two small letters (ISO 639-1), e.g. en',
    });
    expect(problem('messages:\n  quickReplies:\n    en: []\n').key).toBe('messages.quickReplies.en');
    expect(problem('messages:\n  quickReplies:\n    en: [a, b, c, d, e]\n').problem).toMatch(/at most 4/);
    expect(problem('messages:\n  quickReplies:\n    en: ["  "]\n')).toEqual({
      key: 'messages.quickReplies.en[0]',
      problem: 'must not be empty',
    });
    expect(problem('messages:\n  quickReplies:\n    en: ["Hi\\nthere"]\n').key).toBe(
      'messages.quickReplies.en[0]',
    );
    expect(problem(`messages:\n  quickReplies:\n    en: ["${'x'.repeat(161)}"]\n`).problem).toMatch(/160/);
  });

  it('names the key and the problem', () => {
    const registrar = problem(
      'accounts:\n  - id: sip0\n    user: alice\n    domain: example.com\n    registrar: example.com\n',
    );
    expect(registrar.key).toBe('accounts[0].registrar');
    expect(registrar.problem).toMatch(/must be a SIP URI/);
    expect(
      problem('accounts:\n  - id: sip0\n    user: alice\n    domain: d\n    transport: sctp\n').key,
    ).toBe('accounts[0].transport');
    expect(
      problem('accounts:\n  - id: sip0\n    user: alice\n    domain: d\n    expires: 5\n'),
    ).toMatchObject({ key: 'accounts[0].expires' });
    expect(problem('contacts:\n  country: Germany\n')).toEqual({
      key: 'contacts.country',
      problem: 'must be an ISO 3166 alpha-2 country code, e.g. DE',
    });
    const dnsServer = problem(
      "accounts:\n  - id: sip0\n    user: alice\n    domain: d\n    dnsServers: ['10.0.0.53', 'dns.example']\n",
    );
    expect(dnsServer.key).toBe('accounts[0].dnsServers[1]');
    expect(dnsServer.problem).toMatch(/IPv4 address/);
    expect(
      problem(
        "accounts:\n  - id: sip0\n    user: alice\n    domain: d\n    dnsServers: ['10.0.0.53:70000']\n",
      ).key,
    ).toBe('accounts[0].dnsServers[0]');
    expect(
      problem("accounts:\n  - id: sip0\n    user: alice\n    domain: d\n    dnsServers: ['10.0.0.256']\n")
        .key,
    ).toBe('accounts[0].dnsServers[0]');
    expect(
      problem(
        'accounts:\n  - id: sip0\n    user: alice\n    domain: d\n    listen: { address: 10.0.300.1 }\n',
      ).key,
    ).toBe('accounts[0].listen.address');
    const timer = problem(
      'accounts:\n  - id: sip0\n    user: alice\n    domain: d\n    sessionTimer: { expiresSeconds: 60 }\n',
    );
    expect(timer.key).toBe('accounts[0].sessionTimer');
    expect(timer.problem).toMatch(/minSeconds must not be more than expiresSeconds/);
    expect(
      problem(
        'accounts:\n  - id: sip0\n    user: alice\n    domain: d\n    sessionTimer: { minSeconds: 0 }\n',
      ).key,
    ).toBe('accounts[0].sessionTimer.minSeconds');
    expect(problem('dbus:\n  bus: nowhere\n').key).toBe('dbus.bus');
    expect(problem('log:\n  level: loud\n').key).toBe('log.level');
  });

  it('names tlsCaFile when it cannot be read or holds no certificate, and takes one that does', () => {
    const account = (caFile: string): string =>
      `accounts:\n  - id: sip0\n    user: alice\n    domain: d\n    transport: tls\n    tlsCaFile: ${caFile}\n`;
    expect(problem(account('/nonexistent/ca.pem'))).toEqual({
      key: 'accounts[0].tlsCaFile',
      problem: 'must be a readable PEM file of CA certificates',
    });
    const notPem = join(mkdtempSync(join(tmpdir(), 'carphone-config-')), 'ca.pem');
    writeFileSync(notPem, 'not a certificate\n');
    expect(problem(account(notPem)).key).toBe('accounts[0].tlsCaFile');
    const pem = join(mkdtempSync(join(tmpdir(), 'carphone-config-')), 'ca.pem');
    writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    expect(parseConfigText(account(pem)).accounts[0]?.tlsCaFile).toBe(pem);
  });

  it("takes the vehicle's TLS certificate and key together, and names the key that is not the certificate's", () => {
    const vehicle = selfSignedCertificate('vin-1.carphone.test');
    const other = selfSignedCertificate();
    const account = (transport: string, files: string): string =>
      `accounts:\n  - id: sip0\n    user: alice\n    domain: d\n    transport: ${transport}\n${files}`;
    const both = (cert: string, key: string): string => `    tlsCertFile: ${cert}\n    tlsKeyFile: ${key}\n`;
    const taken = parseConfigText(account('tls', both(vehicle.certFile, vehicle.keyFile))).accounts[0];
    expect([taken?.tlsCertFile, taken?.tlsKeyFile]).toEqual([vehicle.certFile, vehicle.keyFile]);
    const mismatch = problem(account('tls', both(vehicle.certFile, other.keyFile)));
    expect(mismatch.key).toBe('accounts[0].tlsKeyFile');
    expect(mismatch.problem).toMatch(/^is not the private key of the certificate in tlsCertFile \(.+\)$/);
    expect(problem(account('tls', `    tlsKeyFile: ${vehicle.keyFile}\n`))).toEqual({
      key: 'accounts[0].tlsCertFile',
      problem: 'is needed with tlsKeyFile',
    });
    expect(problem(account('tls', `    tlsCertFile: ${vehicle.certFile}\n`)).key).toBe(
      'accounts[0].tlsKeyFile',
    );
    expect(problem(account('tcp', both(vehicle.certFile, vehicle.keyFile)))).toEqual({
      key: 'accounts[0].tlsCertFile',
      problem: 'needs transport: tls',
    });
    // A key given where the certificate goes, and the other way round.
    expect(problem(account('tls', both(vehicle.keyFile, vehicle.keyFile))).key).toBe(
      'accounts[0].tlsCertFile',
    );
    expect(problem(account('tls', both(vehicle.certFile, vehicle.certFile)))).toEqual({
      key: 'accounts[0].tlsKeyFile',
      problem: 'must be a readable PEM file of an unencrypted private key',
    });
  });

  it('binds a line to an address or to a network interface, not both, and names a bad interface', () => {
    const account = (listen: string): string =>
      `accounts:\n  - id: sip0\n    user: alice\n    domain: d\n    listen: ${listen}\n`;
    expect(parseConfigText(account('{ interface: wwan0 }')).accounts[0]?.listen).toEqual({
      interface: ['wwan0'],
      family: 'ipv4',
      port: 0,
    });
    // Several, in order of preference.
    expect(parseConfigText(account('{ interface: [wlan0, wwan0] }')).accounts[0]?.listen.interface).toEqual([
      'wlan0',
      'wwan0',
    ]);
    expect(problem(account('{ interface: [] }'))).toMatchObject({ key: 'accounts[0].listen.interface' });
    expect(problem(account("{ interface: [wlan0, 'wwan0; rm -rf'] }"))).toMatchObject({
      key: expect.stringMatching(/^accounts\[0\]\.listen\.interface/) as unknown,
      problem: expect.stringMatching(/network interface name/) as unknown,
    });
    expect(parseConfigText(account('{ interface: wwan0, family: ipv6 }')).accounts[0]?.listen.family).toBe(
      'ipv6',
    );
    expect(problem(account('{ address: 10.0.0.2, family: ipv6 }'))).toEqual({
      key: 'accounts[0].listen.family',
      problem: 'family applies to an interface; an address names its own family',
    });
    expect(problem(account('{ address: 10.0.0.2, interface: wwan0 }'))).toEqual({
      key: 'accounts[0].listen',
      problem: 'give address or interface, not both',
    });
    expect(problem(account("{ interface: 'wwan0; rm -rf' }"))).toMatchObject({
      key: 'accounts[0].listen.interface',
      problem: expect.stringMatching(/network interface name/) as unknown,
    });
  });

  it('binds a line to IPv6 as to IPv4, brackets an IPv6 domain, and keeps mediaAddress to the family bound', () => {
    const account = (extra: string): string =>
      `accounts:\n  - id: sip0\n    user: alice\n    domain: '2001:db8::1'\n${extra}`;
    const ipv6 = parseConfigText(
      account("    listen: { address: '::1' }\n    mediaAddress: '2001:db8::7'\n"),
    );
    expect(ipv6.accounts[0]).toMatchObject({
      domain: '[2001:db8::1]',
      listen: { address: '::1' },
      mediaAddress: '2001:db8::7',
    });
    expect(parseConfigText(account('').replace("'2001:db8::1'", "'[::1]'")).accounts[0]?.domain).toBe(
      '[::1]',
    );
    expect(problem(account("    listen: { address: '::1' }\n    mediaAddress: 192.0.2.7\n"))).toEqual({
      key: 'accounts[0].mediaAddress',
      problem: "must be an IPv6 address like the line's",
    });
    expect(problem(account("    mediaAddress: '2001:db8::7'\n"))).toEqual({
      key: 'accounts[0].mediaAddress',
      problem: "must be an IPv4 address like the line's",
    });
    expect(
      problem(account('    listen: { interface: wwan0, family: ipv6 }\n    mediaAddress: 192.0.2.7\n'))
        .problem,
    ).toBe("must be an IPv6 address like the line's");
    expect(problem(account("    listen: { address: '::1::2' }\n"))).toMatchObject({
      key: 'accounts[0].listen.address',
      problem: expect.stringMatching(/IPv4 or IPv6 address literal/) as unknown,
    });
  });

  it('takes requests only from a proxy where the account has one to take them from', () => {
    const account = (extra: string): string =>
      `accounts:\n  - id: sip0\n    user: alice\n    domain: d\n    acceptRequestsFrom: proxy\n${extra}`;
    expect(problem(account(''))).toEqual({
      key: 'accounts[0].acceptRequestsFrom',
      problem: 'proxy needs a registrar or outboundProxy to take requests from',
    });
    expect(
      parseConfigText(account("    outboundProxy: 'sip:192.0.2.1'\n")).accounts[0]?.acceptRequestsFrom,
    ).toBe('proxy');
    expect(problem(account('').replace('proxy', 'friends')).key).toBe('accounts[0].acceptRequestsFrom');
  });

  it('checks what one section says about another: the eCall line, and bindings without a CAN source', () => {
    const line = 'accounts: [{ id: sip0, user: u, domain: d }]\n';
    const ecall = "ecall: { psap: 'sip:psap.example', vin: WVWZZZ1KZAW123456";
    expect(problem(`${line}${ecall}, account: nope }\n`)).toEqual({
      key: 'ecall.account',
      problem: 'no account with id nope',
    });
    expect(problem(`${ecall} }\n`)).toEqual({ key: 'ecall', problem: 'eCall needs at least one account' });
    expect(problem(`${line}vehicle: { dbc: car.dbc }\n`).key).toBe('vehicle.can');
  });

  it('reports an unknown key, so a typo does not pass silently', () => {
    expect(problem('accounts:\n  - id: sip0\n    user: alice\n    domain: d\n    pasword: x\n')).toEqual({
      key: 'accounts[0].pasword',
      problem: 'unknown key',
    });
  });

  it('rejects duplicate account ids and non-path-segment ids', () => {
    const acct = (id: string): string => `  - id: ${id}\n    user: u\n    domain: d\n`;
    expect(problem(`accounts:\n${acct('a')}${acct('a')}`)).toMatchObject({
      key: 'accounts',
      problem: 'account ids must be unique',
    });
    expect(problem(`accounts:\n${acct('a/b')}`).key).toBe('accounts[0].id');
  });

  it('refuses a stray YAML tag, naming its line, instead of reading the value as text', () => {
    expect(() => parseConfigText('log:\n  level: !debug info\n')).toThrow(
      /config error at \(top level\): config is not valid YAML \(line 2\): Unresolved tag: !debug/,
    );
  });

  it('reports YAML syntax errors with the line', () => {
    expect(problem('accounts: [\n  - id: x\n').problem).toMatch(/not valid YAML \(line \d+\)/);
  });

  it('names the file when it cannot be read', () => {
    expect(() => loadConfigFile('/nonexistent/carphoned.yaml')).toThrow(
      /cannot read \/nonexistent\/carphoned.yaml: ENOENT/,
    );
  });
});
