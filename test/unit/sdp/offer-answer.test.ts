import { describe, expect, it } from 'vitest';
import {
  answerDirection,
  answerOffer,
  createOffer,
  readAnswer,
  SdpError,
} from '../../../service/sdp/offer-answer.js';

/** An offer as baresip 1.0 sends it (captured on loopback, addresses kept). */
const baresipOffer = [
  'v=0',
  'o=- 2125553372 2734577211 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 40012 RTP/AVP 0 8 101',
  'b=AS:86',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=sendrecv',
  'a=label:1',
  'a=ssrc:2907343395 cname:sip:2002@127.0.0.1',
  'a=rtcp-rsize',
  '',
].join('\r\n');

const local = { address: '127.0.0.1', port: 20000, sessionId: 42, version: 1 };

describe('SDP offer/answer', () => {
  it('offers Opus first, then PCMU and PCMA, with telephone-event at both clock rates, at 20 ms', () => {
    const offer = createOffer(local);
    expect(offer).toMatch(/^m=audio 20000 RTP\/AVP 96 0 8 102 101\r$/m);
    expect(offer).toMatch(/^a=rtpmap:96 opus\/48000\/2\r$/m);
    // Narrowband both ways; no useinbandfec=1, which carphone's decoder could not make use of.
    expect(offer).toMatch(/^a=fmtp:96 maxplaybackrate=8000;sprop-maxcapturerate=8000\r$/m);
    expect(offer).toMatch(/^a=rtpmap:102 telephone-event\/48000\r$/m);
    expect(offer).toMatch(/^a=rtpmap:101 telephone-event\/8000\r$/m);
    expect(offer).toMatch(/^a=ptime:20\r$/m);
    expect(offer).toMatch(/^a=sendrecv\r$/m);
    expect(offer).toMatch(/^c=IN IP4 127\.0\.0\.1\r$/m);
  });

  it("answers baresip's offer with its first codec and its telephone-event type", () => {
    const { answer, negotiated } = answerOffer(baresipOffer, local, 'sendrecv');
    expect(negotiated).toMatchObject({
      remoteAddress: '127.0.0.1',
      remotePort: 40012,
      codec: { name: 'PCMU', payloadType: 0 },
      telephoneEventPt: 101,
    });
    expect(answer).toMatch(/^m=audio 20000 RTP\/AVP 0 101\r$/m);
  });

  it("sends Opus with in-band FEC exactly when the peer's decoder asks for it (useinbandfec=1)", () => {
    // baresip 1.0's Opus offer as captured, with and without `opus_inbandfec yes` in its config.
    const opusOffer = (fmtp: string): string =>
      baresipOffer
        .replace('RTP/AVP 0 8 101', 'RTP/AVP 96 101')
        .replace(
          'a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000',
          `a=rtpmap:96 opus/48000/2\r\na=fmtp:96 ${fmtp}`,
        );
    const withFec = answerOffer(opusOffer('stereo=1;sprop-stereo=1;useinbandfec=1'), local, 'sendrecv');
    const without = answerOffer(opusOffer('stereo=1;sprop-stereo=1'), local, 'sendrecv');
    expect(withFec.negotiated).toMatchObject({ codec: { name: 'OPUS' }, opusInbandFec: true });
    expect(without.negotiated.codec.name).toBe('OPUS');
    expect(without.negotiated.opusInbandFec).toBeUndefined();
    // The same from an answer to our offer.
    expect(readAnswer(opusOffer('useinbandfec=1'), '127.0.0.1').opusInbandFec).toBe(true);
    expect(readAnswer(opusOffer('useinbandfec=0'), '127.0.0.1').opusInbandFec).toBeUndefined();
    // G.711 has nothing of the kind, whatever a confused peer writes.
    const g711 = baresipOffer.replace('a=fmtp:101 0-15', 'a=fmtp:0 useinbandfec=1\r\na=fmtp:101 0-15');
    expect(answerOffer(g711, local, 'sendrecv').negotiated.opusInbandFec).toBeUndefined();
  });

  it('offers only the codecs the account allows, in its order', () => {
    const offer = createOffer({ ...local, codecs: ['PCMA', 'PCMU'] });
    expect(offer).toMatch(/^m=audio 20000 RTP\/AVP 8 0 101\r$/m);
    expect(offer).not.toMatch(/opus/);
  });

  it("takes Opus from baresip's Opus offer with its payload type and the 48 kHz telephone-event", () => {
    const opusOffer = baresipOffer
      .replace('RTP/AVP 0 8 101', 'RTP/AVP 0 111 8 101 100')
      .replace(
        'a=rtpmap:8 PCMA/8000',
        'a=rtpmap:8 PCMA/8000\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:100 telephone-event/48000',
      );
    const { answer, negotiated } = answerOffer(opusOffer, local, 'sendrecv');
    expect(negotiated).toMatchObject({
      codec: { name: 'OPUS', payloadType: 111, clockRate: 48000 },
      telephoneEventPt: 100,
      telephoneEventRate: 48000,
    });
    expect(answer).toMatch(/^m=audio 20000 RTP\/AVP 111 100\r$/m);
    // An account without Opus answers the same offer with G.711.
    expect(answerOffer(opusOffer, { ...local, codecs: ['PCMU'] }, 'sendrecv').negotiated.codec.name).toBe(
      'PCMU',
    );
  });

  it("sends Opus in the longest frame libopus can encode within the peer's ptime, G.711 in exactly it", () => {
    const opusOffer = (ptime: number): string =>
      baresipOffer
        .replace('RTP/AVP 0 8 101', 'RTP/AVP 111 0 101')
        .replace('a=rtpmap:8 PCMA/8000', `a=rtpmap:111 opus/48000/2\r\na=ptime:${ptime}`);
    const sent = (ptime: number, codecs?: ('OPUS' | 'PCMU')[]): { negotiated: number; answered: string } => {
      const { answer, negotiated } = answerOffer(opusOffer(ptime), { ...local, codecs }, 'sendrecv');
      return { negotiated: negotiated.ptime, answered: /^a=ptime:(\d+)\r$/m.exec(answer)?.[1] ?? '' };
    };
    expect([20, 30, 50, 60, 90, 120].map((p) => sent(p).negotiated)).toEqual([20, 20, 40, 60, 80, 120]);
    expect(sent(30).answered).toBe('20');
    expect(sent(30, ['PCMU'])).toEqual({ negotiated: 30, answered: '30' });
    const answer = baresipOffer
      .replace('RTP/AVP 0 8 101', 'RTP/AVP 111 101')
      .replace('a=rtpmap:8 PCMA/8000', 'a=rtpmap:111 opus/48000/2\r\na=ptime:30');
    expect(readAnswer(answer, '127.0.0.1').ptime).toBe(20);
  });

  it('offers SRTP keys by SDES on RTP/SAVP when required, on RTP/AVP when optional, and takes the peer key', () => {
    const inline = `inline:${Buffer.alloc(30, 1).toString('base64')}`;
    const mandatory = createOffer({ ...local, srtp: { mode: 'mandatory', inline } });
    expect(mandatory).toMatch(/^m=audio 20000 RTP\/SAVP /m);
    expect(mandatory).toContain(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 ${inline}`);
    expect(createOffer({ ...local, srtp: { mode: 'optional', inline } })).toMatch(
      /^m=audio 20000 RTP\/AVP /m,
    );
    const peerKey = `inline:${Buffer.alloc(30, 2).toString('base64')}`;
    const savpOffer = baresipOffer
      .replace('RTP/AVP', 'RTP/SAVP')
      .replace('a=sendrecv', `a=crypto:3 AES_CM_128_HMAC_SHA1_80 ${peerKey}\r\na=sendrecv`);
    const { answer, negotiated } = answerOffer(
      savpOffer,
      { ...local, srtp: { mode: 'optional', inline } },
      'sendrecv',
    );
    expect(negotiated.srtpRemoteInline).toBe(peerKey);
    expect(answer).toMatch(/^m=audio 20000 RTP\/SAVP /m);
    expect(answer).toContain(`a=crypto:3 AES_CM_128_HMAC_SHA1_80 ${inline}`);
    // Without SRTP on the account an SRTP-only offer cannot be answered; with SRTP required, a plain one.
    expect(() => answerOffer(savpOffer, local, 'sendrecv')).toThrow(/not enabled/);
    expect(() =>
      answerOffer(baresipOffer, { ...local, srtp: { mode: 'mandatory', inline } }, 'sendrecv'),
    ).toThrow(SdpError);
    expect(() => readAnswer(baresipOffer, '127.0.0.1', 'mandatory')).toThrow(/requires SRTP/);
  });

  it('reads the RTCP port from a=rtcp, else takes the RTP port + 1', () => {
    expect(readAnswer(baresipOffer, '127.0.0.1').remoteRtcpPort).toBe(40013);
    expect(
      readAnswer(baresipOffer.replace('a=sendrecv', 'a=rtcp:50001\r\na=sendrecv'), '127.0.0.1')
        .remoteRtcpPort,
    ).toBe(50001);
  });

  it("honours the peer's order: PCMA first gets PCMA", () => {
    const { negotiated } = answerOffer(
      baresipOffer.replace('RTP/AVP 0 8 101', 'RTP/AVP 8 0 101'),
      local,
      'sendrecv',
    );
    expect(negotiated.codec.name).toBe('PCMA');
  });

  it('refuses an offer with no common codec, no audio, or no address', () => {
    expect(() =>
      answerOffer(
        baresipOffer.replace('RTP/AVP 0 8 101', 'RTP/AVP 9').replace(/a=rtpmap:[08] .*\r\n/g, ''),
        local,
        'sendrecv',
      ),
    ).toThrow(SdpError);
    expect(() => answerOffer('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n', local, 'sendrecv')).toThrow(
      /no active audio/,
    );
    expect(() =>
      answerOffer(baresipOffer.replace('c=IN IP4 127.0.0.1', 'c=IN IP6 ::1'), local, 'sendrecv'),
    ).toThrow(/IPv4/);
    for (const bad of ['999.1.1.1', '1.2.3', '01.2.3.4.5']) {
      expect(() =>
        answerOffer(baresipOffer.replace('c=IN IP4 127.0.0.1', `c=IN IP4 ${bad}`), local, 'sendrecv'),
      ).toThrow(/IPv4/);
    }
    expect(() => answerOffer('garbage', local, 'sendrecv')).toThrow(SdpError);
  });

  it('reads a hold offer (sendonly, or the old 0.0.0.0 address) as the peer holding us', () => {
    expect(answerDirection('sendonly', 'sendrecv')).toBe('recvonly');
    expect(answerDirection('inactive', 'sendrecv')).toBe('inactive');
    expect(answerDirection('sendrecv', 'sendonly')).toBe('sendonly');
    expect(answerDirection('recvonly', 'sendrecv')).toBe('sendonly');
    const old = answerOffer(
      baresipOffer.replace('c=IN IP4 127.0.0.1', 'c=IN IP4 0.0.0.0'),
      local,
      'sendrecv',
    );
    expect(old.negotiated.remoteDirection).toBe('sendonly');
  });

  it('offers and answers on IPv6 with IN IP6, and refuses media of the other family, which RTP cannot reach', () => {
    const local6 = { ...local, address: '2001:db8::7' };
    const offer = createOffer(local6);
    expect(offer).toMatch(/^o=carphone 42 1 IN IP6 2001:db8::7\r$/m);
    expect(offer).toMatch(/^c=IN IP6 2001:db8::7\r$/m);
    // baresip's offer from ::1, as it sent it in test/integration/ipv6.test.ts.
    const offer6 = baresipOffer.replace(/IN IP4 127\.0\.0\.1/g, 'IN IP6 ::1');
    const { answer, negotiated } = answerOffer(offer6, local6, 'sendrecv');
    expect(answer).toMatch(/^c=IN IP6 2001:db8::7\r$/m);
    expect(negotiated.remoteAddress).toBe('::1');
    expect(readAnswer(offer6, '2001:db8::7').remoteAddress).toBe('::1');
    expect(() => answerOffer(offer6, local, 'sendrecv')).toThrow(
      "the peer's media address ::1 is IPv6 and this line's is IPv4",
    );
    expect(() => readAnswer(baresipOffer, '::1')).toThrow(
      "the peer's media address 127.0.0.1 is IPv4 and this line's is IPv6",
    );
    // Hold the old way on IPv6 (c=IN IP6 ::) is hold, whatever the family.
    const held = answerOffer(offer6.replace('c=IN IP6 ::1', 'c=IN IP6 ::'), local, 'sendrecv');
    expect(held.negotiated.remoteDirection).toBe('sendonly');
  });

  it('reads the codec the peer chose from its answer', () => {
    const answer = baresipOffer.replace('RTP/AVP 0 8 101', 'RTP/AVP 8 101');
    expect(readAnswer(answer, '127.0.0.1')).toMatchObject({
      codec: { name: 'PCMA', payloadType: 8 },
      ptime: 20,
    });
  });
});
