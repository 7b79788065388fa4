import * as sip from 'sip';
import { describe, expect, it } from 'vitest';
import { parseReplaces, referTarget, sipfrag } from '../../../service/sip/refer.js';

/** The Refer-To header as the sip package parses it off the wire. */
const parsed = (value: string): unknown => {
  const rq = sip.parse(
    [
      'REFER sip:1000@127.0.0.1 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1',
      'From: <sip:2001@127.0.0.1>;tag=a',
      'To: <sip:1000@127.0.0.1>;tag=b',
      'Call-ID: x',
      'CSeq: 2 REFER',
      `Refer-To: ${value}`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  ) as sip.Request;
  return rq.headers['refer-to'];
};

describe('referTarget (RFC 3515 Refer-To)', () => {
  it('takes a blind transfer target as a name-addr or a bare URI', () => {
    expect(referTarget(parsed('<sip:2003@127.0.0.1:5060>'))).toEqual({ uri: 'sip:2003@127.0.0.1:5060' });
    expect(referTarget(parsed('"Dave" <sips:dave@example.net>'))).toEqual({ uri: 'sips:dave@example.net' });
    expect(referTarget(parsed('sip:2003@127.0.0.1'))).toEqual({ uri: 'sip:2003@127.0.0.1' });
  });

  it("keeps an attended transfer's Replaces, unescaped, and drops every other embedded header", () => {
    expect(
      referTarget(
        parsed(
          '<sip:dave@127.0.0.1?Replaces=12345%40192.0.2.4%3Bto-tag%3D9876%3Bfrom-tag%3D1234&Subject=hi&Priority=emergency>',
        ),
      ),
    ).toEqual({ uri: 'sip:dave@127.0.0.1', replaces: '12345@192.0.2.4;to-tag=9876;from-tag=1234' });
  });

  it('refuses what is not a sip: or sips: URI, and a Replaces that could smuggle in a header', () => {
    for (const bad of ['<tel:+4930123456>', '<http://example.net/>', '<sip:>']) {
      expect(referTarget(parsed(bad))).toHaveProperty('problem');
    }
    expect(referTarget(undefined)).toEqual({ problem: 'no Refer-To' });
    expect(referTarget({ uri: `sip:${'a'.repeat(600)}@x` })).toEqual({ problem: 'Refer-To too long' });
    expect(referTarget(parsed('<sip:d@x?Replaces=abc%0D%0AContact%3A%20evil>'))).toEqual({
      problem: 'Refer-To has a malformed Replaces',
    });
    expect(referTarget(parsed('<sip:d@x?Replaces=%E0%A4%A>'))).toHaveProperty('problem');
  });
});

describe('parseReplaces (RFC 3891 §6.1)', () => {
  it('reads the Call-ID and both tags in any order, and early-only', () => {
    expect(parseReplaces('98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff;early-only')).toEqual({
      callId: '98732@sip.example.com',
      toTag: 'ff87ff',
      fromTag: 'r33th4x0r',
      earlyOnly: true,
    });
  });

  it('is undefined without a tag, without a Call-ID, or when it is not text', () => {
    expect(parseReplaces('98732@sip.example.com;to-tag=ff87ff')).toBeUndefined();
    expect(parseReplaces(';to-tag=a;from-tag=b')).toBeUndefined();
    expect(parseReplaces(undefined)).toBeUndefined();
  });
});

describe('sipfrag', () => {
  it('is a status line with its reason phrase, "Failed" where none is known', () => {
    expect(sipfrag(100)).toBe('SIP/2.0 100 Trying\r\n');
    expect(sipfrag(486)).toBe('SIP/2.0 486 Busy Here\r\n');
    expect(sipfrag(599)).toBe('SIP/2.0 599 Failed\r\n');
  });
});
