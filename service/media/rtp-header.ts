/**
 * The fixed header of a received RTP packet (RFC 3550 §5.1), read in place. rtp.js builds a packet
 * object per datagram (its constructor chain defines properties and makes DataViews), which in a
 * call's tick cost more than the rest of the packet's handling; a session keeps one of these and
 * re-reads it for each packet. rtp.js still builds what we send and parses RTCP.
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

/**
 * RTCP beside RTP on one port (RFC 5761 §4): version 2 and a second octet of 192-223, which no RTP
 * payload type in use can produce with or without the marker bit.
 */
export function looksLikeRtcp(d: Uint8Array): boolean {
  const second = d[1] ?? 0;
  return d.length >= 4 && (d[0] ?? 0) >> 6 === 2 && second >= 192 && second <= 223;
}
