import { describe, expect, it } from 'vitest';
import * as sip from 'sip';
import { seeded } from '../../../bench/jitter/traces.js';
import { publicAddress } from '../../../service/sip/keep-alive.js';
import { hopOf } from '../../../service/sip/next-hop-resolver.js';
import { validateRequest } from '../../../service/sip/validate.js';
import { mutate } from '../../harness/sip-fuzz.js';

// kamailio relaying baresip's INVITE to carphone, all on ::1, as captured in test/integration/ipv6.test.ts
// (SDP left out). The sip package read its Via hosts as "[" and its Record-Route URI as nothing until
// patches/sip+0.0.6.patch.
const relayedInvite = [
  'INVITE sip:1000@[::1]:52327 SIP/2.0',
  'Record-Route: <sip:[::1]:22873;lr;ftag=44328b188ece1110>',
  'Via: SIP/2.0/UDP [::1]:22873;branch=z9hG4bK6df9.0a1d78e81d325fa9949ad63353f2e4b5.0;received=::1',
  'Via: SIP/2.0/UDP [::1]:22393;received=::1;branch=z9hG4bK051b19f795ea4d19;rport=22393',
  'Contact: <sip:2002-0x55bc52770890@[::1]:22393>',
  'Max-Forwards: 69',
  'To: <sip:1000@[::1]:22873>',
  'From: <sip:2002@[::1]:22873>;tag=44328b188ece1110',
  'Call-ID: 25ba5bbe7aeef1b1',
  'CSeq: 43880 INVITE',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

describe('SIP messages on IPv6', () => {
  it('reads Via hosts and every parameter after an IPv6 received', () => {
    const m = sip.parse(relayedInvite) as sip.Request;
    expect(m.headers.via).toEqual([
      {
        version: '2.0',
        protocol: 'UDP',
        host: '[::1]',
        port: 22873,
        params: { branch: 'z9hG4bK6df9.0a1d78e81d325fa9949ad63353f2e4b5.0', received: '::1' },
      },
      {
        version: '2.0',
        protocol: 'UDP',
        host: '[::1]',
        port: 22393,
        params: { received: '::1', branch: 'z9hG4bK051b19f795ea4d19', rport: '22393' },
      },
    ]);
  });

  it('reads IPv6 references in URIs: the request URI, Record-Route, Contact', () => {
    const m = sip.parse(relayedInvite) as sip.Request;
    expect(sip.parseUri(m.uri)).toMatchObject({ user: '1000', host: '[::1]', port: 52327 });
    expect(m.headers['record-route']?.[0]?.uri).toMatchObject({
      host: '[::1]',
      port: 22873,
      params: { lr: null, ftag: '44328b188ece1110' },
    });
    const contact = m.headers.contact;
    expect(sip.parseUri(contact === '*' ? '' : (contact?.[0]?.uri ?? ''))).toMatchObject({
      host: '[::1]',
      port: 22393,
    });
    expect(sip.parseUri('sips:alice@[2001:db8::1];transport=tcp')).toMatchObject({
      schema: 'sips',
      host: '[2001:db8::1]',
      params: { transport: 'tcp' },
    });
  });

  it('writes what it read back unchanged', () => {
    const written = sip.stringify(sip.parse(relayedInvite) as sip.Request);
    const lines = written.replace(/: +/g, ': ').split('\r\n');
    for (const line of relayedInvite.split('\r\n').filter((l) => l.includes('['))) {
      expect(lines).toContain(line);
    }
  });

  it('reads 5000 mutations of it with the patched parser: a message or none, and an answer from every reader', () => {
    const rand = seeded(11);
    let parsed = 0;
    for (let i = 0; i < 5000; i++) {
      const m = sip.parse(mutate(relayedInvite, rand)) as sip.Request | undefined;
      if (!m?.headers) {
        continue;
      }
      parsed++;
      // Each returns or gives undefined; none throws on what the parser made of the mutation.
      validateRequest(m);
      hopOf(String(m.uri));
      publicAddress({ status: 200, reason: 'OK', headers: m.headers });
    }
    expect(parsed).toBeGreaterThan(1000);
  });
});
