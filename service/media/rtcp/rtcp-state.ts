import { ReceptionStats } from './reception.js';
import { buildRtcp, ntpFromUnixMs, ntpMiddle32, parseRtcp } from './packets.js';
import { burstRatio, G711_WITH_PLC, mosFromR, rFactor, type CodecImpairment } from '../e-model.js';

/**
 * The RTCP side of one call: what we receive (for our report blocks), what we send (for our SRs), the
 * far end's reports about us (round-trip time, its loss and jitter), and the call's quality from them.
 * Pure: both clocks are passed in, so it is tested with traces and no sockets.
 */
export type QualityLevel = 'good' | 'fair' | 'poor' | 'unknown';

export interface CallQuality {
  /** Round-trip time from the far end's report blocks (RFC 3550 §6.4.1), ms; undefined until known. */
  roundTripMs?: number;
  /** Interarrival jitter of the audio we receive, ms. */
  jitterMs: number;
  /** Packets of the far end's stream that never arrived, % of those expected, since the call began. */
  lossPct: number;
  /** What the far end reports of our stream: loss in its last interval, % and its jitter, ms. */
  remoteLossPct?: number;
  remoteJitterMs?: number;
  /** E-model R and MOS for the audio we receive (service/media/e-model.ts). */
  rFactor?: number;
  mos?: number;
  level: QualityLevel;
  /** How long the jitter buffer holds audio now, ms (what it adds above the fastest packet). */
  jitterBufferMs?: number;
  /** What the jitter buffer aims to hold, and its decisions since the call began (native/jitter). */
  jitterBuffer?: JitterBufferFigures;
}

export interface JitterBufferFigures {
  targetMs: number;
  /** Frames that came after their turn to play had passed. */
  late: number;
  /** Frames played in place of missing ones (the codec's concealment). */
  concealed: number;
  /** Times two frames were played in one frame's time (the delay came down). */
  accelerated: number;
  /** Times the audio was lengthened to wait for a late frame (the delay went up). */
  expanded: number;
}

export interface Clocks {
  /** Monotonic ms, for intervals. */
  monotonicMs(): number;
  /** Wall-clock ms since the Unix epoch, for NTP timestamps. */
  wallMs(): number;
}

/** R at and above 80 is "satisfied" in G.109; 70-80 "some users dissatisfied"; below 70 poor. */
export function qualityLevel(r: number | undefined): QualityLevel {
  if (r === undefined) {
    return 'unknown';
  }
  return r >= 80 ? 'good' : r >= 70 ? 'fair' : 'poor';
}

/** What the E-model needs to know of the listening side, beside what RTCP tells. */
export interface ListeningSide {
  /** Frame duration plus any playout buffering, ms: added to half the RTT for the E-model's Ta. */
  localDelayMs(): number;
  /** Frames that came too late to be played (the jitter buffer's count): lost to the listener too. */
  lateFrames(): number;
  /** The codec's impairment; G.711 with concealment when not given. */
  readonly codec?: CodecImpairment;
}

export class RtcpState {
  reception: ReceptionStats;
  private packetsSent = 0;
  private octetsSent = 0;
  private sentSinceReport = false;
  private lastSr: { middle: number; arrivedAtMs: number } | undefined;
  private roundTripMs: number | undefined;
  private remote: { lossPct: number; jitterMs: number } | undefined;

  constructor(
    readonly ssrc: number,
    private clockRate: number,
    private readonly cname: string,
    private readonly clocks: Clocks,
    private readonly listener: ListeningSide,
  ) {
    this.reception = new ReceptionStats(clockRate);
  }

  /** A codec with another RTP clock (a re-INVITE moved the call to it) starts the reception afresh. */
  setClockRate(rate: number): void {
    if (rate !== this.clockRate) {
      this.clockRate = rate;
      this.reception = new ReceptionStats(rate);
    }
  }

