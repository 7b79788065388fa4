import { describe, expect, it } from 'vitest';
import { CodecError } from '../../../service/media/codecs/codec.js';
import { G711Codec } from '../../../service/media/codecs/g711-codec.js';
import { OpusCodec } from '../../../service/media/codecs/opus-codec.js';
import { answerOffer } from '../../../service/sdp/offer-answer.js';
import { decodeLosingEveryNth } from '../../harness/opus-fec.js';

function tone(hz: number, samples: number, start = 0): Int16Array {
  return Int16Array.from({ length: samples }, (_, i) =>
    Math.round(8000 * Math.sin((2 * Math.PI * hz * (start + i)) / 8000)),
  );
}

/** Strength of `hz` in `pcm` relative to its total energy (a single-bin DFT). */
function share(pcm: Int16Array, hz: number): number {
  let re = 0;
  let im = 0;
  let energy = 0;
  for (let i = 0; i < pcm.length; i++) {
    const v = pcm[i] ?? 0;
    re += v * Math.cos((2 * Math.PI * hz * i) / 8000);
    im += v * Math.sin((2 * Math.PI * hz * i) / 8000);
    energy += v * v;
  }
  return energy === 0 ? 0 : (2 * (re * re + im * im)) / (pcm.length * energy);
}

describe('Opus at 8 kHz', () => {
  it('carries a 440 Hz tone through encoder and decoder', async () => {
    const codec = await OpusCodec.create();
    const out: number[] = [];
    for (let f = 0; f < 50; f++) {
      const payload = codec.encode(tone(440, 160, f * 160));
      expect(payload.length).toBeGreaterThan(2);
      expect(payload.length).toBeLessThan(160);
      out.push(...codec.decode(payload));
    }
    const decoded = Int16Array.from(out.slice(4000));
    expect(share(decoded, 440)).toBeGreaterThan(0.8);
    codec.close();
  });

  it('encodes and decodes a frame of every length negotiation can choose for any ptime a peer asks', async () => {
    const codec = await OpusCodec.create();
    const offer = (ptime: number): string =>
      [
        'v=0',
        'o=- 1 1 IN IP4 127.0.0.1',
        's=-',
        'c=IN IP4 127.0.0.1',
        't=0 0',
        'm=audio 40000 RTP/AVP 111',
        'a=rtpmap:111 opus/48000/2',
        `a=ptime:${ptime}`,
        '',
      ].join('\r\n');
    const local = { address: '127.0.0.1', port: 20000, sessionId: 1, version: 1 };
    for (let ptime = 10; ptime <= 120; ptime++) {
      const samples = answerOffer(offer(ptime), local, 'sendrecv').negotiated.ptime * 8;
      expect(codec.decode(codec.encode(tone(440, samples))).length, `ptime ${ptime}`).toBe(samples);
    }
    codec.close();
  });

  it('conceals a lost frame with audio that continues the tone, and refuses garbage with a CodecError', async () => {
    const codec = await OpusCodec.create();
    for (let f = 0; f < 20; f++) {
      codec.decode(codec.encode(tone(440, 160, f * 160)));
    }
    const concealed = codec.conceal(160);
    expect(concealed.length).toBe(160);
    expect(Math.max(...concealed.map(Math.abs))).toBeGreaterThan(500);
    expect(() => codec.decode(new Uint8Array(0))).toThrow(CodecError);
    codec.close();
  });
  it('conceals a burst of lost 10 ms frames as one continuous signal, frame by frame', async () => {
    const codec = await OpusCodec.create();
    for (let f = 0; f < 20; f++) {
      codec.decode(codec.encode(tone(440, 80, f * 80)));
    }
    const lastHeard = codec.decode(codec.encode(tone(440, 80, 20 * 80)));
    const concealed = [codec.conceal(80), codec.conceal(80), codec.conceal(80)];
    expect(concealed.map((frame) => frame.length)).toEqual([80, 80, 80]);
    const burst = Int16Array.from(concealed.flatMap((frame) => Array.from(frame)));
    // Concealing each frame as the first of 120 ms of concealment scored 0.34 here.
    expect(share(burst, 440)).toBeGreaterThan(0.7);
    const steepestToneStep = (2 * Math.PI * 440 * 8000) / 8000;
    const joined = [lastHeard.at(-1) ?? 0, ...burst];
    const steepest = Math.max(...joined.slice(1).map((v, i) => Math.abs(v - (joined[i] ?? 0))));
    expect(steepest).toBeLessThan(1.1 * steepestToneStep);
    codec.close();
  });

  it('conceals with silence before any packet was heard', async () => {
    const codec = await OpusCodec.create();
    expect(codec.conceal(160)).toEqual(new Int16Array(160));
    codec.close();
  });
});

