import { createCipheriv, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * SRTP and SRTCP (RFC 3711) with AES_CM_128_HMAC_SHA1_80, the suite SDES (RFC 4568) offers first and
 * baresip's srtp module speaks: AES-128 in counter mode, HMAC-SHA1 tags of 80 bits, key derivation rate
 * 0. One context protects one direction of one call (RFC 3711 §3.2.3: each side has its own master
 * key). node:crypto does the ciphers; this file does the packet layout, the indexes and the replay
 * window.
 */
export const SRTP_SUITE = 'AES_CM_128_HMAC_SHA1_80';
const TAG = 10;

export class SrtpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SrtpError';
  }
}

function aesCm(key: Buffer, iv: Buffer, data: Uint8Array): Buffer {
  const c = createCipheriv('aes-128-ctr', key, iv);
  return Buffer.concat([c.update(data), c.final()]);
}

/** RFC 3711 §4.3.1 with a key derivation rate of 0: r = 0, x = label || 0^48 XOR master salt. */
export function deriveKey(masterKey: Buffer, masterSalt: Buffer, label: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  masterSalt.copy(iv, 0);
  iv[7] = (iv[7] ?? 0) ^ label;
  return aesCm(masterKey, iv, Buffer.alloc(length));
}

interface SessionKeys {
  enc: Buffer;
  auth: Buffer;
  salt: Buffer;
}

function keys(masterKey: Buffer, masterSalt: Buffer, base: number): SessionKeys {
  return {
    enc: deriveKey(masterKey, masterSalt, base, 16),
    auth: deriveKey(masterKey, masterSalt, base + 1, 20),
    salt: deriveKey(masterKey, masterSalt, base + 2, 14),
  };
}

/** IV = (salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16) (RFC 3711 §4.1.1). */
function iv(salt: Buffer, ssrc: number, index: bigint): Buffer {
  const out = Buffer.alloc(16);
  salt.copy(out, 0);
  out.writeUInt32BE((out.readUInt32BE(4) ^ ssrc) >>> 0, 4);
  const hi = Number((index >> 32n) & 0xffffn);
  const lo = Number(index & 0xffffffffn);
  out.writeUInt16BE(out.readUInt16BE(8) ^ hi, 8);
  out.writeUInt32BE((out.readUInt32BE(10) ^ lo) >>> 0, 10);
  return out;
}

function tag(key: Buffer, ...parts: Uint8Array[]): Buffer {
  const h = createHmac('sha1', key);
  parts.forEach((p) => h.update(p));
  return h.digest().subarray(0, TAG);
}

function rtpHeaderLength(p: Uint8Array): number {
  if (p.length < 12 || (p[0] ?? 0) >> 6 !== 2) {
    throw new SrtpError('not an RTP packet');
  }
  let n = 12 + 4 * ((p[0] ?? 0) & 0x0f);
  if ((p[0] ?? 0) & 0x10) {
    if (p.length < n + 4) {
      throw new SrtpError('truncated RTP header extension');
    }
    n += 4 + 4 * (((p[n + 2] ?? 0) << 8) | (p[n + 3] ?? 0));
  }
  if (n > p.length) {
    throw new SrtpError('truncated RTP header');
  }
  return n;
}

/** A 64-packet sliding replay window (RFC 3711 §3.3.2). */
class ReplayWindow {
  private top = -1n;
  private bits = 0n;

  check(index: bigint): boolean {
    if (this.top < 0n || index > this.top) {
      return true;
    }
    const back = this.top - index;
    return back < 64n && ((this.bits >> back) & 1n) === 0n;
  }

  accept(index: bigint): void {
    if (this.top < 0n || index > this.top) {
      const shift = this.top < 0n ? 64n : index - this.top;
      this.bits = shift >= 64n ? 1n : ((this.bits << shift) | 1n) & 0xffffffffffffffffn;
      this.top = index;
    } else {
      this.bits |= 1n << (this.top - index);
    }
  }
}

export class SrtpContext {
  private readonly rtp: SessionKeys;
  private readonly rtcp: SessionKeys;
  /** Sender side: rollover counter and last sequence number. */
  private roc = 0;
  private lastSeq = -1;
  private rtcpIndex = 0;
  /** Receiver side. */
  private rxRoc = 0;
  private rxSeq = -1;
  private readonly rtpWindow = new ReplayWindow();
  private readonly rtcpWindow = new ReplayWindow();

  constructor(masterKey: Buffer, masterSalt: Buffer) {
    if (masterKey.length !== 16 || masterSalt.length !== 14) {
      throw new SrtpError('AES_CM_128_HMAC_SHA1_80 needs a 16-byte master key and a 14-byte salt');
    }
    this.rtp = keys(masterKey, masterSalt, 0);
    this.rtcp = keys(masterKey, masterSalt, 3);
  }

