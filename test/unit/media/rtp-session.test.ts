import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../service/log/logger.js';
import type { AudioDevice } from '../../../service/media/devices/audio-device.js';
import type { MediaSession } from '../../../service/media/media-session.js';
import { RtpMediaFactory, type RtpSessionOptions } from '../../../service/media/rtp-session.js';
import { DgramRtpSocket } from '../../../service/media/transport/dgram-rtp-socket.js';
import type { AudioCodec, NegotiatedAudio } from '../../../service/sdp/offer-answer.js';
import { toneShare } from '../../harness/audio.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const PCMU: AudioCodec = { name: 'PCMU', payloadType: 0, clockRate: 8000 };
const OPUS: AudioCodec = { name: 'OPUS', payloadType: 96, clockRate: 48000 };

/** A microphone playing a continuous 440 Hz tone (failing every `failEvery`th read if given), and a speaker that keeps what it is given. */
function testDevice(failEvery = 0): AudioDevice & { played: number[] } {
  let reads = 0;
  let t = 0;
  const played: number[] = [];
  return {
    kind: 'test',
    played,
    openCall: () => ({
      source: {
        read(count) {
          reads++;
          if (failEvery > 0 && reads % failEvery === 0) {
            throw new Error('microphone unavailable');
          }
          return Int16Array.from({ length: count }, () =>
            Math.round(8000 * Math.sin((2 * Math.PI * 440 * t++) / 8000)),
          );
        },
      },
      sink: { write: (pcm) => played.push(...pcm), close: () => undefined },
    }),
  };
}

