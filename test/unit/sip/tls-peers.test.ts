import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { TlsPeerMismatch, TlsPeers } from '../../../service/sip/tls-peers.js';
import { selfSignedCertificate } from '../../harness/tls-certificate.js';

const certificateFor = (...names: string[]): PeerCertificate =>
  new X509Certificate(readFileSync(selfSignedCertificate(names).certFile)).toLegacyObject();

const hop = (name: string) => ({ protocol: 'TLS' as const, address: '192.0.2.7', port: 5061, name });

describe('TLS connections reused for another host name', () => {
  it('checks a connection again for a new name and refuses it where its certificate does not name it', () => {
    const peers = new TlsPeers();
    const check = peers.beforeSend(hop('registrar.example'), false);
    expect(check?.('registrar.example', certificateFor('registrar.example'))).toBeUndefined();
    expect(peers.beforeSend(hop('registrar.example'), true)).toBeUndefined();
    expect(() => peers.beforeSend(hop('proxy.example'), true)).toThrow(TlsPeerMismatch);
    expect(() => peers.beforeSend(hop('proxy.example'), true)).toThrow(
      /^TLS to 192\.0\.2\.7:5061 was checked for registrar\.example, not proxy\.example: /,
    );
  });

  it('lets a request for a second name the certificate names go down the same connection', () => {
    const peers = new TlsPeers();
    peers.beforeSend(hop('registrar.example'), false)?.(
      'registrar.example',
      certificateFor('registrar.example', 'proxy.example'),
    );
    expect(peers.beforeSend(hop('proxy.example'), true)).toBeUndefined();
  });

  it('refuses a second name while the connection has not yet passed its check, and checks a new connection afresh', () => {
    const peers = new TlsPeers();
    const check = peers.beforeSend(hop('registrar.example'), false);
    expect(() => peers.beforeSend(hop('proxy.example'), true)).toThrow(
      /still being opened for registrar\.example/,
    );
    // A certificate that fails Node's check is not noted: the connection stays unchecked for any other name.
    expect(check?.('registrar.example', certificateFor('elsewhere.example'))).toBeInstanceOf(Error);
    expect(() => peers.beforeSend(hop('proxy.example'), true)).toThrow(TlsPeerMismatch);
    // Once that connection is gone, the next one is opened for the name asked, and Node checks it.
    expect(peers.beforeSend(hop('proxy.example'), false)).toBeTypeOf('function');
  });
});
