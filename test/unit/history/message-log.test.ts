import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CallHistory, type NewMessageEntry } from '../../../service/history/call-history.js';
import { silentLogger } from '../../../service/log/logger.js';

const text = (n: number): NewMessageEntry => ({
  line: 'sip0',
  direction: n % 2 === 0 ? 'incoming' : 'outgoing',
  number: `+4915112345${String(n).padStart(3, '0')}`,
  name: '',
  text: `message ${n}`,
  at: 1_700_000_000_000 + n,
  state: n % 2 === 0 ? 'received' : 'sent',
  reason: '',
});

describe('the message log', () => {
  it('keeps the newest 1000 text messages in the call log file, newest first, across a reopen', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'carphone-messages-')), 'history.sqlite');
    const log = await CallHistory.open(path, silentLogger);
    for (let n = 1; n <= 1003; n++) {
      log.addMessage(text(n));
    }
    const reopened = await CallHistory.open(path, silentLogger);
    const all = reopened.recentMessages(5000);
    expect(all).toHaveLength(1000);
    expect(all[0]).toMatchObject({ id: 1003, text: 'message 1003', direction: 'outgoing', state: 'sent' });
    expect(all.at(-1)).toMatchObject({ text: 'message 4' });
  });

  it('counts the texts received as unread until they are marked read, across a reopen', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'carphone-messages-')), 'history.sqlite');
    const log = await CallHistory.open(path, silentLogger);
    const received = log.addMessage(text(2));
    expect(log.addMessage(text(3)).unread).toBe(false);
    log.addMessage(text(4));
    expect(received.unread).toBe(true);
    const reopened = await CallHistory.open(path, silentLogger);
    expect(reopened.unreadMessages()).toBe(2);
    expect(reopened.markMessagesRead()).toBe(true);
    expect(reopened.markMessagesRead()).toBe(false);
    const again = await CallHistory.open(path, silentLogger);
    expect(again.unreadMessages()).toBe(0);
    expect(again.recentMessages(3).map((m) => m.unread)).toEqual([false, false, false]);
  });

  it('clears the messages and leaves the calls', async () => {
    const log = await CallHistory.open(undefined, silentLogger);
    log.add({
      line: 'sip0',
      kind: 'missed',
      number: '2002',
      name: '',
      startedAt: 0,
      duration: 0,
      emergency: false,
      reason: 'remote',
      forwarded: '',
      forwardedFrom: '',
    });
    log.addMessage(text(1));
    log.clearMessages();
    expect(log.recentMessages(10)).toEqual([]);
    expect(log.recent(10)).toHaveLength(1);
  });
});
