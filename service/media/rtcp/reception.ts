/**
 * What a receiver knows about one RTP source (RFC 3550 appendix A.1, A.3, A.8): the extended highest
 * sequence number, packets expected and received, the interval's fraction lost, and the interarrival
 * jitter. Pure: the arrival time is given by the caller, so traces can be replayed in tests.
 */
export interface ReceptionReportFields {
  ssrc: number;
  /** 0-255: lost / expected in the interval since the last report, as a fixed point fraction. */
  fractionLost: number;
  /** Packets lost since the start (expected - received); may be negative with duplicates. */
  cumulativeLost: number;
  extendedHighestSeq: number;
  /** Interarrival jitter in RTP timestamp units. */
  jitter: number;
}

export interface ReceptionSummary {
  ssrc: number;
  expected: number;
  received: number;
  lost: number;
  /** Runs of consecutive lost packets seen as sequence gaps: the burstiness of the loss. */
  lossRuns: number;
  jitterMs: number;
}

const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;
const SEQ_MOD = 0x10000;

export class ReceptionStats {
  private ssrc: number | undefined;
  private baseSeq = 0;
  private maxSeq = 0;
  private cycles = 0;
  private received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private lossRuns = 0;
  private jitter = 0;
  private lastTransit: number | undefined;

  constructor(private readonly clockRate: number) {}

  /** Records one packet; a new SSRC starts the statistics afresh (the far end restarted its stream). */
  onPacket(ssrc: number, seq: number, rtpTimestamp: number, arrivalMs: number): void {
    if (ssrc !== this.ssrc) {
      this.reset(ssrc, seq);
    }
    const delta = (seq - this.maxSeq + SEQ_MOD) % SEQ_MOD;
    if (delta > 0 && delta < MAX_DROPOUT) {
      if (seq < this.maxSeq) {
        this.cycles += SEQ_MOD;
      }
      if (delta > 1) {
        this.lossRuns++;
      }
      this.maxSeq = seq;
    } else if (delta !== 0 && delta <= SEQ_MOD - MAX_MISORDER) {
      // A jump far ahead or far back: the sender restarted its sequence; take it as the new base.
      this.reset(ssrc, seq);
    }
    this.received++;
    const arrival = (arrivalMs * this.clockRate) / 1000;
    const transit = arrival - rtpTimestamp;
    if (this.lastTransit !== undefined) {
      let d = Math.abs(transit - this.lastTransit);
      // A timestamp wrap shows up as a transit jump of about 2^32.
      if (d > 2 ** 31) {
        d = Math.abs(d - 2 ** 32);
      }
      this.jitter += (d - this.jitter) / 16;
    }
    this.lastTransit = transit;
  }

  private reset(ssrc: number, seq: number): void {
    this.ssrc = ssrc;
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.cycles = 0;
    this.received = 0;
    this.expectedPrior = 0;
    this.receivedPrior = 0;
    this.lossRuns = 0;
    this.jitter = 0;
    this.lastTransit = undefined;
  }

  private expected(): number {
    return this.cycles + this.maxSeq - this.baseSeq + 1;
  }

  summary(): ReceptionSummary | undefined {
    if (this.ssrc === undefined) {
      return undefined;
    }
    const expected = this.expected();
    return {
      ssrc: this.ssrc,
      expected,
      received: this.received,
      lost: Math.max(0, expected - this.received),
      lossRuns: this.lossRuns,
      jitterMs: (this.jitter * 1000) / this.clockRate,
    };
  }

  /** The report block for this source; starts a new interval for the fraction lost. */
  report(): ReceptionReportFields | undefined {
    if (this.ssrc === undefined) {
      return undefined;
    }
    const expected = this.expected();
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.received - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fractionLost =
      expectedInterval <= 0 || lostInterval <= 0
        ? 0
        : Math.min(255, Math.floor((lostInterval << 8) / expectedInterval));
    return {
      ssrc: this.ssrc,
      fractionLost,
      cumulativeLost: Math.max(-0x800000, Math.min(0x7fffff, expected - this.received)),
      extendedHighestSeq: (this.cycles + this.maxSeq) >>> 0,
      jitter: Math.floor(this.jitter),
    };
  }
}
