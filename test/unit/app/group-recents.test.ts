import { describe, expect, it } from 'vitest';
import { groupRecents } from '../../../app/renderer/group-recents.js';
import type { RecentView } from '../../../app/shared/api.js';

let nextId = 100;
const call = (number: string, kind: RecentView['kind'], forwardedFrom = ''): RecentView => ({
  id: nextId--,
  kind,
  number,
  name: '',
  startTime: '2026-12-02T15:00:00+0000',
  duration: 0,
  emergency: false,
  forwarded: forwardedFrom !== '',
  forwardedFrom,
});

describe('Recents rows', () => {
  it('makes consecutive calls of one number and kind one row with their count, the newest standing for them', () => {
    const calls = [
      call('2002', 'missed'),
      call('2002', 'missed'),
      call('2002', 'missed'),
      call('2002', 'incoming'),
      call('2001', 'outgoing'),
      call('2002', 'missed'),
      call('2002', 'missed', '2099'),
    ];
    const rows = groupRecents(calls, 8);
    expect(rows.map((r) => [r.number, r.kind, r.count, r.forwardedFrom])).toEqual([
      ['2002', 'missed', 3, ''],
      ['2002', 'incoming', 1, ''],
      ['2001', 'outgoing', 1, ''],
      ['2002', 'missed', 1, ''],
      ['2002', 'missed', 1, '2099'],
    ]);
    expect(rows[0]?.id).toBe(calls[0]?.id);
  });

  it('stops at the number of rows, counting the calls of the last row in full', () => {
    const calls = [call('1', 'outgoing'), call('2', 'missed'), call('2', 'missed'), call('3', 'missed')];
    expect(groupRecents(calls, 2).map((r) => [r.number, r.count])).toEqual([
      ['1', 1],
      ['2', 2],
    ]);
    expect(groupRecents([], 8)).toEqual([]);
  });
});
