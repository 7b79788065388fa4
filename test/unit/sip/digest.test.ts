import { describe, expect, it } from 'vitest';
import {
  authorizationHeader,
  digestResponse,
  selectChallenge,
  type Challenge,
} from '../../../service/sip/digest.js';

const rfc7616: Omit<Challenge, 'algorithm'> = {
  realm: 'http-auth@example.org',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  qop: 'auth',
  stale: false,
  proxy: false,
};
const mufasa = { user: 'Mufasa', password: 'Circle of Life' };
const rfc7616Input = {
  credentials: mufasa,
  method: 'GET',
  uri: '/dir/index.html',
  nc: 1,
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
};

describe("digest responses match the RFCs' published examples", () => {
  it('RFC 7616 §3.9.1 with MD5', () => {
    expect(digestResponse({ ...rfc7616Input, challenge: { ...rfc7616, algorithm: 'MD5' } }).response).toBe(
      '8ca523f5e9506fed4657c9700eebdbec',
    );
  });

  it('RFC 7616 §3.9.1 with SHA-256 (the algorithm RFC 8760 brings to SIP)', () => {
    expect(
      digestResponse({ ...rfc7616Input, challenge: { ...rfc7616, algorithm: 'SHA-256' } }).response,
    ).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('RFC 2617 §3.5 with MD5 and qop=auth', () => {
    const r = digestResponse({
      credentials: { user: 'Mufasa', password: 'Circle Of Life' },
      method: 'GET',
      uri: '/dir/index.html',
      nc: 1,
      cnonce: '0a4f113b',
      challenge: {
        realm: 'testrealm@host.com',
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
        algorithm: 'MD5',
        qop: 'auth',
        stale: false,
        proxy: false,
      },
    });
    expect(r.response).toBe('6629fae49393a05397450978507c4ef1');
    expect(r.nc).toBe('00000001');
  });
});

describe('selectChallenge', () => {
  it("takes the first supported challenge in the server's order of preference", () => {
    const c = selectChallenge(
      [
        { scheme: 'Digest', realm: '"a"', nonce: '"n1"', algorithm: 'SHA-512-256', qop: '"auth"' },
        { scheme: 'Digest', realm: '"a"', nonce: '"n2"', algorithm: 'SHA-256', qop: '"auth,auth-int"' },
        { scheme: 'Digest', realm: '"a"', nonce: '"n3"', algorithm: 'MD5' },
      ],
      false,
    );
    expect(c).toMatchObject({ nonce: 'n2', algorithm: 'SHA-256', qop: 'auth' });
  });

  it('defaults to MD5 without qop when the server names neither', () => {
    expect(selectChallenge([{ scheme: 'Digest', realm: '"r"', nonce: '"x"' }], true)).toMatchObject({
      algorithm: 'MD5',
      proxy: true,
    });
    expect(selectChallenge([{ scheme: 'Digest', realm: '"r"', nonce: '"x"' }], true)?.qop).toBeUndefined();
  });

  it('refuses challenges it cannot answer correctly', () => {
    expect(selectChallenge([{ scheme: 'Basic', realm: '"r"' }], false)).toBeUndefined();
    expect(
      selectChallenge([{ scheme: 'Digest', realm: '"r"', nonce: '"x"', qop: '"auth-int"' }], false),
    ).toBeUndefined();
    expect(selectChallenge([{ scheme: 'Digest', realm: '"r"' }], false)).toBeUndefined();
    expect(selectChallenge(undefined, false)).toBeUndefined();
  });

  it('reads stale=true so a re-challenge with a fresh nonce is not taken for a wrong password', () => {
    expect(
      selectChallenge([{ scheme: 'Digest', realm: '"r"', nonce: '"x"', stale: 'TRUE' }], false)?.stale,
    ).toBe(true);
  });
});

describe('authorizationHeader', () => {
  it('quotes what RFC 3261 §25 quotes and leaves algorithm, qop and nc bare', () => {
    const h = authorizationHeader({
      ...rfc7616Input,
      challenge: { ...rfc7616, algorithm: 'SHA-256', opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS' },
    });
    expect(h).toMatchObject({
      scheme: 'Digest',
      username: '"Mufasa"',
      realm: '"http-auth@example.org"',
      uri: '"/dir/index.html"',
      algorithm: 'SHA-256',
      qop: 'auth',
      nc: '00000001',
      opaque: '"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
      response: '"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"',
    });
  });
});
