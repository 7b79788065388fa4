import { describe, expect, it } from 'vitest';
import * as sip from 'sip';
import { validateRequest } from '../../../service/sip/validate.js';

function request(text: string): sip.Request {
  const m = sip.parse(Buffer.from(text.replace(/\n/g, '\r\n'), 'latin1'));
  if (!m || !('method' in m)) {
    throw new Error('fixture did not parse as a request');
  }
  return m;
}

const invite = (extra = '', cl = '0', body = ''): string =>
  `INVITE sip:1000@127.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK776asdhds
Max-Forwards: 70
To: <sip:1000@127.0.0.1>
From: "Carol" <sip:2002@127.0.0.1>;tag=1928301774
Call-ID: a84b4c76e66710@127.0.0.1
CSeq: 314159 INVITE
${extra}Content-Length: ${cl}

${body}`;

describe('validateRequest', () => {
  it('accepts a well-formed INVITE', () => {
    expect(validateRequest(request(invite()))).toBeUndefined();
  });

  it('answers 400 to a Content-Length that disagrees with the body (RFC 4475 §3.1.2.7 and §3.1.2.8)', () => {
    expect(validateRequest(request(invite('', '9999', 'v=0\n')))).toMatchObject({ status: 400 });
    expect(validateRequest(request(invite('', 'abc', 'v=0')))).toMatchObject({ status: 400 });
  });

  it('answers 400 to a Record-Route or Route whose URI cannot be read, and takes an IPv6 one', () => {
    for (const header of ['Record-Route: <sip:proxy example;lr>\n', 'Route: <sip:[::1;lr>\n']) {
      expect(validateRequest(request(invite(header))), header).toEqual({
        status: 400,
        reason: 'Bad Request (Route or Record-Route without a readable URI)',
      });
    }
    expect(validateRequest(request(invite('Record-Route: <sip:[2001:db8::1]:5060;lr>\n')))).toBeUndefined();
  });

  it('answers 505 to a request of another SIP version (RFC 4475 §3.1.2.16)', () => {
    const badVersion = invite().replace('sip:1000@127.0.0.1:5060 SIP/2.0', 'sip:1000@127.0.0.1:5060 SIP/7.0');
    expect(validateRequest(request(badVersion))).toMatchObject({ status: 505 });
  });

  it('answers 400 when the CSeq method differs from the request method (RFC 4475 §3.1.2.17)', () => {
    expect(
      validateRequest(request(invite().replace('CSeq: 314159 INVITE', 'CSeq: 314159 BYE'))),
    ).toMatchObject({ status: 400 });
  });

  it('answers 400 to a From whose display name is UTF-8 left unquoted, which the parser cannot take apart', () => {
    // As the sip package hands it over: the message's bytes, one character each.
    const utf8 = (t: string): string => Buffer.from(t, 'utf8').toString('latin1');
    const unquoted = invite().replace(
      'From: "Carol" <sip:2002@127.0.0.1>',
      utf8('From: Jürgen <sip:2002@127.0.0.1>'),
    );
    expect(validateRequest(request(unquoted))).toMatchObject({
      status: 400,
      reason: 'Bad Request (From/To without a URI)',
    });
    const quoted = invite().replace(
      'From: "Carol" <sip:2002@127.0.0.1>',
      utf8('From: "Jürgen" <sip:2002@127.0.0.1>'),
    );
    expect(validateRequest(request(quoted))).toBeUndefined();
  });

  it('answers 400 to a Via without a branch, and 416 to a tel: Request-URI', () => {
    expect(validateRequest(request(invite().replace(';branch=z9hG4bK776asdhds', '')))).toMatchObject({
      status: 400,
    });
    expect(
      validateRequest(request(invite().replace('INVITE sip:1000@127.0.0.1:5060', 'INVITE tel:+4930'))),
    ).toMatchObject({ status: 416 });
  });

  it('answers 513 to a request larger than 16 KiB and 483 when Max-Forwards is exhausted', () => {
    expect(validateRequest(request(invite(`X-Pad: ${'A'.repeat(20_000)}\n`)))).toMatchObject({ status: 513 });
    expect(validateRequest(request(invite().replace('Max-Forwards: 70', 'Max-Forwards: 0')))).toMatchObject({
      status: 483,
    });
  });

  it('answers 420 naming the extensions a request requires that it does not support (RFC 3261 §8.2.2.3)', () => {
    const r = validateRequest(request(invite('Require: 100rel\nRequire: precondition, Timer\n')));
    expect(r).toMatchObject({ status: 420, reason: 'Bad Extension' });
    expect(r?.extension?.headers?.unsupported).toBe('precondition');
    // Supported (offered, not required) extensions change nothing; ACK and CANCEL are never refused.
    expect(validateRequest(request(invite('Supported: 100rel, timer\n')))).toBeUndefined();
    expect(validateRequest(request(invite('Require: replaces\n')))).toBeUndefined();
    expect(validateRequest(request(invite('Require: timer, 100rel\n')))).toBeUndefined();
    const cancel = invite('Require: 100rel\n').replace(/INVITE/g, 'CANCEL');
    expect(validateRequest(request(cancel))).toBeUndefined();
  });

  it('answers 405 with Allow to a method it does not implement', () => {
    const r = validateRequest(request(invite().replace(/INVITE/g, 'SUBSCRIBE')));
    expect(r).toMatchObject({ status: 405 });
    expect(r?.extension?.headers?.allow).toMatch(/INVITE/);
  });
});