  /** From SDES's inline key (RFC 4568 §6.1): base64 of key || salt; lifetime and MKI are ignored. */
  static fromInline(inline: string): SrtpContext {
    const b64 = /^inline:([A-Za-z0-9+/=]+)/.exec(inline)?.[1];
    const material = Buffer.from(b64 ?? '', 'base64');
    if (material.length !== 30) {
      throw new SrtpError('the crypto attribute has no 30-byte inline key');
    }
    return new SrtpContext(material.subarray(0, 16), material.subarray(16));
  }

  protectRtp(packet: Uint8Array): Uint8Array {
    const h = rtpHeaderLength(packet);
    const view = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
    const seq = view.readUInt16BE(2);
    const ssrc = view.readUInt32BE(8);
    if (this.lastSeq >= 0 && seq < this.lastSeq && this.lastSeq - seq > 0x8000) {
      this.roc = (this.roc + 1) >>> 0;
    }
    this.lastSeq = seq;
    const index = (BigInt(this.roc) << 16n) | BigInt(seq);
    const body = aesCm(this.rtp.enc, iv(this.rtp.salt, ssrc, index), view.subarray(h));
    const out = Buffer.concat([view.subarray(0, h), body]);
    const roc = Buffer.alloc(4);
    roc.writeUInt32BE(this.roc);
    return Buffer.concat([out, tag(this.rtp.auth, out, roc)]);
  }

  /** Checks, decrypts and returns the RTP packet; SrtpError for a forged, replayed or short one. */
  unprotectRtp(packet: Uint8Array): Uint8Array {
    if (packet.length < 12 + TAG) {
      throw new SrtpError('SRTP packet too short');
    }
    const view = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
    const authed = view.subarray(0, view.length - TAG);
    const h = rtpHeaderLength(authed);
    const seq = view.readUInt16BE(2);
    const ssrc = view.readUInt32BE(8);
    // RFC 3711 Appendix A: the ROC this packet most likely belongs to.
    let v = this.rxRoc;
    if (this.rxSeq >= 0) {
      if (this.rxSeq < 0x8000) {
        if (seq - this.rxSeq > 0x8000) {
          v = (this.rxRoc - 1) >>> 0;
        }
      } else if (this.rxSeq - 0x8000 > seq) {
        v = (this.rxRoc + 1) >>> 0;
      }
    }
    const roc = Buffer.alloc(4);
    roc.writeUInt32BE(v);
    const expected = tag(this.rtp.auth, authed, roc);
    if (!timingSafeEqual(expected, view.subarray(view.length - TAG))) {
      throw new SrtpError('SRTP authentication failed');
    }
    const index = (BigInt(v) << 16n) | BigInt(seq);
    if (!this.rtpWindow.check(index)) {
      throw new SrtpError('SRTP packet replayed or too old');
    }
    this.rtpWindow.accept(index);
    if (this.rxSeq < 0 || v > this.rxRoc || (v === this.rxRoc && seq > this.rxSeq)) {
      this.rxRoc = v;
      this.rxSeq = seq;
    }
    const body = aesCm(this.rtp.enc, iv(this.rtp.salt, ssrc, index), authed.subarray(h));
    return Buffer.concat([authed.subarray(0, h), body]);
  }

  protectRtcp(packet: Uint8Array): Uint8Array {
    if (packet.length < 8) {
      throw new SrtpError('RTCP packet too short');
    }
    const view = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
    const ssrc = view.readUInt32BE(4);
    this.rtcpIndex = (this.rtcpIndex + 1) & 0x7fffffff;
    const body = aesCm(this.rtcp.enc, iv(this.rtcp.salt, ssrc, BigInt(this.rtcpIndex)), view.subarray(8));
    const eIndex = Buffer.alloc(4);
    eIndex.writeUInt32BE((0x80000000 | this.rtcpIndex) >>> 0);
    const out = Buffer.concat([view.subarray(0, 8), body, eIndex]);
    return Buffer.concat([out, tag(this.rtcp.auth, out)]);
  }

  unprotectRtcp(packet: Uint8Array): Uint8Array {
    if (packet.length < 8 + 4 + TAG) {
      throw new SrtpError('SRTCP packet too short');
    }
    const view = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
    const authed = view.subarray(0, view.length - TAG);
    if (!timingSafeEqual(tag(this.rtcp.auth, authed), view.subarray(view.length - TAG))) {
      throw new SrtpError('SRTCP authentication failed');
    }
    const eIndex = authed.readUInt32BE(authed.length - 4);
    const index = BigInt(eIndex & 0x7fffffff);
    if (!this.rtcpWindow.check(index)) {
      throw new SrtpError('SRTCP packet replayed or too old');
    }
    this.rtcpWindow.accept(index);
    const ssrc = view.readUInt32BE(4);
    const encrypted = authed.subarray(8, authed.length - 4);
    const body =
      eIndex & 0x80000000 ? aesCm(this.rtcp.enc, iv(this.rtcp.salt, ssrc, index), encrypted) : encrypted;
    return Buffer.concat([authed.subarray(0, 8), body]);
  }
}
