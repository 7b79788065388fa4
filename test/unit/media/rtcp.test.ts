import { describe, expect, it } from 'vitest';
import { ReceptionStats } from '../../../service/media/rtcp/reception.js';
import { buildRtcp, ntpFromUnixMs, parseRtcp, RtcpError } from '../../../service/media/rtcp/packets.js';
import { RtcpState } from '../../../service/media/rtcp/rtcp-state.js';

/** A seeded generator, so that a failing trace can be replayed. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('reception statistics (RFC 3550 A.1, A.3, A.8)', () => {
  it('counts lost packets, loss runs and the interval fraction lost across a sequence wrap', () => {
    const r = new ReceptionStats(8000);
    // 200 packets starting just below the wrap; 10, 11, 12 and 150 never arrive.
    const missing = new Set([10, 11, 12, 150]);
    for (let i = 0; i < 200; i++) {
      if (!missing.has(i)) {
        r.onPacket(0xabc, (65500 + i) & 0xffff, i * 160, i * 20);
      }
    }
    const s = r.summary();
    expect(s).toMatchObject({ expected: 200, received: 196, lost: 4, lossRuns: 2 });
    const report = r.report();
    expect(report?.cumulativeLost).toBe(4);
    expect(report?.extendedHighestSeq).toBe(0x10000 + ((65500 + 199) & 0xffff));
    expect(report?.fractionLost).toBe(Math.floor((4 * 256) / 200));
    // A new interval with no loss reports fraction 0 but keeps the cumulative count.
    for (let i = 200; i < 250; i++) {
      r.onPacket(0xabc, (65500 + i) & 0xffff, i * 160, i * 20);
    }
    expect(r.report()).toMatchObject({ fractionLost: 0, cumulativeLost: 4 });
  });

  it('measures no jitter for evenly paced packets and about the mean deviation for jittered ones', () => {
    const even = new ReceptionStats(8000);
    for (let i = 0; i < 500; i++) {
      even.onPacket(1, i, i * 160, 1000 + i * 20);
    }
    expect(even.summary()?.jitterMs).toBeCloseTo(0, 6);

    const rand = lcg(7);
    const jittered = new ReceptionStats(8000);
    for (let i = 0; i < 5000; i++) {
      // Uniform extra delay of 0-40 ms: |D| between neighbours averages 40/3 ms.
      jittered.onPacket(1, i & 0xffff, i * 160, 1000 + i * 20 + rand() * 40);
    }
    const j = jittered.summary()?.jitterMs ?? 0;
    expect(j).toBeGreaterThan(10);
    expect(j).toBeLessThan(16.7);
  });

  it('starts afresh when the source changes its SSRC', () => {
    const r = new ReceptionStats(8000);
    for (let i = 0; i < 50; i += 2) {
      r.onPacket(1, i, i * 160, i * 20);
    }
    r.onPacket(2, 9000, 0, 2000);
    r.onPacket(2, 9001, 160, 2020);
    expect(r.summary()).toMatchObject({ ssrc: 2, expected: 2, received: 2, lost: 0 });
  });
});

describe('RTCP compound packets', () => {
  it('writes the 24-bit cumulative lost field as two’s complement and reads it back, negatives too', () => {
    for (const lost of [0, 4, 5000, 100000, -3]) {
      const block = {
        ssrc: 0x22222222,
        fractionLost: 12,
        cumulativeLost: lost,
        extendedHighestSeq: 0x1_0005,
        jitter: 77,
        lsr: 0x12345678,
        dlsr: 65536,
      };
      const bytes = buildRtcp({ ssrc: 0x11111111, cname: 'carphone@127.0.0.1', block });
      // RR header (8 bytes), then the block: SSRC (4), fraction (1), cumulative lost (3).
      expect(bytes[1]).toBe(201);
      const field = (bytes[13]! << 16) | (bytes[14]! << 8) | bytes[15]!;
      expect(field).toBe(lost & 0xffffff);
      const parsed = parseRtcp(bytes);
      expect(parsed.senderSsrc).toBe(0x11111111);
      expect(parsed.blocks[0]).toEqual(block);
    }
  });

  it('builds a sender report with NTP time and counts when RTP was sent', () => {
    const ntp = ntpFromUnixMs(Date.UTC(2026, 10, 30, 12, 0, 0, 500));
    const bytes = buildRtcp({
      ssrc: 5,
      cname: 'x',
      sender: { ntp, rtpTimestamp: 1234, packets: 50, octets: 8000 },
      bye: true,
    });
    expect(bytes[1]).toBe(200);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    expect(view.getUint32(8)).toBe(Date.UTC(2026, 10, 30, 12, 0, 0) / 1000 + 2208988800);
    expect(view.getUint32(12)).toBe(2 ** 31);
    expect(view.getUint32(20)).toBe(50);
    expect(view.getUint32(24)).toBe(8000);
    const parsed = parseRtcp(bytes);
    expect(parsed.senderReportNtp).toEqual(ntp);
    expect(parsed.bye).toBe(true);
  });

  it('rejects datagrams that are not RTCP with an RtcpError', () => {
    for (const junk of [new Uint8Array(0), new Uint8Array([0x80, 0, 0, 0]), new Uint8Array(40).fill(0xff)]) {
      expect(() => parseRtcp(junk)).toThrow(RtcpError);
    }
  });
});

describe('call quality from RTCP', () => {
  function peer(ssrc: number, clock: { mono: number; wall: number }, lateFrames = 0): RtcpState {
    return new RtcpState(
      ssrc,
      8000,
      `p${ssrc}`,
      { monotonicMs: () => clock.mono, wallMs: () => clock.wall },
      { localDelayMs: () => 20, lateFrames: () => lateFrames },
    );
  }

  it('computes the round-trip time from the far end’s LSR and DLSR', () => {
    // Two peers whose wall clocks differ by an hour: the RTT must not depend on that.
    const a = { mono: 0, wall: Date.UTC(2026, 0, 1) };
    const b = { mono: 0, wall: Date.UTC(2026, 0, 1, 1) };
    const alice = peer(0xa, a);
    const bob = peer(0xb, b);
    alice.onRtpSent(160);
    bob.onRtpReceived(0xa, 1, 160);
    alice.onRtpReceived(0xb, 1, 160);
    const sr = alice.buildReport(160);
    // 40 ms one way; bob holds the SR 100 ms before reporting.
    a.mono += 40;
    a.wall += 40;
    b.mono += 40;
    b.wall += 40;
    bob.onRtcp(sr);
    b.mono += 100;
    b.wall += 100;
    a.mono += 100;
    a.wall += 100;
    const rr = bob.buildReport(0);
    a.mono += 40;
    a.wall += 40;
    alice.onRtcp(rr);
    expect(alice.quality().roundTripMs).toBeCloseTo(80, 0);
  });

  it('rates a clean stream good and a stream with 9 % bursty loss poor', () => {
    const clock = { mono: 0, wall: 0 };
    const clean = peer(1, clock);
    const lossy = peer(2, clock);
    const rand = lcg(42);
    let bad = false;
    for (let i = 0; i < 10000; i++) {
      clock.mono = i * 20;
      clean.onRtpReceived(9, i, i * 160);
      // Gilbert-Elliott: bursts of 2 packets on average, 9 % loss in the long run.
      bad = bad ? rand() < 0.5 : rand() < 0.05;
      if (!bad) {
        lossy.onRtpReceived(9, i & 0xffff, i * 160);
      }
    }
    const good = clean.quality();
    expect(good).toMatchObject({ level: 'good', lossPct: 0 });
    expect(good.mos).toBeCloseTo(4.41, 2);
    const poor = lossy.quality();
    const loss = poor.lossPct;
    expect(loss).toBeGreaterThan(7.5);
    expect(loss).toBeLessThan(11);
    expect(poor.level).toBe('poor');
    // Bursts cost more than the same loss spread out: R is below the random-loss figure.
    expect(poor.rFactor).toBeLessThan(93.2 - (95 * loss) / (loss + 25.1));
  });

  it("counts frames the jitter buffer got too late as lost in R, not in the network's loss", () => {
    const clock = { mono: 0, wall: 0 };
    const onTime = peer(1, clock);
    // 3 % of the frames came after their turn: to the listener as good as lost.
    const late = peer(2, clock, 300);
    for (let i = 0; i < 10000; i++) {
      clock.mono = i * 20;
      onTime.onRtpReceived(9, i & 0xffff, i * 160);
      late.onRtpReceived(9, i & 0xffff, i * 160);
    }
    expect(late.quality().lossPct).toBe(0);
    // G.107 with Ie 0, Bpl 25.1 and random loss: Ie,eff = 95 × 3 / (3 + 25.1).
    const expected = (onTime.quality().rFactor ?? 0) - (95 * 3) / (3 + 25.1);
    expect(late.quality().rFactor).toBeCloseTo(expected, 1);
  });
});
