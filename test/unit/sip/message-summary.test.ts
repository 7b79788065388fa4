import { describe, expect, it } from 'vitest';
import {
  MessageSummaryError,
  parseMessageSummary,
  voicemailCount,
} from '../../../service/sip/message-summary.js';

describe('message summary (RFC 3842)', () => {
  it("reads RFC 3842's own example: waiting, the account, new and old voice messages with the urgent ones", () => {
    const body =
      'Messages-Waiting: yes\r\nMessage-Account: sip:alice@vmail.example.com\r\n' +
      'Voice-Message: 4/8 (1/2)\r\n';
    expect(parseMessageSummary(body)).toEqual({
      waiting: true,
      account: 'sip:alice@vmail.example.com',
      voice: { new: 4, old: 8, newUrgent: 1, oldUrgent: 2 },
    });
  });

  it('takes header names in any case, bare LF line ends, other message classes, and stops at the empty line', () => {
    const body =
      'messages-waiting: No\nFax-Message: 1/0\nvoice-message: 0/3\n\nTo: <sip:alice@example.com>\nVoice-Message: 9/9\n';
    expect(parseMessageSummary(body)).toEqual({ waiting: false, voice: { new: 0, old: 3 } });
  });

  it.each([
    ['no status line', 'Voice-Message: 1/0\r\n'],
    ['a status other than yes or no', 'Messages-Waiting: maybe\r\n'],
    ['counts that are not new/old', 'Messages-Waiting: yes\r\nVoice-Message: lots\r\n'],
    ['a line without a colon', 'Messages-Waiting: yes\r\ngarbage\r\n'],
    ['a count too long to be one', 'Messages-Waiting: yes\r\nVoice-Message: 12345678901/0\r\n'],
  ])('refuses a body with %s, naming what is wrong', (_, body) => {
    expect(() => parseMessageSummary(body)).toThrow(MessageSummaryError);
  });

  it("gives oFono's count: the new voice messages, 255 for 255 or more, 0 where not counted", () => {
    expect(voicemailCount({ waiting: true, voice: { new: 3, old: 5 } })).toBe(3);
    expect(voicemailCount({ waiting: true, voice: { new: 1000, old: 0 } })).toBe(255);
    expect(voicemailCount({ waiting: true })).toBe(0);
  });
});
