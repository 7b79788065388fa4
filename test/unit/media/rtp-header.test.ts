import { RtpPacket } from 'rtp.js/packets';
import { describe, expect, it } from 'vitest';
import {
  looksLikeRtcp,
  RTP_HEADER_BYTES,
  RtpHeaderReader,
  writeRtpHeader,
} from '../../../service/media/rtp-header.js';

/** A packet as rtp.js serialises it: the reader must agree with an independent writer. */
function built(fill: (p: RtpPacket) => void): Uint8Array {
  const p = new RtpPacket();
  fill(p);
  p.serialize();
  const v = p.getView();
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
}

const payload = new Uint8Array([1, 2, 3, 4, 5, 6, 7]);

describe('RTP header reader', () => {
  it.each([
    ['a plain header', (_p: RtpPacket) => undefined, 0x80],
    ['CSRCs', (p: RtpPacket) => p.setCsrcs([0x11111111, 0x22222222, 0x33333333]), 0x83],
    [
      'a one-byte header extension',
      (p: RtpPacket) => p.setExtension(3, new DataView(new Uint8Array([9, 9, 9]).buffer)),
      0x90,
    ],
    ['padding to four octets', (p: RtpPacket) => p.padTo4Bytes(), 0xa0],
  ])(
    'reads the fields and the payload of a packet with %s as rtp.js wrote it',
    (_name, extra, firstOctet) => {
      const d = built((p) => {
        p.setPayloadType(96);
        p.setMarker(true);
        p.setSequenceNumber(0xfffe);
        p.setTimestamp(0xfedcba98);
        p.setSsrc(0x89abcdef);
        p.setPayload(new DataView(payload.buffer));
        extra(p);
      });
      // The case is what its name says: CSRC count, extension and padding bits as rtp.js set them.
      expect(d[0]).toBe(firstOctet);
      const r = new RtpHeaderReader();
      expect(r.read(d)).toBe(true);
      expect({
        pt: r.payloadType,
        m: r.marker,
        seq: r.sequenceNumber,
        ts: r.timestamp,
        ssrc: r.ssrc,
      }).toEqual({
        pt: 96,
        m: true,
        seq: 0xfffe,
        ts: 0xfedcba98,
        ssrc: 0x89abcdef,
      });
      expect(Array.from(d.subarray(r.payloadOffset, r.payloadOffset + r.payloadLength))).toEqual(
        Array.from(payload),
      );
      expect(looksLikeRtcp(d)).toBe(false);
    },
  );

  it.each([
    ['nothing', []],
    ['one octet', [0x80]],
    ['a header cut short', [0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]],
    ['version 1', [0x40, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xff]],
    ['CSRCs beyond the end', [0x8f, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xff]],
    ['an extension beyond the end', [0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0, 9]],
    ['padding longer than the packet', [0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 200]],
    ['a padding count of zero', [0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0]],
  ])('refuses %s', (_name, octets) => {
    expect(new RtpHeaderReader().read(new Uint8Array(octets))).toBe(false);
  });

  it('tells RTCP on the RTP port by its packet type (RFC 5761), and nothing shorter than a header for it', () => {
    expect(looksLikeRtcp(new Uint8Array([0x80, 200, 0, 6]))).toBe(true);
    expect(looksLikeRtcp(new Uint8Array([0x81, 201, 0, 7]))).toBe(true);
    expect(looksLikeRtcp(new Uint8Array([0x80, 0, 0, 1]))).toBe(false);
    expect(looksLikeRtcp(new Uint8Array([0x80, 200]))).toBe(false);
    expect(looksLikeRtcp(new Uint8Array([]))).toBe(false);
  });
});

describe('RTP header writer', () => {
  it.each([
    ['the marker and the largest fields', true, 127, 0xffff, 0xffffffff, 0xffffffff],
    ['no marker and the smallest fields', false, 0, 0, 0, 0],
    ['fields whose octets all differ', true, 96, 0x1234, 0xfedcba98, 0x89abcdef],
  ])('writes a header with %s that rtp.js reads back field for field', (_name, marker, pt, seq, ts, ssrc) => {
    const d = new Uint8Array(RTP_HEADER_BYTES + payload.length).fill(0x55);
    writeRtpHeader(d, marker, pt, seq, ts, ssrc);
    d.set(payload, RTP_HEADER_BYTES);
    const p = new RtpPacket(new DataView(d.buffer, d.byteOffset, d.byteLength));
    expect({
      version: d[0]! >> 6,
      m: p.getMarker(),
      pt: p.getPayloadType(),
      seq: p.getSequenceNumber(),
      ts: p.getTimestamp(),
      ssrc: p.getSsrc(),
      csrcs: p.getCsrcs(),
      padding: p.getPadding(),
      extensions: p.getExtensions().size,
      payload: Array.from(
        new Uint8Array(p.getPayload().buffer, p.getPayload().byteOffset, p.getPayload().byteLength),
      ),
    }).toEqual({
      version: 2,
      m: marker,
      pt,
      seq,
      ts,
      ssrc,
      csrcs: [],
      padding: 0,
      extensions: 0,
      payload: Array.from(payload),
    });
  });
});
