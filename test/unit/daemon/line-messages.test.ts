import type * as sip from 'sip';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../service/core/clock.js';
import { CarphoneError } from '../../../service/core/errors.js';
import {
  LineMessages,
  RETRY_STEP_MS,
  SEND_ATTEMPTS,
  TEXT_VALIDITY_MS,
  type OutgoingText,
  type PreparedText,
} from '../../../service/daemon/line-messages.js';
import type { WaitingText } from '../../../service/history/waiting-texts.js';
import { silentLogger } from '../../../service/log/logger.js';
import type { MessageSenderOptions } from '../../../service/sip/message-sender.js';
import type { SipStack } from '../../../service/sip/stack.js';
import type { TextAnswer } from '../../../service/sip/text-message.js';
import type { UserAgent } from '../../../service/sip/user-agent.js';
import { submitOf } from '../../harness/sms-centre.js';

/**
 * A line's texts, a stack that records what it is asked to send, and what the listener heard. The line
 * can send while `line.up` is true.
 */
function setup(): {
  clock: ManualClock;
  messages: LineMessages;
  line: { up: boolean };
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
  const line = { up: false };
  const sender: MessageSenderOptions = {
    stack: () => stack,
    clock,
    aor: 'sip:1000@example.com',
    credentials: undefined,
    proxy: undefined,
    userAgent: 'test',
  };
  const messages = new LineMessages(clock, silentLogger, () => (line.up ? sender : undefined), {
    received: () => undefined,
    added: () => undefined,
    finished: (m) => finished.push(m),
    unanswered: (texts) => saved.push(texts),
    smsParts: () => undefined,
    statusReport: () => undefined,
    smsTaken: () => undefined,
  });
  return { clock, messages, line, sent, finished, saved };
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
    const { messages, line, sent, finished, saved } = setup();
    messages.submit(text('2001', 'first'));
    messages.submit(text('2002', 'second'));
    expect(sent).toEqual([]);
    expect(messages.pending.map((m) => m.state)).toEqual(['pending', 'pending']);
    expect(saved.at(-1)?.map((t) => t.text)).toEqual(['first', 'second']);
    line.up = true;
    messages.sendWaiting();
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
    const { messages, line, sent, finished } = setup();
    const waiting = messages.submit(text('2001', 'never mind'));
    line.up = true;
    const going = messages.submit(text('2002', 'on its way'));
    expect(sent).toHaveLength(1);
    messages.cancel(waiting.id);
    expect(finished).toMatchObject([{ id: waiting.id, state: 'cancelled' }]);
    expect(() => messages.cancel(going.id)).toThrow(CarphoneError);
    expect(() => messages.cancel(waiting.id)).toThrow(/already gone to the network/);
    messages.sendWaiting();
    expect(sent).toHaveLength(1);
    await settle();
  });

  it('fail 24 hours after the driver sent them if the line never could send, counted from then across a restart', () => {
    const { clock, messages, finished } = setup();
    messages.submit(text('2001', 'late'));
    // Brought back by a restart, sent by the driver 23 hours ago.
    messages.submit(text('2002', 'older'), clock.now() - 23 * 3600 * 1000);
    clock.advance(3600 * 1000);
    expect(finished.map((m) => [m.text, m.state, m.reason])).toEqual([
      ['older', 'failed', 'not sent within 24 h: no network'],
    ]);
    clock.advance(TEXT_VALIDITY_MS - 3600 * 1000);
    expect(finished.map((m) => m.text)).toEqual(['older', 'late']);
  });

  it('are sent again after a failure that passes, 5, 10 and 15 s later, and fail with its reason after the fourth', async () => {
    const { clock, messages, line, sent, finished } = setup();
    line.up = true;
    messages.submit(text('2001', 'stuck in traffic'));
    const fail = async (status: number, reason: string): Promise<void> => {
      sent.at(-1)?.answer(status, reason);
      await settle();
    };
    await fail(503, 'Service Unavailable');
    for (const [wait, status] of [
      [RETRY_STEP_MS, 408],
      [2 * RETRY_STEP_MS, 500],
      [3 * RETRY_STEP_MS, 504],
    ] as const) {
      const before = sent.length;
      clock.advance(wait - 1);
      expect(sent).toHaveLength(before);
      clock.advance(1);
      expect(sent).toHaveLength(before + 1);
      expect(sent.at(-1)?.rq.content).toBe('stuck in traffic');
      expect(finished).toEqual([]);
      await fail(status, 'Gateway Timeout');
    }
    expect(sent).toHaveLength(SEND_ATTEMPTS);
    expect(finished.map((m) => [m.state, m.reason])).toEqual([['failed', '504 Gateway Timeout']]);
    clock.advance(60_000);
    expect(sent).toHaveLength(SEND_ATTEMPTS);
  });

  it('are not sent again after an answer that sending again would not change', async () => {
    const { clock, messages, line, sent, finished } = setup();
    line.up = true;
    messages.submit(text('2001', 'hello'));
    sent[0]?.answer(480, 'Temporarily Unavailable');
    await settle();
    clock.advance(60_000);
    expect(sent).toHaveLength(1);
    expect(finished.map((m) => m.reason)).toEqual(['480 Temporarily Unavailable']);
  });

  it('wait for the line, uncounted, when it went down while they were with the network; can be cancelled then', async () => {
    const { clock, messages, line, sent, finished, saved } = setup();
    line.up = true;
    const first = messages.submit(text('2001', 'tunnel'));
    messages.submit(text('2002', 'second'));
    line.up = false;
    sent[0]?.answer(408, 'Request Timeout (no answer)');
    sent[1]?.answer(503, 'Service Unavailable (the line is down)');
    await settle();
    clock.advance(10 * 60_000);
    expect(sent).toHaveLength(2);
    expect(finished).toEqual([]);
    expect(saved.at(-1)?.map((t) => t.text)).toEqual(['tunnel', 'second']);
    messages.cancel(first.id);
    // The line comes and goes more often than a text is sent again: it never counts.
    for (let i = 0; i <= SEND_ATTEMPTS; i++) {
      line.up = true;
      messages.sendWaiting();
      line.up = false;
      sent.at(-1)?.answer(503, 'Service Unavailable (the line is down)');
      await settle();
    }
    expect(finished.map((m) => [m.text, m.state])).toEqual([['tunnel', 'cancelled']]);
    line.up = true;
    messages.sendWaiting();
    expect(sent.map((s) => s.rq.content)).toEqual([
      'tunnel',
      ...Array<string>(SEND_ATTEMPTS + 3).fill('second'),
    ]);
    sent.at(-1)?.answer(200, 'OK');
    await settle();
    expect(finished.map((m) => [m.text, m.state])).toEqual([
      ['tunnel', 'cancelled'],
      ['second', 'sent'],
    ]);
  });
});

