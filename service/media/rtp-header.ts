/**
 * The fixed header of a received RTP packet (RFC 3550 §5.1), read in place. rtp.js builds a packet
 * object per datagram (its constructor chain defines properties and makes DataViews), which in a
 * call's tick cost more than the rest of the packet's handling; a session keeps one of these and
 * re-reads it for each packet. rtp.js parses RTCP, and checks these in the tests.
 */
export class RtpHeaderReader {
  payloadType = 0;
  marker = false;
  sequenceNumber = 0;
  timestamp = 0;
  ssrc = 0;
  /** Where the payload lies in the datagram, after CSRCs and any header extension, before padding. */
  payloadOffset = 0;
  payloadLength = 0;

  /** Reads `d`; false where it is not a well-formed RTP packet (then the fields are meaningless). */
  read(d: Uint8Array): boolean {
    const length = d.length;
    if (length < 12) {
      return false;
    }
    const first = d[0] ?? 0;
    if (first >> 6 !== 2) {
      return false;
    }
    let offset = 12 + 4 * (first & 0x0f);
    if ((first & 0x10) !== 0) {
      // Header extension (§5.3.1): 16 bits profile, 16 bits length in 32-bit words.
      if (offset + 4 > length) {
        return false;
      }
      offset += 4 + 4 * (((d[offset + 2] ?? 0) << 8) | (d[offset + 3] ?? 0));
    }
    let end = length;
    if ((first & 0x20) !== 0) {
      // Padding (§5.1): its last octet counts the padding, itself included.
      const padding = d[length - 1] ?? 0;
      if (padding === 0) {
        return false;
      }
      end -= padding;
    }
    if (offset > end) {
      return false;
    }
    const second = d[1] ?? 0;
    this.marker = (second & 0x80) !== 0;
    this.payloadType = second & 0x7f;
    this.sequenceNumber = ((d[2] ?? 0) << 8) | (d[3] ?? 0);
    this.timestamp = (((d[4] ?? 0) << 24) | ((d[5] ?? 0) << 16) | ((d[6] ?? 0) << 8) | (d[7] ?? 0)) >>> 0;
    this.ssrc = (((d[8] ?? 0) << 24) | ((d[9] ?? 0) << 16) | ((d[10] ?? 0) << 8) | (d[11] ?? 0)) >>> 0;
    this.payloadOffset = offset;
    this.payloadLength = end - offset;
    return true;
  }
}

/** The fixed header's length, as writeRtpHeader writes it: no CSRC, no extension, no padding. */
export const RTP_HEADER_BYTES = 12;

/**
 * Writes an RTP fixed header (RFC 3550 §5.1; version 2, no CSRC, extension or padding) at the start of
 * `out`, in place: rtp.js's serialize() makes DataViews and typed arrays for every packet, which the
 * heap then has to collect, fifty times a second per call.
 */
export function writeRtpHeader(
  out: Uint8Array,
  marker: boolean,
  payloadType: number,
  sequenceNumber: number,
  timestamp: number,
  ssrc: number,
): void {
  out[0] = 0x80;
  out[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  out[2] = (sequenceNumber >>> 8) & 0xff;
  out[3] = sequenceNumber & 0xff;
  out[4] = timestamp >>> 24;
  out[5] = (timestamp >>> 16) & 0xff;
  out[6] = (timestamp >>> 8) & 0xff;
  out[7] = timestamp & 0xff;
  out[8] = ssrc >>> 24;
  out[9] = (ssrc >>> 16) & 0xff;
  out[10] = (ssrc >>> 8) & 0xff;
  out[11] = ssrc & 0xff;
}

/**
 * RTCP beside RTP on one port (RFC 5761 §4): version 2 and a second octet of 192-223, which no RTP
 * payload type in use can produce with or without the marker bit.
 */
export function looksLikeRtcp(d: Uint8Array): boolean {
  const second = d[1] ?? 0;
  return d.length >= 4 && (d[0] ?? 0) >> 6 === 2 && second >= 192 && second <= 223;
}
