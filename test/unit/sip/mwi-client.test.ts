import type * as sip from 'sip';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../service/core/clock.js';
import { silentLogger } from '../../../service/log/logger.js';
import type { MessageSummary } from '../../../service/sip/message-summary.js';
import { MwiClient } from '../../../service/sip/mwi-client.js';
import type { SipStack } from '../../../service/sip/stack.js';

/** A client that was never started (it sends nothing), and the summaries it reported. */
function client(): { mwi: MwiClient; summaries: MessageSummary[] } {
  const summaries: MessageSummary[] = [];
  const mwi = new MwiClient({
    stack: {} as SipStack,
    clock: systemClock,
    logger: silentLogger,
    target: 'sip:1000@example.com',
    aor: 'sip:1000@example.com',
    contact: 'sip:1000@127.0.0.1:5060',
    credentials: undefined,
    proxy: undefined,
    expires: 3600,
    userAgent: 'test',
    onSummary: (s) => summaries.push(s),
    onStatus: () => undefined,
  });
  return { mwi, summaries };
}

function notify(body: string, extra: Partial<sip.Headers> = {}): sip.Request {
  return {
    method: 'NOTIFY',
    uri: 'sip:1000@127.0.0.1:5060',
    headers: {
      from: { uri: 'sip:vm@example.com', params: { tag: 'vm' } },
      to: { uri: 'sip:1000@example.com', params: {} },
      'call-id': 'unsolicited@vm',
      cseq: { method: 'NOTIFY', seq: 1 },
      event: 'message-summary',
      'content-type': 'application/simple-message-summary',
      ...extra,
    },
    content: body,
  };
}

describe('the voicemail client taking NOTIFYs', () => {
  it('reports an unsolicited summary and answers 200', () => {
    const { mwi, summaries } = client();
    expect(mwi.takeNotify(notify('Messages-Waiting: yes\r\nVoice-Message: 2/0\r\n'))).toEqual({
      status: 200,
      reason: 'OK',
    });
    expect(summaries).toEqual([{ waiting: true, voice: { new: 2, old: 0 } }]);
  });

  it('answers a body it cannot read 400 with a reason phrase that cannot break the status line', () => {
    const { mwi, summaries } = client();
    const answer = mwi.takeNotify(notify('Messages-Waiting: yes\r\nVoice-Message: 1\r2 SIP/2.0\u0000\r\n'));
    expect(answer.status).toBe(400);
    expect(answer.reason).toMatch(/^Bad Request \(/);
    expect([...answer.reason].some((ch) => ch === '\r' || ch === '\n' || ch === '\u0000')).toBe(false);
    expect(summaries).toEqual([]);
  });

  it('answers another content type 415 and a dialog it never made 481, reporting nothing', () => {
    const { mwi, summaries } = client();
    const yes = 'Messages-Waiting: yes\r\n';
    expect(mwi.takeNotify(notify(yes, { 'content-type': 'text/plain' })).status).toBe(415);
    expect(
      mwi.takeNotify(notify(yes, { to: { uri: 'sip:1000@example.com', params: { tag: 'elsewhere' } } }))
        .status,
    ).toBe(481);
    expect(summaries).toEqual([]);
  });
});