describe('RTP session', () => {
  const sessions: MediaSession[] = [];
  afterEach(() => sessions.splice(0).forEach((s) => s.setMode('stop')));

  /** Two sessions on loopback, each sending in its own ptime to the other. */
  async function pair(
    codec: AudioCodec,
    a: { device: AudioDevice; ptime: number },
    b: { device: AudioDevice; ptime: number },
    openRtpSocket?: RtpSessionOptions['openRtpSocket'],
  ): Promise<[MediaSession, MediaSession]> {
    const options: RtpSessionOptions = {
      rtcpIntervalMs: 60_000,
      cname: 'test',
      codecs: ['OPUS', 'PCMU'],
      ...(openRtpSocket ? { openRtpSocket } : {}),
    };
    const open = (device: AudioDevice, tag: string): Promise<MediaSession> =>
      new RtpMediaFactory('127.0.0.1', { min: 41000, max: 42999 }, device, silentLogger, options).create(tag);
    const sa = await open(a.device, 'a');
    const sb = await open(b.device, 'b');
    sessions.push(sa, sb);
    const towards = (peer: MediaSession, ptime: number): NegotiatedAudio => ({
      remoteAddress: '127.0.0.1',
      remotePort: peer.localPort,
      remoteRtcpPort: peer.localPort + 1,
      codec,
      remoteDirection: 'sendrecv',
      ptime,
    });
    sa.configure(towards(sb, a.ptime));
    sb.configure(towards(sa, b.ptime));
    return [sa, sb];
  }

  it('goes on sending and playing when a frame fails, and counts the failed frames', async () => {
    const deviceA = testDevice(3);
    const [a, b] = await pair(PCMU, { device: deviceA, ptime: 20 }, { device: testDevice(3), ptime: 20 });
    a.setMode({ send: true, receive: true });
    b.setMode({ send: true, receive: true });
    await sleep(1000);
    const [sa, sb] = [a.stats(), b.stats()];
    // About 50 ticks each: a third of the sends fail, the rest go out and arrive.
    expect(sa.framesFailed).toBeGreaterThan(10);
    expect(sa.packetsSent).toBeGreaterThan(25);
    expect(sb.packetsReceived).toBeGreaterThan(25);
    // A lost frame leaves a gap in the timestamps, not a shift: the far end's buffer sees no delay build up.
    expect(sb.jitter?.late).toBe(0);
    expect(sb.jitter?.delayMs).toBeLessThan(60);
    // Playout ran on every tick, failed sends or not, and played the other side's audio.
    expect(sa.jitter?.played).toBeGreaterThan(25);
    expect(deviceA.played.some((v) => Math.abs(v) > 4000)).toBe(true);
  });

  it.each([PCMU, OPUS])(
    "plays a far end's %s tone through Node's own sockets, where native/udp is not built",
    async (codec) => {
      const ear = testDevice();
      const [far, near] = await pair(
        codec,
        { device: testDevice(), ptime: 20 },
        { device: ear, ptime: 20 },
        (address, port) => DgramRtpSocket.open(address, port),
      );
      far.setMode({ send: true, receive: false });
      await sleep(7);
      near.setMode({ send: false, receive: true });
      await sleep(1000);
      expect(near.stats().packetsReceived).toBeGreaterThan(40);
      const heard = Int16Array.from(ear.played);
      expect(heard.length).toBeGreaterThan(0.85 * 8000);
      expect(toneShare(heard.subarray(heard.length - 4000), 8000, 440)).toBeGreaterThan(0.8);
    },
  );

  it('goes on playing when the network sends datagrams that are not RTP, and counts them', async () => {
    const ear = testDevice();
    const [far, near] = await pair(PCMU, { device: testDevice(), ptime: 20 }, { device: ear, ptime: 20 });
    far.setMode({ send: true, receive: false });
    await sleep(7);
    near.setMode({ send: false, receive: true });
    const junk = createSocket('udp4');
    const garbage = [
      [],
      [0x80],
      [0x80, 200],
      [0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 200],
      [0x8f, 0, 0, 1],
    ];
    for (let i = 0; i < 20; i++) {
      for (const g of garbage) {
        junk.send(Uint8Array.from(g), near.localPort, '127.0.0.1');
      }
      await sleep(50);
    }
    junk.close();
    await sleep(200);
    const stats = near.stats();
    expect(stats.packetsDiscarded).toBeGreaterThanOrEqual(20 * garbage.length);
    // The clock ran on through all of it: about 1.2 s of audio, the tone to the end.
    expect(ear.played.length).toBeGreaterThan(0.8 * 9600);
    const last = Int16Array.from(ear.played.slice(-4000));
    expect(toneShare(last, 8000, 440)).toBeGreaterThan(0.8);
  });

  it.each([
    [PCMU, 10],
    [OPUS, 10],
    [PCMU, 30],
    [PCMU, 40],
    [PCMU, 60],
    [OPUS, 40],
  ])(
    "plays a far end's %s packets of %i ms in a 20 ms call at the speed they were sent, without gaps",
    async (codec, farPtime) => {
      const { heard, concealed } = await listen(codec, farPtime);
      // Nothing is lost on loopback: a concealed frame would be the buffer misjudging when to play.
      expect(concealed).toBe(0);
      // 2 s of ticks: 2 s of audio, give or take the buffer's start and its reshaping (1.5 × when each
      // 40 ms packet was taken for one 20 ms frame and a concealed one played after it; 0.5 × when
      // each 10 ms packet was).
      expect(heard.length).toBeGreaterThan(0.85 * 16000);
      expect(heard.length).toBeLessThan(1.05 * 16000);
      // The tone runs on: every 100 ms of the last second holds it.
      const last = heard.subarray(heard.length - 8000);
      for (let i = 0; i < 10; i++) {
        expect(toneShare(last.subarray(i * 800, (i + 1) * 800), 8000, 440)).toBeGreaterThan(0.8);
      }
    },
  );

  /** 2 s of what a 20 ms session plays from a far end sending in `farPtime`, and what it concealed. */
  async function listen(
    codec: AudioCodec,
    farPtime: number,
  ): Promise<{ heard: Int16Array; concealed: number | undefined }> {
    const ear = testDevice();
    const [far, near] = await pair(
      codec,
      { device: testDevice(), ptime: farPtime },
      { device: ear, ptime: 20 },
    );
    far.setMode({ send: true, receive: false });
    // Two sessions of one process started together tick in the same timer pass, and which goes first
    // changes from pass to pass: packets would arrive a few microseconds either side of our tick. A real
    // far end's packets come at some other point of our frame.
    await sleep(7);
    near.setMode({ send: false, receive: true });
    await sleep(2000);
    return { heard: Int16Array.from(ear.played), concealed: near.stats().jitter?.concealed };
  }
});
