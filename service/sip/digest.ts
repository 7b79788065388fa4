import { createHash, randomBytes } from 'node:crypto';
import type { AuthHeader } from 'sip';

/**
 * HTTP digest authentication for SIP (RFC 3261 §22.4 with RFC 7616's algorithms as adopted for SIP by
 * RFC 8760). The `sip` package only knows MD5, so carphone computes responses itself.
 */
export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

const hashOf: Record<DigestAlgorithm, 'md5' | 'sha256'> = {
  MD5: 'md5',
  'MD5-sess': 'md5',
  'SHA-256': 'sha256',
  'SHA-256-sess': 'sha256',
};

export interface Challenge {
  realm: string;
  nonce: string;
  opaque?: string;
  algorithm: DigestAlgorithm;
  qop?: 'auth';
  stale: boolean;
  /** Whether the challenge came in Proxy-Authenticate (407) rather than WWW-Authenticate (401). */
  proxy: boolean;
}

export interface Credentials {
  user: string;
  password: string;
}

function unquote(s: string | undefined): string | undefined {
  if (s === undefined) {
    return undefined;
  }
  return s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1).replace(/\\(.)/g, '$1') : s;
}

function parseAlgorithm(raw: string | undefined): DigestAlgorithm | undefined {
  const a = (unquote(raw) ?? 'MD5').toUpperCase();
  switch (a) {
    case 'MD5':
      return 'MD5';
    case 'MD5-SESS':
      return 'MD5-sess';
    case 'SHA-256':
      return 'SHA-256';
    case 'SHA-256-SESS':
      return 'SHA-256-sess';
    default:
      return undefined;
  }
}

/**
 * Picks the challenge to answer from the headers of a 401/407. Servers list their challenges in order
 * of preference (RFC 8760 §2.4); the first one carphone supports wins. Returns undefined when none is
 * usable (unknown algorithm, no nonce, or a qop other than auth).
 */
export function selectChallenge(headers: AuthHeader[] | undefined, proxy: boolean): Challenge | undefined {
  for (const h of headers ?? []) {
    if (h.scheme.toLowerCase() !== 'digest') {
      continue;
    }
    const algorithm = parseAlgorithm(h.algorithm);
    const realm = unquote(h.realm);
    const nonce = unquote(h.nonce);
    if (!algorithm || realm === undefined || !nonce) {
      continue;
    }
    const qops = (unquote(h.qop) ?? '').split(',').map((q) => q.trim().toLowerCase());
    if (h.qop !== undefined && !qops.includes('auth')) {
      continue;
    }
    const opaque = unquote(h.opaque);
    return {
      realm,
      nonce,
      algorithm,
      stale: (unquote(h.stale) ?? '').toLowerCase() === 'true',
      proxy,
      ...(opaque !== undefined ? { opaque } : {}),
      ...(h.qop !== undefined ? { qop: 'auth' as const } : {}),
    };
  }
  return undefined;
}

function quote(s: string): string {
  return `"${s.replace(/["\\]/g, '\\$&')}"`;
}

export interface DigestInput {
  challenge: Challenge;
  credentials: Credentials;
  method: string;
  uri: string;
  /** Nonce count: 1 for the first use of a nonce. */
  nc: number;
  /** Client nonce; random when omitted. Tests pass it to compare against published vectors. */
  cnonce?: string;
}

export function digestResponse(input: DigestInput): { response: string; cnonce: string; nc: string } {
  const { challenge, credentials, method, uri } = input;
  const h = (s: string): string => createHash(hashOf[challenge.algorithm]).update(s, 'utf8').digest('hex');
  const cnonce = input.cnonce ?? randomBytes(8).toString('hex');
  const nc = input.nc.toString(16).padStart(8, '0');
  let ha1 = h(`${credentials.user}:${challenge.realm}:${credentials.password}`);
  if (challenge.algorithm.endsWith('-sess')) {
    ha1 = h(`${ha1}:${challenge.nonce}:${cnonce}`);
  }
  const ha2 = h(`${method}:${uri}`);
  const response = challenge.qop
    ? h(`${ha1}:${challenge.nonce}:${nc}:${cnonce}:${challenge.qop}:${ha2}`)
    : h(`${ha1}:${challenge.nonce}:${ha2}`);
  return { response, cnonce, nc };
}

/** Builds the Authorization / Proxy-Authorization header value for a request. */
export function authorizationHeader(input: DigestInput): AuthHeader {
  const { challenge, credentials, uri } = input;
  const { response, cnonce, nc } = digestResponse(input);
  const header: AuthHeader = {
    scheme: 'Digest',
    username: quote(credentials.user),
    realm: quote(challenge.realm),
    nonce: quote(challenge.nonce),
    uri: quote(uri),
    response: quote(response),
    algorithm: challenge.algorithm,
  };
  if (challenge.opaque !== undefined) {
    header.opaque = quote(challenge.opaque);
  }
  if (challenge.qop) {
    header.qop = challenge.qop;
    header.nc = nc;
    header.cnonce = quote(cnonce);
  }
  return header;
}

/**
 * The digest side of a client that sends a run of requests with one set of credentials (REGISTER,
 * SUBSCRIBE): the last challenge it got, and its nonce count (RFC 7616 §3.4: counted per nonce).
 */
export class DigestSession {
  private challenge: Challenge | undefined;
  private nonceCount = 0;

  constructor(private readonly credentials: Credentials | undefined) {}

  /** Takes the challenge of a 401 or 407: whether it can be answered, and whether it was marked stale. */
  take(rs: {
    status: number;
    headers: { 'www-authenticate'?: AuthHeader[]; 'proxy-authenticate'?: AuthHeader[] };
  }): { usable: boolean; stale: boolean } {
    if (rs.status !== 401 && rs.status !== 407) {
      return { usable: false, stale: false };
    }
    const proxy = rs.status === 407;
    const challenge = selectChallenge(
      proxy ? rs.headers['proxy-authenticate'] : rs.headers['www-authenticate'],
      proxy,
    );
    if (!challenge || !this.credentials) {
      return { usable: false, stale: false };
    }
    if (challenge.nonce !== this.challenge?.nonce) {
      this.nonceCount = 0;
    }
    this.challenge = challenge;
    return { usable: true, stale: challenge.stale };
  }

  /** The header (and its name) answering the last challenge for `method` on `uri`; none without one. */
  answer(method: string, uri: string): ['authorization' | 'proxy-authorization', AuthHeader] | undefined {
    if (!this.challenge || !this.credentials) {
      return undefined;
    }
    this.nonceCount++;
    return [
      this.challenge.proxy ? 'proxy-authorization' : 'authorization',
      authorizationHeader({
        challenge: this.challenge,
        credentials: this.credentials,
        method,
        uri,
        nc: this.nonceCount,
      }),
    ];
  }

  /** A new dialog starts without the old challenge. */
  forget(): void {
    this.challenge = undefined;
    this.nonceCount = 0;
  }
}
