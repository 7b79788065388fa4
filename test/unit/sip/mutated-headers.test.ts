import * as sip from 'sip';
import { describe, expect, it } from 'vitest';
import { seeded } from '../../../bench/jitter/traces.js';
import { parseRack, reliableRseq, requiresReliable } from '../../../service/sip/reliable-provisional.js';
import {
  askAfter422,
  decideForRequest,
  initialAsk,
  timerAfterResponse,
  timerDeadlineMs,
} from '../../../service/sip/session-timer.js';
import { mutate } from '../../harness/sip-fuzz.js';

/**
 * The headers of session timers (RFC 4028) and reliable provisionals (RFC 3262), read from 5000 seeded
 * mutations of well-formed messages as the sip package parses them: every reading must give a decision
 * (a timer, none, or a refusal the user agent sends as a response), never an exception, and a running
 * timer must always have a deadline the clock can take.
 */
const MUTATIONS = 5000;
const POLICY = { expiresSeconds: 1800, minSeconds: 90 };

const HEADERS =
  'Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\n' +
  'To: <sip:1000@127.0.0.1>;tag=2\r\nCall-ID: m@x\r\nCSeq: 7 INVITE\r\nSupported: timer, 100rel\r\n' +
  'Require: 100rel\r\nSession-Expires: 1200;refresher=uas\r\nMin-SE: 600\r\nRSeq: 4711\r\nRAck: 4711 7 INVITE\r\n' +
  'Content-Length: 0\r\n\r\n';

function mutatedMessages(startLine: string, seed: number): sip.Message[] {
  const rand = seeded(seed);
  const messages: sip.Message[] = [];
  for (let i = 0; i < MUTATIONS; i++) {
    const m = sip.parse(mutate(`${startLine}\r\n${HEADERS}`, rand));
    if (m) {
      messages.push(m);
    }
  }
  return messages;
}

/** A timer the user agent can run: whole seconds, and a deadline Node's timers take as given. */
function isUsableTimer(t: { seconds: number } | undefined): boolean {
  return (
    t === undefined ||
    (Number.isInteger(t.seconds) &&
      t.seconds > 0 &&
      [true, false].every((weRefresh) => {
        const ms = timerDeadlineMs({ seconds: t.seconds, weRefresh });
        return ms > 0 && ms <= 2 ** 31 - 1;
      }))
  );
}

describe('session-timer and 100rel headers, mutated', () => {
  it('give every request a timer, none, or a 400 or 422, never an exception', () => {
    const outcomes = { timer: 0, none: 0, refused: 0 };
    for (const m of mutatedMessages('INVITE sip:1000@127.0.0.1 SIP/2.0', 11)) {
      for (const current of [undefined, { seconds: 900, weRefresh: false }]) {
        const d = decideForRequest(m.headers, POLICY, current);
        if (d.type === 'refuse') {
          expect([400, 422]).toContain(d.status);
          outcomes.refused++;
        } else {
          expect(isUsableTimer(d.timer)).toBe(true);
          outcomes[d.timer ? 'timer' : 'none']++;
        }
      }
      requiresReliable(m.headers);
      const rack = parseRack(m.headers.rack);
      expect(rack === undefined || (Number.isInteger(rack.rseq) && Number.isInteger(rack.cseq))).toBe(true);
    }
    // The mutations reach every outcome: the test is not passing on one branch alone.
    expect(outcomes.timer).toBeGreaterThan(MUTATIONS / 10);
    expect(outcomes.none).toBeGreaterThan(MUTATIONS / 100);
    expect(outcomes.refused).toBeGreaterThan(MUTATIONS / 100);
  });

  it('give every response a timer or none, an interval to ask again or none, and an RSeq or none', () => {
    let reliable = 0;
    for (const m of mutatedMessages('SIP/2.0 183 Session Progress', 12)) {
      const rs = m as sip.Response;
      for (const initial of [true, false]) {
        expect(
          isUsableTimer(timerAfterResponse(rs.headers, { seconds: 900, weRefresh: true }, initial)),
        ).toBe(true);
      }
      const again = askAfter422(rs.headers, initialAsk(POLICY));
      expect(again === undefined || again.seconds > POLICY.expiresSeconds).toBe(true);
      const rseq = reliableRseq(rs);
      if (rseq !== undefined) {
        expect(rseq >= 1 && rseq <= 2 ** 32 - 1).toBe(true);
        reliable++;
      }
    }
    expect(reliable).toBeGreaterThan(MUTATIONS / 10);
  });
});
