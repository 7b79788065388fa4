import { describe, expect, it } from 'vitest';
import * as sip from 'sip';
import {
  actionFor,
  judgeKeepAlive,
  keepAliveDelayMs,
  publicAddress,
} from '../../../service/sip/keep-alive.js';

/** A response as the sip package parses it off the wire. */
const response = (startLine: string, via: string): sip.Response =>
  sip.parse(
    `${startLine}\r\nVia: ${via}\r\nFrom: <sip:1000@example.net>;tag=a\r\nTo: <sip:example.net>;tag=b\r\n` +
      `Call-ID: k@carphone\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
  ) as sip.Response;

const VIA_BEHIND_NAT = 'SIP/2.0/UDP 10.77.1.2:5060;branch=z9hG4bKa;rport=40312;received=198.51.100.7';

describe('keep-alives to the registrar', () => {
  it("reads the public address from the top Via's received and rport, else from what we wrote", () => {
    expect(publicAddress(response('SIP/2.0 200 OK', VIA_BEHIND_NAT))).toBe('198.51.100.7:40312');
    expect(publicAddress(response('SIP/2.0 200 OK', 'SIP/2.0/UDP 10.77.1.2:5060;branch=z9hG4bKa'))).toBe(
      '10.77.1.2:5060',
    );
    // rport asked for but not filled in (a registrar that does not do RFC 3581): the port we wrote.
    expect(
      publicAddress(
        response('SIP/2.0 200 OK', 'SIP/2.0/UDP 10.77.1.2:5060;branch=z9hG4bKa;rport;received=198.51.100.7'),
      ),
    ).toBe('198.51.100.7:5060');
  });

  it('spells an IPv6 public address one way, whether the Via host or received gave it', () => {
    const ours = 'SIP/2.0/UDP [2001:db8::2]:5060;branch=z9hG4bKa;rport';
    expect(publicAddress(response('SIP/2.0 200 OK', ours))).toBe('[2001:db8::2]:5060');
    expect(publicAddress(response('SIP/2.0 200 OK', `${ours}=5060;received=2001:db8::2`))).toBe(
      '[2001:db8::2]:5060',
    );
    expect(publicAddress(response('SIP/2.0 200 OK', `${ours}=40312;received=2001:db8:9::7`))).toBe(
      '[2001:db8:9::7]:40312',
    );
  });

  it('takes any answer from the registrar as a live flow, a 404 or 405 included', () => {
    for (const line of ['SIP/2.0 200 OK', 'SIP/2.0 404 Not Found', 'SIP/2.0 405 Method Not Allowed']) {
      expect(judgeKeepAlive(response(line, VIA_BEHIND_NAT), '198.51.100.7:40312')).toEqual({ kind: 'alive' });
    }
  });

  it('reports a new public address as a rebinding the registrar must be told of', () => {
    const rebound = VIA_BEHIND_NAT.replace('rport=40312', 'rport=51000');
    expect(judgeKeepAlive(response('SIP/2.0 200 OK', rebound), '198.51.100.7:40312')).toEqual({
      kind: 'rebound',
      from: '198.51.100.7:40312',
      to: '198.51.100.7:51000',
    });
    // Nothing to compare with: no rebinding can be told.
    expect(judgeKeepAlive(response('SIP/2.0 200 OK', rebound), undefined)).toEqual({ kind: 'alive' });
  });

  it("reports a flow lost on a timeout or on the stack's own 503, not on the registrar's", () => {
    const timeout = response('SIP/2.0 408 Request Timeout', VIA_BEHIND_NAT);
    expect(judgeKeepAlive(timeout, '198.51.100.7:40312').kind).toBe('lost');
    const refused = response(
      'SIP/2.0 503 Service Unavailable (connection failed: ECONNREFUSED)',
      VIA_BEHIND_NAT,
    );
    expect(judgeKeepAlive(refused, '198.51.100.7:40312')).toEqual({
      kind: 'lost',
      why: 'connection failed: ECONNREFUSED',
    });
    expect(judgeKeepAlive(timeout, undefined)).toEqual({ kind: 'lost', why: 'no answer' });
    const busy = response('SIP/2.0 503 Service Unavailable', VIA_BEHIND_NAT);
    expect(judgeKeepAlive(busy, '198.51.100.7:40312')).toEqual({ kind: 'alive' });
  });

  it('spreads the intervals over 80-100 % of the one configured (RFC 5626 §4.4.1)', () => {
    expect(keepAliveDelayMs(25, () => 0)).toBe(20_000);
    expect(keepAliveDelayMs(25, () => 0.999999)).toBe(25_000);
    expect(keepAliveDelayMs(25, () => 0.5)).toBe(22_500);
  });

  it('registers afresh on a lost flow, refreshes quietly on a rebinding, and takes silence from a registrar that never answered as no loss', () => {
    const noAnswer = judgeKeepAlive(response('SIP/2.0 408 Request Timeout', VIA_BEHIND_NAT), undefined);
    const refused = judgeKeepAlive(
      response('SIP/2.0 503 Service Unavailable (connection failed: ECONNRESET)', VIA_BEHIND_NAT),
      undefined,
    );
    expect(actionFor({ kind: 'alive' }, false)).toBe('none');
    expect(actionFor({ kind: 'rebound', from: 'a:1', to: 'a:2' }, true)).toBe('refresh');
    expect(actionFor(noAnswer, true)).toBe('register-afresh');
    // A registrar that drops OPTIONS: the keep-alives still hold the NAT open; nothing more to do.
    expect(actionFor(noAnswer, false)).toBe('none');
    // A connection that fails is lost, whatever the registrar did before.
    expect(actionFor(refused, false)).toBe('register-afresh');
  });
});
