import * as sip from 'sip';
import { describe, expect, it } from 'vitest';
import { seeded } from '../../../bench/jitter/traces.js';
import { calledLine } from '../../../service/sip/address-list.js';
import { answerForwarding, incomingForwarding } from '../../../service/sip/forwarding.js';
import { mutate } from '../../harness/sip-fuzz.js';

/** An INVITE's headers as the sip package parses them off the wire, with `extra` header lines. */
function headersOf(...extra: string[]): sip.Headers {
  const rq = sip.parse(
    [
      'INVITE sip:1000@127.0.0.1 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1',
      'From: "Anna" <sip:+4930555@ims.example.net>;tag=a',
      'To: <sip:+4989123@ims.example.net>',
      'Call-ID: x',
      'CSeq: 1 INVITE',
      ...extra,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  ) as sip.Request;
  return rq.headers;
}

describe('a call forwarded to the car', () => {
  it('is read from History-Info as TS 24.604 writes it: the number called first, the reason of the new target', () => {
    // Anna called the office, +4989123, which forwards when busy to the car's line, +4917055.
    const headers = headersOf(
      'History-Info: <sip:+4989123@ims.example.net;user=phone>;index=1',
      'History-Info: <sip:+4917055@ims.example.net;user=phone;cause=486>;index=1.1;mp=1',
    );
    expect(incomingForwarding(headers)).toEqual({ reason: 'busy', from: '+4989123' });
  });

  it('is read from one History-Info line with several entries, a tel URI and an escaped Reason among them', () => {
    const headers = headersOf(
      'History-Info: <tel:+4989123?Reason=SIP%3Bcause%3D302%3Btext%3D%22Moved%2C%20here%22>;index=1, ' +
        '"Car, front" <sip:+4917055@ims.example.net;cause=302>;index=1.1;mp=1',
    );
    expect(incomingForwarding(headers)).toEqual({ reason: 'unconditional', from: '+4989123' });
  });

  it('is not a forwarding where History-Info only says the registrar found the device (rc)', () => {
    const headers = headersOf(
      'History-Info: <sip:1000@127.0.0.1>;index=1',
      'History-Info: <sip:1000@10.0.0.7:5060>;index=1.1;rc=1',
    );
    expect(incomingForwarding(headers)).toBeUndefined();
    expect(incomingForwarding(headersOf())).toBeUndefined();
  });

  it('is read from Diversion (RFC 5806): the bottom entry is the number called, with its reason', () => {
    const headers = headersOf(
      'Diversion: <sip:+4917066@pbx.example.net>;reason=no-answer;counter=1',
      'Diversion: <sip:+4989123@pbx.example.net>;reason=unconditional;counter=1',
    );
    expect(incomingForwarding(headers)).toEqual({ reason: 'unconditional', from: '+4989123' });
    expect(incomingForwarding(headersOf('Diversion: <sip:2002@pbx>;reason="user-busy"'))).toEqual({
      reason: 'busy',
      from: '2002',
    });
    expect(incomingForwarding(headersOf('Diversion: <sip:2002@pbx>;reason=follow-me'))).toEqual({
      reason: 'unknown',
      from: '2002',
    });
  });
});

describe('the line a call came in on', () => {
  it("is the number P-Called-Party-ID names, of a SIP or a tel URI, or '' where unsaid", () => {
    expect(
      calledLine(headersOf('P-Called-Party-ID: "Business" <sip:+4917055@ims.example.net;user=phone>')),
    ).toBe('+4917055');
    expect(calledLine(headersOf('P-Called-Party-ID: <tel:+4917055;phone-context=ims.example.net>'))).toBe(
      '+4917055',
    );
    expect(calledLine(headersOf())).toBe('');
    expect(calledLine(headersOf('P-Called-Party-ID: sip:+4917055@ims.example.net'))).toBe('');
  });
});

describe('a call from the car forwarded on by the far end', () => {
  it('is said by 181 Call Is Being Forwarded, and by History-Info in a ringing or answering response', () => {
    expect(answerForwarding(181, headersOf())).toEqual({ reason: 'unknown', from: '' });
    const history = headersOf(
      'History-Info: <sip:+4989123@ims.example.net>;index=1',
      'History-Info: <sip:+4989999@ims.example.net;cause=408>;index=1.1;mp=1',
    );
    expect(answerForwarding(180, history)).toEqual({ reason: 'no-reply', from: '' });
    expect(answerForwarding(200, history)).toEqual({ reason: 'no-reply', from: '' });
    expect(answerForwarding(180, headersOf())).toBeUndefined();
    expect(answerForwarding(100, history)).toBeUndefined();
    expect(answerForwarding(486, history)).toBeUndefined();
  });
});

describe('forwarding headers, mutated', () => {
  it('give a forwarding with a known reason, or none, never an exception, 3000 times', () => {
    const rand = seeded(23);
    const message =
      'INVITE sip:1000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n' +
      'From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:1000@127.0.0.1>\r\nCall-ID: m@x\r\nCSeq: 1 INVITE\r\n' +
      'History-Info: <sip:+4989123@ims.example.net>;index=1, <sip:1000@ims;cause=486>;index=1.1;mp=1\r\n' +
      'Diversion: "A, B" <sip:+4989123@pbx>;reason=user-busy;counter=1\r\nContent-Length: 0\r\n\r\n';
    const reasons = new Set(['unconditional', 'busy', 'no-reply', 'not-reachable', 'deflection', 'unknown']);
    let forwarded = 0;
    for (let i = 0; i < 3000; i++) {
      const m = sip.parse(mutate(message, rand));
      if (!m) {
        continue;
      }
      for (const f of [incomingForwarding(m.headers), answerForwarding(181, m.headers)]) {
        if (f) {
          forwarded++;
          expect(reasons.has(f.reason)).toBe(true);
          expect(typeof f.from).toBe('string');
        }
      }
    }
    expect(forwarded).toBeGreaterThan(1000);
  });
});
