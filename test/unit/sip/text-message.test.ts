import type * as sip from 'sip';
import { describe, expect, it } from 'vitest';
import { CarphoneError } from '../../../service/core/errors.js';
import {
  deliveryTransition,
  outgoingBody,
  readIncomingText,
  START_DELIVERY,
  type DeliveryEvent,
  type DeliveryState,
} from '../../../service/sip/text-message.js';

/** A MESSAGE as the sip package parses it: the body a binary string, one character per byte. */
function message(text: string, headers: Partial<sip.Headers> = {}): sip.Request {
  return {
    method: 'MESSAGE',
    uri: 'sip:driver@127.0.0.1:5060',
    headers: {
      from: {
        name: '"J\u00c3\u00bcrgen"',
        uri: 'sip:+4915112345678@carrier.example;user=phone',
        params: { tag: 'a' },
      },
      to: { uri: 'sip:driver@carrier.example', params: {} },
      'call-id': 'm1@peer',
      cseq: { method: 'MESSAGE', seq: 1 },
      'content-type': 'text/plain;charset=UTF-8',
      ...headers,
    },
    content: Buffer.from(text, 'utf8').toString('latin1'),
  };
}

function response(status: number, extra: Partial<DeliveryEvent> = {}): DeliveryEvent {
  return { type: 'response', status, reason: 'Reason', usableChallenge: false, stale: false, ...extra };
}

describe('an incoming text message', () => {
  it('is read as UTF-8, with the sender as a call from it would show, and its Date as the sent time', () => {
    const read = readIncomingText(
      message('Grüße aus Köln 👋\r\nBis gleich', { date: 'Wed, 02 Dec 2026 06:30:00 GMT' }),
    );
    expect(read).toEqual({
      text: 'Grüße aus Köln 👋\nBis gleich',
      sender: 'sip:+4915112345678@carrier.example;user=phone',
      lineIdentification: '+4915112345678',
      name: 'Jürgen',
      sentAt: Date.UTC(2026, 11, 2, 6, 30, 0),
    });
  });

  it('loses control characters and bidirectional overrides, which a display would not show', () => {
    const read = readIncomingText(message('Call 112\u0007\u202e987\u202c now\u0000'));
    expect(read).toMatchObject({ text: 'Call 112987 now' });
  });

  it('has no sent time when its Date header is missing or not a date', () => {
    expect(readIncomingText(message('hi'))).toMatchObject({ sentAt: undefined });
    expect(readIncomingText(message('hi', { date: 'yesterday-ish' }))).toMatchObject({ sentAt: undefined });
  });

  it('is refused 415 with Accept: text/plain when it is not plain text in UTF-8 or US-ASCII', () => {
    for (const type of ['text/html', 'application/vnd.3gpp.sms', 'text/plain; charset=iso-8859-1']) {
      expect(readIncomingText(message('<b>hi</b>', { 'content-type': type })), type).toEqual({
        status: 415,
        reason: 'Unsupported Media Type',
        headers: { accept: 'text/plain, application/vnd.3gpp.sms', 'accept-encoding': 'identity' },
      });
    }
    expect(
      readIncomingText(message('hi', { 'content-type': 'TEXT/PLAIN; charset="us-ascii"' })),
    ).toMatchObject({
      text: 'hi',
    });
    expect(readIncomingText(message('hi', { 'content-encoding': 'gzip' }))).toMatchObject({ status: 415 });
  });

  it('is refused 400 without text', () => {
    expect(readIncomingText(message(' \r\n\u0007'))).toMatchObject({ status: 400 });
  });
});

describe('an outgoing text message', () => {
  it('goes as UTF-8 bytes, up to 1000 of them', () => {
    const body = outgoingBody('ü'.repeat(500));
    expect(body.length).toBe(1000);
    expect(Buffer.from(body, 'latin1').toString('utf8')).toBe('ü'.repeat(500));
    expect(() => outgoingBody(`${'ü'.repeat(500)}x`)).toThrow(
      /at most 1000 bytes of UTF-8; this one has 1001/,
    );
  });

  it('needs some text', () => {
    expect(() => outgoingBody('  \n ')).toThrow(CarphoneError);
  });
});

describe('sending one MESSAGE', () => {
  function run(events: DeliveryEvent[]): { state: DeliveryState; sends: boolean[] } {
    let [state, effects] = START_DELIVERY;
    const sends: boolean[] = [];
    const take = (fx: typeof effects): void =>
      fx.forEach((f) => (f.type === 'send' ? sends.push(f.withAuth) : undefined));
    take(effects);
    for (const e of events) {
      [state, effects] = deliveryTransition(state, e);
      take(effects);
    }
    return { state, sends };
  }

  it('answers a proxy challenge once and is sent on the 2xx', () => {
    expect(run([response(100), response(407, { usableChallenge: true }), response(202)])).toEqual({
      state: { kind: 'sent' },
      sends: [false, true],
    });
  });

  it('fails when the answered challenge comes back, unless the nonce went stale', () => {
    const twice = run([response(401, { usableChallenge: true }), response(401, { usableChallenge: true })]);
    expect(twice.state).toEqual({ kind: 'failed', reason: '401 Reason', retryable: false });
    const stale = run([
      response(401, { usableChallenge: true }),
      response(401, { usableChallenge: true, stale: true }),
      response(200),
    ]);
    expect(stale).toEqual({ state: { kind: 'sent' }, sends: [false, true, true] });
  });

  it("fails with the network's status and reason, or on a challenge it cannot answer", () => {
    expect(run([{ ...response(404), reason: 'Not Found' }]).state).toEqual({
      kind: 'failed',
      reason: '404 Not Found',
      retryable: false,
    });
    expect(run([response(407)])).toEqual({
      state: { kind: 'failed', reason: '407 Reason', retryable: false },
      sends: [false],
    });
  });

  it('says which failures pass (no answer, server overloaded or down) and so are worth sending again', () => {
    const retryable = (status: number): boolean => {
      const { state } = run([response(status)]);
      return state.kind === 'failed' && state.retryable;
    };
    expect([408, 500, 503, 504].map(retryable)).toEqual([true, true, true, true]);
    expect([400, 403, 404, 415, 480, 486, 488, 502, 603].map(retryable)).toEqual(Array(9).fill(false));
  });

  it('takes nothing after its final answer', () => {
    expect(run([response(200), response(500)]).state).toEqual({ kind: 'sent' });
  });
});