  /** `arrivedAtMs` on the monotonic clock, where the packet is taken in later than it came. */
  onRtpReceived(
    ssrc: number,
    seq: number,
    rtpTimestamp: number,
    arrivedAtMs = this.clocks.monotonicMs(),
  ): void {
    this.reception.onPacket(ssrc, seq, rtpTimestamp, arrivedAtMs);
  }

  onRtpSent(payloadBytes: number): void {
    this.packetsSent++;
    this.octetsSent += payloadBytes;
    this.sentSinceReport = true;
  }

  /** The share of our packets lost on the way, as the peer's latest report gives it. */
  get peerReportedLossPct(): number | undefined {
    return this.remote?.lossPct;
  }

  /** Takes in a datagram from the RTCP port; throws RtcpError for one that is not RTCP. */
  onRtcp(data: Uint8Array): void {
    const rtcp = parseRtcp(data);
    const now = this.clocks.monotonicMs();
    if (rtcp.senderReportNtp) {
      this.lastSr = { middle: ntpMiddle32(rtcp.senderReportNtp), arrivedAtMs: now };
    }
    for (const b of rtcp.blocks) {
      if (b.ssrc !== this.ssrc) {
        continue;
      }
      this.remote = { lossPct: (b.fractionLost / 256) * 100, jitterMs: (b.jitter * 1000) / this.clockRate };
      if (b.lsr !== 0) {
        const a = ntpMiddle32(ntpFromUnixMs(this.clocks.wallMs()));
        const rtt = (a - b.lsr - b.dlsr) >>> 0;
        // A report older than a minute or from a confused peer is not a round trip.
        if (rtt < 65536 * 60) {
          this.roundTripMs = (rtt * 1000) / 65536;
        }
      }
    }
  }

  /** Our next compound packet: an SR when we sent since the last one, else an RR. */
  buildReport(currentRtpTimestamp: number, bye = false): Uint8Array {
    const now = this.clocks.monotonicMs();
    const fields = this.reception.report();
    const block = fields
      ? {
          ...fields,
          lsr: this.lastSr?.middle ?? 0,
          dlsr: this.lastSr ? Math.floor(((now - this.lastSr.arrivedAtMs) * 65536) / 1000) : 0,
        }
      : undefined;
    const sender = this.sentSinceReport
      ? {
          ntp: ntpFromUnixMs(this.clocks.wallMs()),
          rtpTimestamp: currentRtpTimestamp,
          packets: this.packetsSent,
          octets: this.octetsSent,
        }
      : undefined;
    this.sentSinceReport = false;
    return buildRtcp({
      ssrc: this.ssrc,
      cname: this.cname,
      ...(sender ? { sender } : {}),
      ...(block ? { block } : {}),
      bye,
    });
  }

  quality(): CallQuality {
    const s = this.reception.summary();
    const lossPct = s && s.expected > 0 ? (s.lost / s.expected) * 100 : 0;
    let r: number | undefined;
    if (s && s.received > 0) {
      const ta = (this.roundTripMs ?? 0) / 2 + this.listener.localDelayMs();
      // G.107's Ppl is the loss the listener hears: the network's and the jitter buffer's.
      const late = Math.min(this.listener.lateFrames(), s.received);
      r = rFactor({
        oneWayDelayMs: ta,
        lossPct: ((s.lost + late) / s.expected) * 100,
        burstRatio: burstRatio(s.lost, s.lossRuns, s.expected),
        codec: this.listener.codec ?? G711_WITH_PLC,
      });
    }
    return {
      ...(this.roundTripMs !== undefined ? { roundTripMs: this.roundTripMs } : {}),
      jitterMs: s?.jitterMs ?? 0,
      lossPct,
      ...(this.remote ? { remoteLossPct: this.remote.lossPct, remoteJitterMs: this.remote.jitterMs } : {}),
      ...(r !== undefined ? { rFactor: r, mos: mosFromR(r) } : {}),
      level: qualityLevel(r),
    };
  }
}
