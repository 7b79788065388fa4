import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import initSqlJs from 'sql.js';
import { describe, expect, it } from 'vitest';
import { CallHistory, type NewEntry } from '../../../service/history/call-history.js';
import { silentLogger } from '../../../service/log/logger.js';

const call: NewEntry = {
  line: 'sip0',
  kind: 'missed',
  number: '2002',
  name: 'Carol',
  startedAt: 1_700_000_000_000,
  duration: 0,
  emergency: false,
  reason: 'remote',
  forwarded: '',
  forwardedFrom: '',
};

describe('the call log', () => {
  it('keeps why and from which number the network forwarded a call, across a reopen', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'carphone-calls-')), 'history.sqlite');
    const log = await CallHistory.open(path, silentLogger);
    log.add({ ...call, forwarded: 'unconditional', forwardedFrom: '2099' });
    log.add({ ...call, kind: 'incoming', duration: 12, forwarded: 'unknown' });
    log.add(call);
    const reopened = await CallHistory.open(path, silentLogger);
    expect(reopened.recent(3).map((e) => [e.kind, e.forwarded, e.forwardedFrom])).toEqual([
      ['missed', '', ''],
      ['incoming', 'unknown', ''],
      ['missed', 'unconditional', '2099'],
    ]);
  });

  it('comes to a log written before calls recorded forwarding with its calls as not forwarded, and seen', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'carphone-calls-')), 'history.sqlite');
    const SQL = await initSqlJs();
    const v2 = new SQL.Database();
    v2.exec(`CREATE TABLE calls (id INTEGER PRIMARY KEY AUTOINCREMENT, line TEXT NOT NULL, kind TEXT NOT NULL,
      number TEXT NOT NULL, name TEXT NOT NULL, started_at INTEGER NOT NULL, duration INTEGER NOT NULL,
      emergency INTEGER NOT NULL, reason TEXT NOT NULL);
    INSERT INTO calls (line, kind, number, name, started_at, duration, emergency, reason)
      VALUES ('sip0', 'missed', '2009', '', 0, 0, 0, 'remote'), ('sip0', 'outgoing', '2001', '', 1, 30, 0, 'local');
    PRAGMA user_version = 2;`);
    writeFileSync(path, v2.export());
    const log = await CallHistory.open(path, silentLogger);
    expect(log.recent(1)).toMatchObject([{ number: '2001', duration: 30, forwarded: '', forwardedFrom: '' }]);
    expect(log.unseenMissedCalls()).toBe(0);
    log.add({ ...call, forwarded: 'busy', forwardedFrom: '2099' });
    expect((await CallHistory.open(path, silentLogger)).recent(2).map((e) => e.forwarded)).toEqual([
      'busy',
      '',
    ]);
  });

  it('counts missed calls as new until they are marked seen, across a reopen', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'carphone-calls-')), 'history.sqlite');
    const log = await CallHistory.open(path, silentLogger);
    log.add(call);
    log.add({ ...call, kind: 'incoming', duration: 5 });
    log.add({ ...call, kind: 'rejected', reason: 'local' });
    log.add({ ...call, kind: 'outgoing', reason: 'remote' });
    log.add({ ...call, reason: 'busy' });
    const reopened = await CallHistory.open(path, silentLogger);
    expect(reopened.unseenMissedCalls()).toBe(2);
    expect(reopened.markCallsSeen()).toBe(true);
    expect(reopened.markCallsSeen()).toBe(false);
    const again = await CallHistory.open(path, silentLogger);
    expect(again.unseenMissedCalls()).toBe(0);
    again.add(call);
    expect(again.unseenMissedCalls()).toBe(1);
    again.clear();
    expect(again.unseenMissedCalls()).toBe(0);
  });
});
