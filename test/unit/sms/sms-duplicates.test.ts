import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../service/core/clock.js';
import { silentLogger } from '../../../service/log/logger.js';
import { PART_WAIT_MS } from '../../../service/sms/concatenation.js';
import {
  DUPLICATE_WINDOW_MS,
  RecentDeliveries,
  REMEMBERED_DELIVERIES,
  type TakenSms,
} from '../../../service/sms/duplicates.js';
import { SmsRelay } from '../../../service/sms/relay.js';
import type { SmsStatusReport } from '../../../service/sms/status-report.js';
import { rpData, statusReport, ucs2Deliver } from '../../harness/sms-centre.js';

/**
 * A relay with no way to send (its RP-ACKs are logged, not sent), and what it handed on; `kept` is what
 * it would keep across a restart, restored from `before` (what a previous run kept), if given.
 */
function relay(before?: { clock: ManualClock; kept: TakenSms[] }): {
  clock: ManualClock;
  take: (body: Buffer) => number;
  texts: string[];
  reports: SmsStatusReport[];
  kept: TakenSms[];
} {
  const clock = before?.clock ?? new ManualClock();
  const texts: string[] = [];
  const reports: SmsStatusReport[] = [];
  const kept: TakenSms[] = [];
  const r = new SmsRelay(clock, silentLogger, {
    received: (_first, text) => texts.push(text),
    heldParts: () => undefined,
    statusReport: (report) => reports.push(report),
    taken: (taken) => kept.splice(0, kept.length, ...taken),
  });
  r.restore([], before?.kept ?? []);
  let ref = 0;
  const take = (body: Buffer): number =>
    r.take(
      {
        method: 'MESSAGE',
        uri: 'sip:1000@127.0.0.1',
        headers: { 'content-type': 'application/vnd.3gpp.sms', 'call-id': `sc-${ref}` },
        content: rpData(ref++ & 0xff, body).toString('latin1'),
      },
      undefined,
    ).status;
  return { clock, take, texts, reports, kept };
}

describe('an SMS the service centre sends again (our RP-ACK lost)', () => {
  it('is taken once: the text is shown once, and the copy is answered too', () => {
    const { take, texts } = relay();
    const sms = ucs2Deliver('Bin gleich da');
    expect(take(sms)).toBe(200);
    expect(take(sms)).toBe(200);
    expect(texts).toEqual(['Bin gleich da']);
    // Another text, same words, another time stamp is another SMS.
    const later = Buffer.from(sms);
    later[18] = 0x10;
    take(later);
    expect(texts).toEqual(['Bin gleich da', 'Bin gleich da']);
  });

  it('does not start a new text with a part of one already shown', () => {
    const { clock, take, texts } = relay();
    take(ucs2Deliver('Stau auf der A9, ', 0x08, [0x42, 2, 1]));
    take(ucs2Deliver('ruf mich an', 0x08, [0x42, 2, 2]));
    take(ucs2Deliver('ruf mich an', 0x08, [0x42, 2, 2]));
    clock.advance(PART_WAIT_MS + 1000);
    expect(texts).toEqual(['Stau auf der A9, ruf mich an']);
  });

  it('is taken once across a restart, and again once the window is over', () => {
    const first = relay();
    const sms = ucs2Deliver('Bin gleich da');
    first.take(sms);
    first.take(statusReport(7, 0x00));
    expect(first.kept).toHaveLength(2);
    // The next run, an hour later: the centre sends both again (the RP-ACKs were lost as it stopped).
    first.clock.advance(3600_000);
    const next = relay({ clock: first.clock, kept: JSON.parse(JSON.stringify(first.kept)) as TakenSms[] });
    expect(next.take(sms)).toBe(200);
    expect(next.take(statusReport(7, 0x00))).toBe(200);
    expect(next.texts).toEqual([]);
    expect(next.reports).toEqual([]);
    // A run a day after the SMS came has forgotten it, and keeps nothing that old.
    next.clock.advance(DUPLICATE_WINDOW_MS - 3600_000);
    const later = relay({ clock: next.clock, kept: next.kept });
    later.take(sms);
    expect(later.texts).toEqual(['Bin gleich da']);
    expect(later.kept).toHaveLength(1);
  });

  it('is a status report taken once', () => {
    const { take, reports } = relay();
    take(statusReport(7, 0x00));
    take(statusReport(7, 0x00));
    expect(reports.map((r) => r.reference)).toEqual([7]);
  });
});

describe('the SMS remembered', () => {
  const tpdu = (n: number): Uint8Array => Uint8Array.of(0x04, n & 0xff, n >> 8);

  it('are forgotten after 24 hours', () => {
    const clock = new ManualClock();
    const recent = new RecentDeliveries(clock);
    expect(recent.takenBefore(tpdu(1))).toBe(false);
    recent.remember(tpdu(1));
    clock.advance(DUPLICATE_WINDOW_MS - 1);
    expect(recent.takenBefore(tpdu(1))).toBe(true);
    clock.advance(1);
    expect(recent.takenBefore(tpdu(1))).toBe(false);
  });

  it(`are the newest ${REMEMBERED_DELIVERIES} at most`, () => {
    const recent = new RecentDeliveries(new ManualClock());
    for (let n = 0; n <= REMEMBERED_DELIVERIES; n++) {
      recent.remember(tpdu(n));
    }
    expect(recent.takenBefore(tpdu(REMEMBERED_DELIVERIES))).toBe(true);
    expect(recent.takenBefore(tpdu(1))).toBe(true);
    expect(recent.takenBefore(tpdu(0))).toBe(false);
  });

  it('count only those handed on: one whose handing on failed is taken when it comes again', () => {
    const clock = new ManualClock();
    let failing = true;
    const reports: number[] = [];
    const r = new SmsRelay(clock, silentLogger, {
      received: () => undefined,
      heldParts: () => undefined,
      taken: () => undefined,
      statusReport: (report) => {
        if (failing) {
          throw new Error('disk full');
        }
        reports.push(report.reference);
      },
    });
    const rq = {
      method: 'MESSAGE',
      uri: 'sip:1000@127.0.0.1',
      headers: { 'content-type': 'application/vnd.3gpp.sms', 'call-id': 'sc' },
      content: rpData(1, statusReport(9, 0x00)).toString('latin1'),
    };
    expect(r.take(rq, undefined)).toEqual({ status: 500, reason: 'Server Internal Error' });
    failing = false;
    expect(r.take(rq, undefined).status).toBe(200);
    expect(reports).toEqual([9]);
  });
});