describe('Opus in-band FEC', () => {
  const TONES = [300, 500, 700, 400, 600];
  const toneOf = (frame: number): number => TONES[Math.floor(frame / 4) % TONES.length] ?? 0;

  /**
   * 200 frames of tones that change every fourth frame, encoded by carphone, decoded by Debian's
   * libopus with the first frame of every tone lost and taken from the next packet's in-band FEC:
   * how much of each lost frame is its tone. Nothing before a lost frame tells what tone it held.
   */
  async function recoveredShares(fec: boolean): Promise<number[]> {
    const codec = await OpusCodec.create();
    codec.sendInbandFec(fec);
    codec.expectLoss(10);
    const packets = Array.from({ length: 200 }, (_, k) => codec.encode(tone(toneOf(k), 160, k * 160)));
    codec.close();
    const pcm = decodeLosingEveryNth(packets, 4, 160);
    const shares: number[] = [];
    for (let k = 8; k < 196; k += 4) {
      // Past the first 5 ms: the decoder's own delay still holds the tone before.
      shares.push(share(pcm.subarray(k * 160 + 40, (k + 1) * 160), toneOf(k)));
    }
    return shares;
  }

  it('carries each frame again in the next packet, from which a lost frame is recovered, when asked to', async () => {
    expect(Math.min(...(await recoveredShares(true)))).toBeGreaterThan(0.5);
    // Without it the lost frames are the decoder's guesses from the tone before: none holds its own.
    expect(Math.max(...(await recoveredShares(false)))).toBeLessThan(0.2);
  });
});

describe('G.711 concealment', () => {
  /** Frames 0-9 of a 440 Hz tone heard, then `lost` frames concealed, then frame 10 + lost heard. */
  function lossOf(lost: number): { played: Int16Array; concealed: Int16Array } {
    const codec = new G711Codec('PCMU');
    const played: number[] = [];
    for (let f = 0; f < 10; f++) {
      played.push(...codec.decode(codec.encode(tone(440, 160, f * 160))));
    }
    const concealed: number[] = [];
    for (let f = 0; f < lost; f++) {
      concealed.push(...codec.conceal(160));
    }
    played.push(...concealed);
    for (let f = 10 + lost; f < 14 + lost; f++) {
      played.push(...codec.decode(codec.encode(tone(440, 160, f * 160))));
    }
    return { played: Int16Array.from(played), concealed: Int16Array.from(concealed) };
  }

  function largestStep(pcm: Int16Array): number {
    return Math.max(...pcm.slice(1).map((v, i) => Math.abs(v - (pcm[i] ?? 0))));
  }
  const steepestToneStep = (2 * Math.PI * 440 * 8000) / 8000;

  it('continues a voiced sound through a lost frame in phase, and the next frame joins without a click', () => {
    const { played, concealed } = lossOf(1);
    // Repeating the whole last frame, as before, scored 0.72 here (its phase jumped).
    expect(share(played.subarray(1440, 1920), 440)).toBeGreaterThan(0.95);
    expect(Math.max(...concealed.subarray(0, 80).map(Math.abs))).toBeGreaterThan(7000);
    expect(largestStep(played)).toBeLessThan(1.5 * steepestToneStep);
  });

  it('fades a burst of losses out from 10 ms to silence at 60 ms, and comes back without a click', () => {
    const { played, concealed } = lossOf(4);
    const peak = (from: number, to: number): number =>
      Math.max(...concealed.subarray(from, to).map(Math.abs));
    expect(peak(0, 80)).toBeGreaterThan(7000);
    expect(peak(240, 280)).toBeGreaterThan(2500); // 30-35 ms: 0.6-0.5 of full level
    expect(peak(240, 280)).toBeLessThan(5000);
    expect(peak(480, 640)).toBe(0);
    expect(largestStep(played)).toBeLessThan(1.5 * steepestToneStep);
  });

  it('conceals with silence when too little was heard to find a pitch', () => {
    const codec = new G711Codec('PCMU');
    codec.decode(codec.encode(tone(440, 160)));
    expect(codec.conceal(160)).toEqual(new Int16Array(160));
  });
});
