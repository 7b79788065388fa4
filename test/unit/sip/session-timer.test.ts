import * as sip from 'sip';
import { describe, expect, it } from 'vitest';
import {
  askAfter422,
  decideForRequest,
  initialAsk,
  readSessionExpires,
  requestHeaders,
  timerAfterResponse,
  timerDeadlineMs,
} from '../../../service/sip/session-timer.js';

const POLICY = { expiresSeconds: 1800, minSeconds: 90 };

/** Headers as the sip package parses them off the wire, so that the module reads what a peer sends. */
function headers(lines: string): sip.Headers {
  const text =
    'INVITE sip:1000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1\r\n' +
    'From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:1000@127.0.0.1>\r\nCall-ID: st@x\r\nCSeq: 1 INVITE\r\n' +
    lines.replace(/\n/g, '\r\n') +
    'Content-Length: 0\r\n\r\n';
  const m = sip.parse(text);
  if (!m) {
    throw new Error('unparsable');
  }
  return m.headers;
}

describe('session timers (RFC 4028)', () => {
  it('reads Session-Expires with its refresher, in either form, and says what is wrong with a bad one', () => {
    expect(readSessionExpires(headers('Session-Expires: 600;refresher=uac\n'))).toEqual({
      seconds: 600,
      refresher: 'uac',
    });
    expect(readSessionExpires(headers('x: 120 ; Refresher=UAS\n'))).toEqual({
      seconds: 120,
      refresher: 'uas',
    });
    expect(readSessionExpires(headers(''))).toBeUndefined();
    expect(readSessionExpires(headers('Session-Expires: soon\n'))).toEqual({
      problem: 'Session-Expires must be a number of seconds',
    });
    expect(readSessionExpires(headers('Session-Expires: 0\n'))).toHaveProperty('problem');
    expect(readSessionExpires(headers('Session-Expires: 600;refresher=proxy\n'))).toHaveProperty('problem');
    expect(readSessionExpires(headers('Session-Expires: 600\nSession-Expires: 900\n'))).toHaveProperty(
      'problem',
    );
  });

  it('leaves the refreshing to a caller that supports timers and requires them of it in the 2xx', () => {
    const d = decideForRequest(headers('Supported: timer\nSession-Expires: 600\n'), POLICY, undefined);
    expect(d).toEqual({
      type: 'accept',
      timer: { seconds: 600, weRefresh: false },
      headers: { 'session-expires': '600;refresher=uac', require: 'timer' },
    });
  });

  it('refreshes itself when a proxy asked for the timer on behalf of a caller without support', () => {
    const d = decideForRequest(headers('Session-Expires: 600\n'), POLICY, undefined);
    expect(d).toEqual({
      type: 'accept',
      timer: { seconds: 600, weRefresh: true },
      headers: { 'session-expires': '600;refresher=uas' },
    });
    // Even where the proxy named the caller as refresher: it cannot send refreshes it does not know of.
    const named = decideForRequest(headers('Session-Expires: 600;refresher=uac\n'), POLICY, undefined);
    expect(named).toMatchObject({
      timer: { weRefresh: true },
      headers: { 'session-expires': '600;refresher=uas' },
    });
  });

  it('keeps the refresher the caller names', () => {
    const d = decideForRequest(
      headers('Supported: timer\nSession-Expires: 300;refresher=uas\n'),
      POLICY,
      undefined,
    );
    expect(d).toMatchObject({ timer: { seconds: 300, weRefresh: true }, headers: { require: 'timer' } });
  });

  it('shortens a long interval to its own, never below the Min-SE the request carries', () => {
    const short = { expiresSeconds: 300, minSeconds: 90 };
    expect(decideForRequest(headers('Session-Expires: 7200\n'), short, undefined)).toMatchObject({
      timer: { seconds: 300 },
    });
    expect(
      decideForRequest(headers('Session-Expires: 7200\nMin-SE: 1200\n'), short, undefined),
    ).toMatchObject({
      timer: { seconds: 1200 },
    });
    // A Min-SE above the interval asked for (which RFC 4028 does not allow) never lengthens it.
    expect(
      decideForRequest(headers('Session-Expires: 600\nMin-SE: 1200\n'), POLICY, undefined),
    ).toMatchObject({ timer: { seconds: 600 } });
  });

  it('answers 422 with its Min-SE to an interval shorter than it, and 400 to one it cannot read', () => {
    expect(decideForRequest(headers('Supported: timer\nSession-Expires: 60\n'), POLICY, undefined)).toEqual({
      type: 'refuse',
      status: 422,
      reason: 'Session Interval Too Small',
      headers: { 'Min-SE': '90' },
    });
    expect(decideForRequest(headers('Session-Expires: 1e3\n'), POLICY, undefined)).toMatchObject({
      type: 'refuse',
      status: 400,
    });
  });

  it('runs no timer for a call nobody asked one of, and keeps a running one through a re-INVITE without the header', () => {
    expect(decideForRequest(headers(''), POLICY, undefined)).toEqual({
      type: 'accept',
      timer: undefined,
      headers: {},
    });
    expect(decideForRequest(headers(''), POLICY, { seconds: 600, weRefresh: false })).toEqual({
      type: 'accept',
      timer: { seconds: 600, weRefresh: true },
      headers: { 'session-expires': '600;refresher=uas' },
    });
  });

  it('asks for its interval in an INVITE, restates the running timer in a refresh, and asks again after a 422', () => {
    const ask = initialAsk(POLICY);
    expect(requestHeaders(ask, undefined)).toEqual({ 'session-expires': '1800', 'Min-SE': '90' });
    expect(requestHeaders(undefined, { seconds: 600, weRefresh: true })).toEqual({
      'session-expires': '600;refresher=uac',
    });
    expect(requestHeaders(undefined, { seconds: 600, weRefresh: false })).toEqual({
      'session-expires': '600;refresher=uas',
    });
    expect(requestHeaders(undefined, undefined)).toEqual({});
    const again = askAfter422(headers('Min-SE: 3600\n'), ask);
    expect(again).toEqual({ seconds: 3600, minSe: 3600 });
    // The same 422 again (or one without Min-SE) would only loop.
    expect(askAfter422(headers('Min-SE: 3600\n'), { seconds: 3600, minSe: 3600 })).toBeUndefined();
    expect(askAfter422(headers(''), ask)).toBeUndefined();
  });

  it('takes the refresher from the 2xx to its request', () => {
    expect(timerAfterResponse(headers('Session-Expires: 900;refresher=uac\n'), undefined, true)).toEqual({
      seconds: 900,
      weRefresh: true,
    });
    expect(timerAfterResponse(headers('Session-Expires: 900;refresher=uas\n'), undefined, true)).toEqual({
      seconds: 900,
      weRefresh: false,
    });
    // No header in the 2xx to an INVITE: no timer (RFC 4028 §7.2).
    expect(timerAfterResponse(headers(''), undefined, true)).toBeUndefined();
    // No header in the 2xx to our refresh: the far end takes no part; the proxies that asked still do.
    const ours = { seconds: 600, weRefresh: true };
    expect(timerAfterResponse(headers(''), ours, false)).toBe(ours);
    expect(timerAfterResponse(headers(''), { seconds: 600, weRefresh: false }, false)).toBeUndefined();
  });

  it('refreshes at half the interval and gives up on the far end at the interval less a third, at most 32 s', () => {
    expect(timerDeadlineMs({ seconds: 1800, weRefresh: true })).toBe(900_000);
    expect(timerDeadlineMs({ seconds: 1800, weRefresh: false })).toBe(1_768_000);
    expect(timerDeadlineMs({ seconds: 90, weRefresh: false })).toBe(60_000);
    // The longest interval a 2xx can name still gives a timer Node will not fire at once (2^31 - 1 ms).
    const longest = timerAfterResponse(
      headers('Session-Expires: 999999999;refresher=uas\n'),
      undefined,
      true,
    );
    expect(longest).toEqual({ seconds: 999_999_999, weRefresh: false });
    expect(timerDeadlineMs(longest ?? { seconds: 0, weRefresh: false })).toBe(2 ** 31 - 1);
  });
});
