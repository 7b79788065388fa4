import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import initSqlJs from 'sql.js';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { seeded } from '../../../bench/jitter/traces.js';
import { sameNumber } from '../../../service/contacts/number-match.js';
import { CallHistory, type NewMessageEntry } from '../../../service/history/call-history.js';
import { silentLogger } from '../../../service/log/logger.js';
import {
  readSmsStatusReport,
  takeReport,
  type AwaitedReports,
  type SmsStatusReport,
} from '../../../service/sms/status-report.js';
import { smsSubmit } from '../../../service/sms/submit.js';
import { SmsError } from '../../../service/sms/tpdu.js';

// 2026-12-02 07:30:00 and 07:31:15 at +01:00 (4 quarter hours), semi-octets swapped.
const SCTS = [0x62, 0x21, 0x20, 0x70, 0x03, 0x00, 0x40];
const DISCHARGE = [0x62, 0x21, 0x20, 0x70, 0x13, 0x51, 0x40];
// +4917012345678, international.
const RECIPIENT = [0x0d, 0x91, 0x94, 0x71, 0x10, 0x32, 0x54, 0x76, 0xf8];

/** An SMS-STATUS-REPORT written field by field after TS 23.040 §9.2.2.3, apart from carphone's reader. */
const statusReport = (reference: number, status: number, recipient = RECIPIENT): Uint8Array =>
  Uint8Array.from([0x06, reference, ...recipient, ...SCTS, ...DISCHARGE, status]);

const report = (reference: number, status: number): SmsStatusReport =>
  readSmsStatusReport(statusReport(reference, status));

describe('an SMS-STATUS-REPORT (3GPP TS 23.040)', () => {
  it('reads the reference, the recipient, the discharge time and what the status says', () => {
    expect(readSmsStatusReport(statusReport(0x2a, 0x00))).toEqual({
      reference: 0x2a,
      recipient: '+4917012345678',
      dischargedAt: Date.UTC(2026, 11, 2, 6, 31, 15),
      status: 0,
      outcome: 'delivered',
    });
    // 0x02 replaced by the centre: completed; 0x21 the recipient busy, the centre still trying;
    // 0x41 incompatible destination, 0x62 the centre gave up on a temporary error; 0x80 is reserved.
    expect([0x02, 0x21, 0x41, 0x62, 0x80].map((st) => report(1, st).outcome)).toEqual([
      'delivered',
      'still-trying',
      'failed',
      'failed',
      'failed',
    ]);
  });

  it('says what is wrong with one it cannot read', () => {
    expect(() => readSmsStatusReport(Uint8Array.of(0x04, 1))).toThrow(/not an SMS-STATUS-REPORT/);
    expect(() => readSmsStatusReport(statusReport(1, 0).subarray(0, 20))).toThrow(SmsError);
    expect(() => readSmsStatusReport(Uint8Array.of(0x06, 1, 40, 0x91))).toThrow(/40 digits/);
  });

  it('reads 10 000 mutated and cut reports into a report or an SmsError, nothing else', () => {
    const rand = seeded(11);
    const valid = [...statusReport(0x2a, 0x00)];
    const outcomes = { read: 0, refused: 0 };
    for (let i = 0; i < 10_000; i++) {
      const bytes = valid
        .map((b) => (rand() < 0.08 ? Math.floor(rand() * 256) : b))
        .slice(0, Math.floor(rand() * (valid.length + 4)));
      try {
        const r = readSmsStatusReport(Uint8Array.from(bytes));
        expect(['delivered', 'still-trying', 'failed']).toContain(r.outcome);
        expect(typeof r.recipient).toBe('string');
        outcomes.read++;
      } catch (e) {
        expect(e).toBeInstanceOf(SmsError);
        outcomes.refused++;
      }
    }
    expect(outcomes.read).toBeGreaterThan(1000);
    expect(outcomes.refused).toBeGreaterThan(1000);
  });

  it('is asked for by TP-SRR on every part of a text when delivery reports are on', () => {
    const long = 'x'.repeat(200);
    expect(smsSubmit('+4917012345678', long, () => 1, 0, true).map((t) => (t[0] ?? 0) & 0x20)).toEqual([
      0x20, 0x20,
    ]);
    expect(smsSubmit('+4917012345678', long, () => 1, 0).map((t) => (t[0] ?? 0) & 0x20)).toEqual([0, 0]);
  });
});

