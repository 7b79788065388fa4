import { describe, expect, it } from 'vitest';
import { RtpPacket } from 'rtp.js/packets';
import { deriveKey, SrtpContext, SrtpError } from '../../../service/media/srtp/srtp-context.js';

const masterKey = Buffer.from('E1F97A0D3E018BE0D64FA32C06DE4139', 'hex');
const masterSalt = Buffer.from('0EC675AD498AFEEBB6960B3AABE6', 'hex');

function rtp(seq: number, payload: string): Uint8Array {
  const p = new RtpPacket();
  p.setPayloadType(0);
  p.setSequenceNumber(seq);
  p.setTimestamp(seq * 160);
  p.setSsrc(0xcafebabe);
  const bytes = Buffer.from(payload);
  p.setPayload(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const v = p.getView();
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
}

describe('SRTP (RFC 3711), AES_CM_128_HMAC_SHA1_80', () => {
  it('derives the session keys of RFC 3711 appendix B.3', () => {
    expect(deriveKey(masterKey, masterSalt, 0, 16).toString('hex')).toBe('c61e7a93744f39ee10734afe3ff7a087');
    expect(deriveKey(masterKey, masterSalt, 2, 14).toString('hex')).toBe('30cbbc08863d8c85d49db34a9ae1');
    expect(deriveKey(masterKey, masterSalt, 1, 20).toString('hex')).toBe(
      'cebe321f6ff7716b6fd4ab49af256a156d38baa4',
    );
  });

  it('encrypts the payload, keeps the header, appends an 80-bit tag, and decrypts it back', () => {
    const tx = new SrtpContext(masterKey, masterSalt);
    const rx = new SrtpContext(masterKey, masterSalt);
    const plain = rtp(1, 'hello, car');
    const wire = tx.protectRtp(plain);
    expect(wire.length).toBe(plain.length + 10);
    expect(Buffer.from(wire.subarray(0, 12)).equals(Buffer.from(plain.subarray(0, 12)))).toBe(true);
    expect(Buffer.from(wire).includes(Buffer.from('hello'))).toBe(false);
    expect(Buffer.from(rx.unprotectRtp(wire)).equals(Buffer.from(plain))).toBe(true);
  });

  it('rejects a tampered packet, a replayed one, and one from another key', () => {
    const tx = new SrtpContext(masterKey, masterSalt);
    const rx = new SrtpContext(masterKey, masterSalt);
    const wire = tx.protectRtp(rtp(7, 'payload'));
    const forged = Uint8Array.from(wire);
    forged[14] = (forged[14] ?? 0) ^ 1;
    expect(() => rx.unprotectRtp(forged)).toThrow(SrtpError);
    rx.unprotectRtp(wire);
    expect(() => rx.unprotectRtp(wire)).toThrow(/replayed/);
    const stranger = SrtpContext.fromInline(`inline:${Buffer.alloc(30, 7).toString('base64')}`);
    expect(() => stranger.unprotectRtp(tx.protectRtp(rtp(8, 'x')))).toThrow(/authentication/);
  });

  it('follows the sequence number across its wrap (the rollover counter) and takes late packets', () => {
    const tx = new SrtpContext(masterKey, masterSalt);
    const rx = new SrtpContext(masterKey, masterSalt);
    const seqs = [65533, 65534, 65535, 0, 1, 2];
    const wires = seqs.map((s) => tx.protectRtp(rtp(s, `frame ${s}`)));
    // 65535 arrives after 0 and 1.
    for (const i of [0, 1, 3, 4, 2, 5]) {
      const plain = rx.unprotectRtp(wires[i] ?? new Uint8Array());
      const out = new RtpPacket(new DataView(plain.buffer, plain.byteOffset, plain.byteLength));
      expect(out.getSequenceNumber()).toBe(seqs[i]);
    }
  });

  it('protects RTCP with the E flag and index, and refuses a replay', () => {
    const tx = new SrtpContext(masterKey, masterSalt);
    const rx = new SrtpContext(masterKey, masterSalt);
    const rr = Buffer.from('81c90007deadbeef' + '00'.repeat(24), 'hex');
    const wire = tx.protectRtcp(rr);
    expect(wire.length).toBe(rr.length + 4 + 10);
    expect((wire[rr.length] ?? 0) & 0x80).toBe(0x80);
    expect(Buffer.from(rx.unprotectRtcp(wire)).equals(rr)).toBe(true);
    expect(() => rx.unprotectRtcp(wire)).toThrow(SrtpError);
  });
});
