import { describe, expect, it } from 'vitest';
import {
  checkForwardingNumber,
  checkNoReplyTimeout,
  forwardedDecision,
  forwardingTarget,
  NO_FORWARDING,
} from '../../../service/daemon/line-forwarding.js';

describe("a line's call forwarding", () => {
  const all = { ...NO_FORWARDING, unconditional: '+4917655512', busy: '*86' };

  it('forwards every call unconditionally, a busy one on busy, and leaves the rest as the line decided', () => {
    expect(forwardedDecision('incoming', all, false)).toEqual({ forwardTo: '+4917655512' });
    expect(forwardedDecision('busy', { ...all, unconditional: '' }, false)).toEqual({ forwardTo: '*86' });
    expect(forwardedDecision('waiting', { ...all, unconditional: '' }, false)).toBe('waiting');
    expect(forwardedDecision('busy', NO_FORWARDING, false)).toBe('busy');
  });

  it('never forwards a PSAP calling back after an eCall', () => {
    expect(forwardedDecision('incoming', all, true)).toBe('incoming');
    expect(forwardedDecision('busy', all, true)).toBe('busy');
  });

  it('takes what Dial takes and "", but no emergency number, nor a timeout outside 1-30 s', () => {
    for (const ok of ['', '+4917655512', '*86', 'sip:mum@example.com']) {
      expect(() => checkForwardingNumber(ok)).not.toThrow();
    }
    for (const bad of ['112', '911', 'call mum']) {
      expect(() => checkForwardingNumber(bad)).toThrow(expect.objectContaining({ code: 'INVALID_FORMAT' }));
    }
    expect(() => forwardingTarget('sip:112@example.com', 'example.com')).toThrow(
      expect.objectContaining({ code: 'INVALID_FORMAT' }),
    );
    expect(forwardingTarget('+4917655512', 'ims.example')).toBe('sip:+4917655512@ims.example;user=phone');
    for (const bad of [0, 31, 2.5]) {
      expect(() => checkNoReplyTimeout(bad)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENTS' }));
    }
    expect(() => checkNoReplyTimeout(30)).not.toThrow();
  });
});