describe('a text awaiting status reports', () => {
  const awaited: AwaitedReports = { recipient: '+4917012345678', references: [7, 8] };

  it('is delivered once every part is, and waits while the centre still tries', () => {
    const first = takeReport(awaited, report(7, 0x00), sameNumber);
    expect(first).toEqual({ delivery: 'waiting', awaited: { ...awaited, references: [8] } });
    expect(takeReport(first?.awaited ?? awaited, report(8, 0x20), sameNumber)?.delivery).toBe('waiting');
    expect(takeReport(first?.awaited ?? awaited, report(8, 0x00), sameNumber)?.delivery).toBe('delivered');
  });

  it('fails on one part that fails, and takes no report of another reference or recipient', () => {
    expect(takeReport(awaited, report(8, 0x41), sameNumber)?.delivery).toBe('failed');
    expect(takeReport(awaited, report(9, 0x00), sameNumber)).toBeUndefined();
    const other = readSmsStatusReport(statusReport(7, 0, [0x0b, 0x91, 0x44, 0x97, 0x00, 0x11, 0x22, 0xf3]));
    expect(takeReport(awaited, other, sameNumber)).toBeUndefined();
  });

  it('finds its text in the message log, also after a reopen, the newest first', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'carphone-reports-')), 'history.sqlite');
    const log = await CallHistory.open(path, silentLogger);
    const sent = (text: string, reports?: AwaitedReports): NewMessageEntry => ({
      line: 'ims',
      direction: 'outgoing',
      number: '017012345678',
      name: '',
      text,
      at: 1_700_000_000_000,
      state: 'sent',
      reason: '',
      ...(reports ? { reports } : {}),
    });
    expect(log.addMessage(sent('plain')).delivery).toBe('');
    const older = log.addMessage(sent('older', { recipient: '017012345678', references: [3] }));
    const newer = log.addMessage(sent('newer', { recipient: '017012345678', references: [3, 4] }));
    const reopened = await CallHistory.open(path, silentLogger);
    const take = (r: SmsStatusReport) => (a: AwaitedReports) => takeReport(a, r, sameNumber);
    // The same TP-MR in two texts (it wraps at 256): the newest one awaiting it takes it.
    expect(reopened.takeStatusReport('ims', take(report(3, 0)))).toMatchObject({
      id: newer.id,
      delivery: 'waiting',
    });
    expect(reopened.takeStatusReport('ims', take(report(3, 0)))).toMatchObject({
      id: older.id,
      delivery: 'delivered',
    });
    expect(reopened.takeStatusReport('other-line', take(report(4, 0)))).toBeUndefined();
    expect(reopened.takeStatusReport('ims', take(report(4, 0)))?.delivery).toBe('delivered');
    expect(reopened.takeStatusReport('ims', take(report(4, 0)))).toBeUndefined();
    const again = await CallHistory.open(path, silentLogger);
    expect(again.recentMessages(3).map((m) => [m.text, m.delivery])).toEqual([
      ['newer', 'delivered'],
      ['older', 'delivered'],
      ['plain', ''],
    ]);
  });

  it('comes to a log written before delivery reports as a text that awaits none, and read', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'carphone-reports-')), 'history.sqlite');
    const SQL = await initSqlJs();
    const v1 = new SQL.Database();
    v1.exec(`CREATE TABLE calls (id INTEGER PRIMARY KEY AUTOINCREMENT, line TEXT NOT NULL, kind TEXT NOT NULL,
      number TEXT NOT NULL, name TEXT NOT NULL, started_at INTEGER NOT NULL, duration INTEGER NOT NULL,
      emergency INTEGER NOT NULL, reason TEXT NOT NULL);
    CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, line TEXT NOT NULL, direction TEXT NOT NULL,
      number TEXT NOT NULL, name TEXT NOT NULL, text TEXT NOT NULL, at INTEGER NOT NULL, state TEXT NOT NULL,
      reason TEXT NOT NULL);
    INSERT INTO messages (line, direction, number, name, text, at, state, reason)
      VALUES ('ims', 'outgoing', '2001', '', 'from last year', 1, 'sent', '');
    PRAGMA user_version = 1;`);
    writeFileSync(path, v1.export());
    const log = await CallHistory.open(path, silentLogger);
    expect(log.recentMessages(1)).toMatchObject([{ text: 'from last year', delivery: '', unread: false }]);
    log.addMessage({
      line: 'ims',
      direction: 'outgoing',
      number: '2001',
      name: '',
      text: 'new',
      at: 2,
      state: 'sent',
      reason: '',
      reports: { recipient: '2001', references: [1] },
    });
    expect(log.recentMessages(2).map((m) => m.delivery)).toEqual(['waiting', '']);
  });
});