describe("a line's texts sent as SMS over IP", () => {
  /** The RP-DATA the line sent the centre, and a way to answer it with an RP message of the centre's. */
  function smsSetup(): ReturnType<typeof setup> & {
    rpData: () => Buffer[];
    rpAnswer: (bytes: number[]) => TextAnswer | undefined;
  } {
    const base = setup();
    let handler: ((rq: sip.Request) => TextAnswer) | undefined;
    base.messages.listen({ handleMessages: (h: typeof handler) => (handler = h) } as unknown as UserAgent);
    const rpData = (): Buffer[] =>
      base.sent.map((s) => Buffer.from(s.rq.content ?? '', 'latin1')).filter((b) => b[0] === 0x00);
    const rpAnswer = (bytes: number[]): TextAnswer | undefined =>
      handler?.({
        method: 'MESSAGE',
        uri: 'sip:1000@example.com',
        headers: { 'content-type': 'application/vnd.3gpp.sms', 'call-id': 'answer@smsc' },
        content: Buffer.from(bytes).toString('latin1'),
      });
    return { ...base, rpData, rpAnswer };
  }
  const sms = (body: string): PreparedText => ({
    ...text('+4917012345678', body),
    sms: {
      destination: '+4917012345678',
      serviceCentre: '+49170123456',
      psi: 'sip:smsc@example.com',
      statusReport: false,
    },
  });
  const tpdu = (rp: Buffer | undefined): Buffer => submitOf(rp ?? Buffer.alloc(12));

  it('send a part again with its TP-MR and TP-RD set after no RP-ACK or a passing RP-ERROR, never a part the centre took', async () => {
    const { clock, messages, line, sent, finished, rpData, rpAnswer } = smsSetup();
    line.up = true;
    // 200 septets: two parts.
    messages.submit(sms('x'.repeat(200)));
    sent.at(-1)?.answer(202, 'Accepted');
    await settle();
    const [first] = rpData();
    expect(rpAnswer([0x03, first?.[1] ?? 0])).toEqual({ status: 200, reason: 'OK' });
    await settle();
    sent.at(-1)?.answer(202, 'Accepted');
    await settle();
    const second = rpData()[1];
    expect(tpdu(second)[0]).toBe(0x51);
    // The centre never answers: after 60 s the part goes again, 5 s later, marked as a repeat.
    clock.advance(60_000);
    await settle();
    clock.advance(RETRY_STEP_MS);
    const repeat = rpData()[2];
    expect(tpdu(repeat)[0]).toBe(0x51 | 0x04);
    expect(tpdu(repeat).subarray(1)).toEqual(tpdu(second).subarray(1));
    sent.at(-1)?.answer(202, 'Accepted');
    await settle();
    // Temporary failure (RP-Cause 41): once more, still the same part, still a repeat.
    rpAnswer([0x05, repeat?.[1] ?? 0, 0x01, 41]);
    await settle();
    clock.advance(2 * RETRY_STEP_MS);
    const again = rpData()[3];
    expect(tpdu(again)).toEqual(tpdu(repeat));
    expect(rpData()).toHaveLength(4);
    sent.at(-1)?.answer(202, 'Accepted');
    await settle();
    rpAnswer([0x03, again?.[1] ?? 0]);
    await settle();
    expect(finished.map((m) => [m.state, m.reason])).toEqual([['sent', '']]);
  });

  it('go on after a restart from the part the centre had not acknowledged, with its TP-MR and TP-RD set', async () => {
    const before = smsSetup();
    before.line.up = true;
    before.messages.submit(sms('z'.repeat(200)));
    // Kept before the first part went out: its parts as built, none acknowledged.
    expect(before.saved.at(-1)?.[0]?.sms).toMatchObject({ acknowledged: 0 });
    expect(before.saved.at(-1)?.[0]?.sms?.parts).toHaveLength(2);
    before.sent.at(-1)?.answer(202, 'Accepted');
    await settle();
    before.rpAnswer([0x03, before.rpData()[0]?.[1] ?? 0]);
    await settle();
    const second = before.rpData()[1];
    const saved = before.saved.at(-1)?.[0];
    expect(saved?.sms?.acknowledged).toBe(1);

    // carphoned stopped here; the next run brings the text back from what was saved.
    const after = smsSetup();
    after.line.up = true;
    after.messages.submit(sms(saved?.text ?? ''), saved?.at, saved?.sms);
    const [resent] = after.rpData();
    expect(after.rpData()).toHaveLength(1);
    expect(tpdu(resent)[0]).toBe((tpdu(second)[0] ?? 0) | 0x04);
    expect(tpdu(resent).subarray(1)).toEqual(tpdu(second).subarray(1));
    after.sent.at(-1)?.answer(202, 'Accepted');
    await settle();
    after.rpAnswer([0x03, resent?.[1] ?? 0]);
    await settle();
    expect(after.finished.map((m) => m.state)).toEqual(['sent']);
    // A new text's reference follows the restored ones.
    after.messages.submit(sms('new'));
    expect(tpdu(after.rpData()[1])[1]).toBe((tpdu(second)[1] ?? 0) + 1);
  });

  it('fail at once on an RP-ERROR whose cause lasts', async () => {
    const { clock, messages, line, sent, finished, rpData, rpAnswer } = smsSetup();
    line.up = true;
    const submitted = messages.submit(sms('hello'));
    sent.at(-1)?.answer(202, 'Accepted');
    await settle();
    rpAnswer([0x05, rpData()[0]?.[1] ?? 0, 0x01, 21]);
    await settle();
    clock.advance(60_000);
    expect(rpData()).toHaveLength(1);
    expect(finished).toMatchObject([{ id: submitted.id, state: 'failed', reason: 'RP-ERROR cause 21' }]);
  });

  it('cannot be cancelled once the centre took a part, even while waiting to send the next again', async () => {
    const { messages, line, sent, rpData, rpAnswer } = smsSetup();
    line.up = true;
    const submitted = messages.submit(sms('y'.repeat(200)));
    sent.at(-1)?.answer(202, 'Accepted');
    await settle();
    rpAnswer([0x03, rpData()[0]?.[1] ?? 0]);
    await settle();
    sent.at(-1)?.answer(503, 'Service Unavailable');
    await settle();
    expect(() => messages.cancel(submitted.id)).toThrow(/already gone to the network/);
  });
});
