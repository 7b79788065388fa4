import * as sip from 'sip';
import { describe, expect, it } from 'vitest';
import {
  firstRseq,
  formatRack,
  isNextRseq,
  parseRack,
  reliableRseq,
  requiresReliable,
  sameRack,
} from '../../../service/sip/reliable-provisional.js';

function response(status: number, lines: string): sip.Response {
  const text =
    `SIP/2.0 ${status} Progress\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1\r\n` +
    'From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>;tag=2\r\nCall-ID: r@x\r\nCSeq: 7 INVITE\r\n' +
    lines.replace(/\n/g, '\r\n') +
    'Content-Length: 0\r\n\r\n';
  const m = sip.parse(text);
  if (!m || !('status' in m)) {
    throw new Error('unparsable');
  }
  return m;
}

describe('reliable provisional responses (RFC 3262)', () => {
  it('takes a provisional as reliable only with Require: 100rel and a valid RSeq', () => {
    expect(reliableRseq(response(183, 'Require: 100rel\nRSeq: 4711\n'))).toBe(4711);
    expect(reliableRseq(response(180, 'Require: timer, 100rel\nRSeq: 1\n'))).toBe(1);
    expect(reliableRseq(response(183, 'Supported: 100rel\nRSeq: 4711\n'))).toBeUndefined();
    expect(reliableRseq(response(183, 'Require: 100rel\n'))).toBeUndefined();
    expect(reliableRseq(response(183, 'Require: 100rel\nRSeq: 0\n'))).toBeUndefined();
    expect(reliableRseq(response(183, 'Require: 100rel\nRSeq: 4294967296\n'))).toBeUndefined();
    expect(reliableRseq(response(183, 'Require: 100rel\nRSeq: 12a\n'))).toBeUndefined();
    // A 100 and a final response are never reliable provisionals.
    expect(reliableRseq(response(100, 'Require: 100rel\nRSeq: 5\n'))).toBeUndefined();
    expect(reliableRseq(response(200, 'Require: 100rel\nRSeq: 5\n'))).toBeUndefined();
  });

  it('writes and reads RAck, and matches a PRACK only to the provisional it names', () => {
    const rack = { rseq: 4711, cseq: 7, method: 'INVITE' };
    expect(formatRack(rack)).toBe('4711 7 INVITE');
    expect(parseRack(' 4711  7 invite ')).toEqual(rack);
    expect(sameRack(parseRack('4711 7 INVITE') ?? rack, rack)).toBe(true);
    expect(sameRack(parseRack('4712 7 INVITE') ?? rack, rack)).toBe(false);
    expect(sameRack(parseRack('4711 8 INVITE') ?? rack, rack)).toBe(false);
    expect(parseRack('4711 INVITE')).toBeUndefined();
    expect(parseRack(undefined)).toBeUndefined();
  });

  it('acknowledges the first reliable provisional and each next one in order, not retransmissions', () => {
    expect(isNextRseq(900, undefined)).toBe(true);
    expect(isNextRseq(901, 900)).toBe(true);
    expect(isNextRseq(900, 900)).toBe(false);
    expect(isNextRseq(903, 901)).toBe(false);
  });

  it("requires reliability of us only where the caller's INVITE requires it", () => {
    expect(requiresReliable({ require: '100rel' })).toBe(true);
    expect(requiresReliable({ require: 'timer, 100REL' })).toBe(true);
    expect(requiresReliable({ supported: '100rel' })).toBe(false);
  });

  it("starts a dialog's RSeq between 1 and 2^31 - 1", () => {
    expect(firstRseq(0)).toBe(1);
    expect(firstRseq(0.999999999)).toBeLessThanOrEqual(2 ** 31 - 1);
  });
});
