import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UnfinishedCalls } from '../../../service/history/unfinished-calls.js';
import { silentLogger } from '../../../service/log/logger.js';

const entry = {
  line: 'sip0',
  kind: 'outgoing',
  number: '2001',
  name: '',
  startedAt: 1_700_000_000_000,
  duration: 42,
  emergency: false,
  reason: 'interrupted',
  forwarded: 'no-reply',
  forwardedFrom: '2099',
};

describe('calls a stopped daemon left in progress', () => {
  it('hands them to the log once and removes the file', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'carphone-unfinished-')), 'calls-in-progress.json');
    writeFileSync(path, JSON.stringify([entry]));
    expect(UnfinishedCalls.takeLeftover(path, silentLogger)).toEqual([entry]);
    expect(existsSync(path)).toBe(false);
    expect(UnfinishedCalls.takeLeftover(path, silentLogger)).toEqual([]);
  });

  it('drops a torn or foreign file, and entries that are not calls, without failing the start', () => {
    const dir = mkdtempSync(join(tmpdir(), 'carphone-unfinished-'));
    const torn = join(dir, 'torn.json');
    writeFileSync(torn, '[{"line": "sip0", "kind": "outg');
    expect(UnfinishedCalls.takeLeftover(torn, silentLogger)).toEqual([]);
    expect(existsSync(torn)).toBe(false);
    const mixed = join(dir, 'mixed.json');
    writeFileSync(
      mixed,
      JSON.stringify([
        entry,
        { ...entry, kind: 'teleported' },
        { ...entry, duration: '42' },
        { ...entry, forwarded: 'sideways' },
        7,
      ]),
    );
    expect(UnfinishedCalls.takeLeftover(mixed, silentLogger)).toEqual([entry]);
    writeFileSync(mixed, JSON.stringify({ not: 'a list' }));
    expect(UnfinishedCalls.takeLeftover(mixed, silentLogger)).toEqual([]);
  });

  it('reads a call from a file written before calls recorded their forwarding as one not forwarded', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'carphone-unfinished-')), 'calls-in-progress.json');
    const older: Record<string, unknown> = { ...entry };
    delete older['forwarded'];
    delete older['forwardedFrom'];
    writeFileSync(path, JSON.stringify([older]));
    expect(UnfinishedCalls.takeLeftover(path, silentLogger)).toEqual([
      { ...older, forwarded: '', forwardedFrom: '' },
    ]);
  });
});
