import {
  CompoundPacket,
  ReceiverReportPacket,
  ReceptionReport,
  SdesChunk,
  SdesPacket,
  SenderReportPacket,
  ByePacket,
} from 'rtp.js/packets';
import type { ReceptionReportFields } from './reception.js';

/**
 * RTCP compound packets (RFC 3550 §6) built and read with rtp.js. rtp.js reads the 24-bit cumulative
 * lost field of a report block as 12 bits and writes negatives as sign-magnitude, so that one field is
 * read and written here, at bytes 5-7 of each block, as RFC 3550 §6.4.1 defines it.
 */
export const NTP_UNIX_OFFSET_S = 2208988800;

export interface NtpTime {
  seconds: number;
  fraction: number;
}

export function ntpFromUnixMs(ms: number): NtpTime {
  const s = Math.floor(ms / 1000);
  return {
    seconds: (s + NTP_UNIX_OFFSET_S) >>> 0,
    fraction: Math.floor(((ms - s * 1000) / 1000) * 2 ** 32) >>> 0,
  };
}

/** The middle 32 bits of an NTP timestamp: LSR in report blocks, in 1/65536 s. */
export function ntpMiddle32(t: NtpTime): number {
  return (((t.seconds & 0xffff) << 16) | (t.fraction >>> 16)) >>> 0;
}

export interface ReportBlock extends ReceptionReportFields {
  /** Middle 32 bits of the last SR received from this source, 0 if none. */
  lsr: number;
  /** Delay since that SR, in 1/65536 s. */
  dlsr: number;
}

export interface OutgoingRtcp {
  ssrc: number;
  cname: string;
  /** Present when we sent RTP since the last report: the packet is an SR. */
  sender?: { ntp: NtpTime; rtpTimestamp: number; packets: number; octets: number };
  block?: ReportBlock;
  bye?: boolean;
}

export interface IncomingRtcp {
  senderSsrc: number;
  /** The NTP time in the far end's SR, if the compound had one. */
  senderReportNtp?: NtpTime;
  blocks: ReportBlock[];
  bye: boolean;
}

export class RtcpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RtcpError';
  }
}

function writeCumulativeLost(report: ReceptionReport, lost: number): void {
  const view = report.getView();
  const v = lost & 0xffffff;
  view.setUint8(5, (v >> 16) & 0xff);
  view.setUint8(6, (v >> 8) & 0xff);
  view.setUint8(7, v & 0xff);
}

function readCumulativeLost(report: ReceptionReport): number {
  const view = report.getView();
  const v = (view.getUint8(5) << 16) | (view.getUint8(6) << 8) | view.getUint8(7);
  return v & 0x800000 ? v - 0x1000000 : v;
}

function toReceptionReport(b: ReportBlock): ReceptionReport {
  const r = new ReceptionReport();
  r.setSsrc(b.ssrc);
  r.setFractionLost(b.fractionLost);
  r.setHighestSeqNumber(b.extendedHighestSeq >>> 0);
  r.setJitter(b.jitter >>> 0);
  r.setLastSRTimestamp(b.lsr >>> 0);
  r.setDelaySinceLastSR(b.dlsr >>> 0);
  writeCumulativeLost(r, b.cumulativeLost);
  return r;
}

function fromReceptionReport(r: ReceptionReport): ReportBlock {
  return {
    ssrc: r.getSsrc(),
    fractionLost: r.getFractionLost(),
    cumulativeLost: readCumulativeLost(r),
    extendedHighestSeq: r.getHighestSeqNumber(),
    jitter: r.getJitter(),
    lsr: r.getLastSRTimestamp(),
    dlsr: r.getDelaySinceLastSR(),
  };
}

export function buildRtcp(o: OutgoingRtcp): Uint8Array {
  const compound = new CompoundPacket();
  if (o.sender) {
    const sr = new SenderReportPacket();
    sr.setSsrc(o.ssrc);
    sr.setNtpSeconds(o.sender.ntp.seconds);
    sr.setNtpFraction(o.sender.ntp.fraction);
    sr.setRtpTimestamp(o.sender.rtpTimestamp >>> 0);
    sr.setPacketCount(o.sender.packets >>> 0);
    sr.setOctetCount(o.sender.octets >>> 0);
    if (o.block) {
      sr.addReport(toReceptionReport(o.block));
    }
    compound.addPacket(sr);
  } else {
    const rr = new ReceiverReportPacket();
    rr.setSsrc(o.ssrc);
    if (o.block) {
      rr.addReport(toReceptionReport(o.block));
    }
    compound.addPacket(rr);
  }
  const sdes = new SdesPacket();
  const chunk = new SdesChunk();
  chunk.setSsrc(o.ssrc);
  chunk.addItem(1, o.cname);
  sdes.addChunk(chunk);
  compound.addPacket(sdes);
  if (o.bye) {
    const bye = new ByePacket();
    bye.addSsrc(o.ssrc);
    compound.addPacket(bye);
  }
  const view = compound.getView();
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
}

/** Reads a compound RTCP packet; anything that is not one is an RtcpError. */
export function parseRtcp(data: Uint8Array): IncomingRtcp {
  let packets;
  try {
    packets = new CompoundPacket(new DataView(data.buffer, data.byteOffset, data.byteLength)).getPackets();
  } catch (e) {
    throw new RtcpError(`not an RTCP compound packet: ${e instanceof Error ? e.message : String(e)}`);
  }
  const out: IncomingRtcp = { senderSsrc: 0, blocks: [], bye: false };
  for (const p of packets) {
    if (p instanceof SenderReportPacket) {
      out.senderSsrc = p.getSsrc();
      out.senderReportNtp = { seconds: p.getNtpSeconds(), fraction: p.getNtpFraction() };
      out.blocks.push(...p.getReports().map(fromReceptionReport));
    } else if (p instanceof ReceiverReportPacket) {
      out.senderSsrc = p.getSsrc();
      out.blocks.push(...p.getReports().map(fromReceptionReport));
    } else if (p instanceof ByePacket) {
      out.bye = true;
    }
    // Other packets (SDES alone, feedback, APP) carry nothing for the call's quality. RFC 5506
    // reduced-size RTCP, which baresip announces with a=rtcp-rsize, need not start with an SR or RR.
  }
  if (packets.length === 0) {
    throw new RtcpError('empty RTCP packet');
  }
  return out;
}
