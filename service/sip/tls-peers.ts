import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { ResolvedHop } from './next-hop-resolver.js';

/** A request that would go down a TLS connection whose certificate does not name its host. */
export class TlsPeerMismatch extends Error {
  override readonly name = 'TlsPeerMismatch';
}

/** What Node calls, as a connection opens, to check the certificate against the host name. */
export type IdentityCheck = (host: string, certificate: PeerCertificate) => Error | undefined;

interface Peer {
  /** The certificate the connection presented, once it passed the check. */
  certificate?: PeerCertificate;
  /** The names (or the address, where the URI gave one) it has been checked for. */
  names: Set<string>;
}

/**
 * The sip package keeps one TLS connection per address and port and sends every request for that
 * address down it, whatever host name the request's URI gave. Node checks a certificate against one
 * name, as the connection opens: a registrar and an outbound proxy of different names at one address
 * would have the proxy's requests sent down a connection never checked for its name (RFC 5922 §4.2).
 * This notes each connection's certificate and the names it was checked for, and checks it again for
 * a new name before a request reuses the connection.
 */
export class TlsPeers {
  private readonly peers = new Map<string, Peer>();

  /**
   * Before a request goes to `target`; `connected`: whether the sip package has a connection there.
   * Returns the check a new connection is to make (none where one is reused), or throws
   * TlsPeerMismatch where the connection's certificate does not name the target's host.
   */
  beforeSend(target: ResolvedHop, connected: boolean): IdentityCheck | undefined {
    const key = `${target.address}:${target.port}`;
    const name = target.name ?? target.address;
    const peer = this.peers.get(key);
    if (connected && peer) {
      if (peer.names.has(name)) {
        return undefined;
      }
      const checkedFor = [...peer.names].join(', ');
      if (!peer.certificate) {
        throw new TlsPeerMismatch(
          `TLS to ${key} is still being opened for ${checkedFor}, not checked for ${name}`,
        );
      }
      const problem = checkServerIdentity(name, peer.certificate);
      if (problem) {
        throw new TlsPeerMismatch(
          `TLS to ${key} was checked for ${checkedFor}, not ${name}: ${problem.message}`,
        );
      }
      peer.names.add(name);
      return undefined;
    }
    const opening: Peer = { names: new Set([name]) };
    this.peers.set(key, opening);
    return (host, certificate) => {
      const problem = checkServerIdentity(host, certificate);
      if (!problem) {
        opening.certificate = certificate;
      }
      return problem;
    };
  }
}
