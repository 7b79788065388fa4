import type * as sip from 'sip';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../service/core/clock.js';
import { CarphoneError } from '../../../service/core/errors.js';
import {
  LineMessages,
  TEXT_VALIDITY_MS,
  type OutgoingText,
  type PreparedText,
} from '../../../service/daemon/line-messages.js';
import type { WaitingText } from '../../../service/history/waiting-texts.js';
import { silentLogger } from '../../../service/log/logger.js';
import type { MessageSenderOptions } from '../../../service/sip/message-sender.js';
import type { SipStack } from '../../../service/sip/stack.js';

/** A line's texts, a stack that records what it is asked to send, and what the listener heard. */
function setup(): {
  clock: ManualClock;
  messages: LineMessages;
  sender: MessageSenderOptions;
  sent: { rq: sip.Request; answer: (status: number, reason: string) => void }[];
  finished: OutgoingText[];
  saved: WaitingText[][];
} {
  const clock = new ManualClock();
  const sent: { rq: sip.Request; answer: (status: number, reason: string) => void }[] = [];
  const stack = {
    send: (rq: sip.Request, onResponse: (rs: sip.Response) => void) =>
      sent.push({ rq, answer: (status, reason) => onResponse({ status, reason, headers: {} }) }),
  } as unknown as SipStack;
  const finished: OutgoingText[] = [];
  const saved: WaitingText[][] = [];
  const messages = new LineMessages(clock, silentLogger, {
    received: () => undefined,
    added: () => undefined,
    finished: (m) => finished.push(m),
    unanswered: (texts) => saved.push(texts),
    smsParts: () => undefined,
  });
  const sender: MessageSenderOptions = {
    stack: () => stack,
    clock,
    aor: 'sip:1000@example.com',
    credentials: undefined,
    proxy: undefined,
    userAgent: 'test',
  };
  return { clock, messages, sender, sent, finished, saved };
}

const text = (to: string, body: string): PreparedText => ({
  to,
  uri: `sip:${to}@example.com`,
  text: body,
  body,
});
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

describe("a line's outgoing texts", () => {
  it('wait, kept for a restart, while the line cannot send, and go in order once it can', async () => {
    const { messages, sender, sent, finished, saved } = setup();
    messages.submit(text('2001', 'first'), undefined);
    messages.submit(text('2002', 'second'), undefined);
    expect(sent).toEqual([]);
    expect(messages.pending.map((m) => m.state)).toEqual(['pending', 'pending']);
    expect(saved.at(-1)?.map((t) => t.text)).toEqual(['first', 'second']);
    messages.sendWaiting(sender);
    expect(sent.map((s) => [s.rq.uri, s.rq.content])).toEqual([
      ['sip:2001@example.com', 'first'],
      ['sip:2002@example.com', 'second'],
    ]);
    // Sent and not yet answered: still kept, for a restart to send again.
    expect(saved.at(-1)).toHaveLength(2);
    sent[1]?.answer(202, 'Accepted');
    sent[0]?.answer(404, 'Not Found');
    await settle();
    expect(finished.map((m) => [m.text, m.state, m.reason])).toEqual([
      ['second', 'sent', ''],
      ['first', 'failed', '404 Not Found'],
    ]);
    expect(saved.at(-1)).toEqual([]);
    expect(messages.pending).toEqual([]);
  });

  it('can be cancelled while waiting, not once with the network', async () => {
    const { messages, sender, sent, finished } = setup();
    const waiting = messages.submit(text('2001', 'never mind'), undefined);
    const going = messages.submit(text('2002', 'on its way'), sender);
    expect(sent).toHaveLength(1);
    messages.cancel(waiting.id);
    expect(finished).toMatchObject([{ id: waiting.id, state: 'cancelled' }]);
    expect(() => messages.cancel(going.id)).toThrow(CarphoneError);
    expect(() => messages.cancel(waiting.id)).toThrow(/already gone to the network/);
    messages.sendWaiting(sender);
    expect(sent).toHaveLength(1);
    await settle();
  });

  it('fail 24 hours after the driver sent them if the line never could send, counted from then across a restart', () => {
    const { clock, messages, finished } = setup();
    messages.submit(text('2001', 'late'), undefined);
    // Brought back by a restart, sent by the driver 23 hours ago.
    messages.submit(text('2002', 'older'), undefined, clock.now() - 23 * 3600 * 1000);
    clock.advance(3600 * 1000);
    expect(finished.map((m) => [m.text, m.state, m.reason])).toEqual([
      ['older', 'failed', 'not sent within 24 h: no network'],
    ]);
    clock.advance(TEXT_VALIDITY_MS - 3600 * 1000);
    expect(finished.map((m) => m.text)).toEqual(['older', 'late']);
  });
});
