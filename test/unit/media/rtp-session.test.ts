import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../service/log/logger.js';
import type { AudioDevice } from '../../../service/media/devices/audio-device.js';
import type { MediaSession } from '../../../service/media/media-session.js';
import {
  KEEP_ALIVE_PAYLOAD_TYPE,
  RtpMediaFactory,
  type RtpSessionOptions,
} from '../../../service/media/rtp-session.js';
import { DgramRtpSocket } from '../../../service/media/transport/dgram-rtp-socket.js';
import { TimerFrameClock } from '../../../service/media/clock/timer-frame-clock.js';
import { RtpHeaderReader } from '../../../service/media/rtp-header.js';
import { G711Codec } from '../../../service/media/codecs/g711-codec.js';
import { OpusCodec } from '../../../service/media/codecs/opus-codec.js';
import type { AudioCodec, NegotiatedAudio } from '../../../service/sdp/offer-answer.js';
import { toneShare } from '../../harness/audio.js';
import { ConferenceRoom } from '../../../service/media/conference.js';
import { decodeLosingEveryNth } from '../../harness/opus-fec.js';
import { TONE_PLANS } from '../../../service/media/tones.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const PCMU: AudioCodec = { name: 'PCMU', payloadType: 0, clockRate: 8000 };
const OPUS: AudioCodec = { name: 'OPUS', payloadType: 96, clockRate: 48000 };

/** A microphone playing a continuous tone (failing every `failEvery`th read if given), and a speaker that keeps what it is given. */
function testDevice(failEvery = 0, hz = 440): AudioDevice & { played: number[] } {
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
            Math.round(8000 * Math.sin((2 * Math.PI * hz * t++) / 8000)),
          );
        },
      },
      sink: { write: (pcm) => played.push(...pcm), close: () => undefined },
    }),
  };
}

/** An RTP packet as a bare far end received it. */
interface HeardPacket {
  seq: number;
  timestamp: number;
  marker: boolean;
  pt: number;
  ssrc: number;
  payload: Uint8Array;
}

/** How a session's datagrams and frames are carried: native/udp's socket and clock unless given. */
type Transport = Pick<RtpSessionOptions, 'openRtpSocket' | 'openFrameClock'>;

describe('RTP session', () => {
  const sessions: MediaSession[] = [];
  afterEach(() => sessions.splice(0).forEach((s) => s.setMode('stop')));

  /** A session on loopback, registered to be stopped after the test. */
  async function open(
    device: AudioDevice,
    tag: string,
    transport: Transport = {},
    more: Pick<RtpSessionOptions, 'keepAliveMs' | 'tones'> = {},
  ): Promise<MediaSession> {
    const options: RtpSessionOptions = {
      rtcpIntervalMs: 60_000,
      cname: 'test',
      codecs: ['OPUS', 'PCMU'],
      ...transport,
      ...more,
    };
    const session = await new RtpMediaFactory(
      '127.0.0.1',
      { min: 41000, max: 42999 },
      device,
      silentLogger,
      options,
    ).create(tag);
    sessions.push(session);
    return session;
  }

  /** What offer/answer would give a session sending `codec` in `ptime` to a loopback port. */
  const towards = (port: number, codec: AudioCodec, ptime: number): NegotiatedAudio => ({
    remoteAddress: '127.0.0.1',
    remotePort: port,
    remoteRtcpPort: port + 1,
    codec,
    remoteDirection: 'sendrecv',
    ptime,
  });

  /** Two sessions on loopback, each sending in its own ptime to the other. */
  async function pair(
    codec: AudioCodec,
    a: { device: AudioDevice; ptime: number },
    b: { device: AudioDevice; ptime: number },
    transport: Transport = {},
  ): Promise<[MediaSession, MediaSession]> {
    const sa = await open(a.device, 'a', transport);
    const sb = await open(b.device, 'b', transport);
    sa.configure(towards(sb.localPort, codec, a.ptime));
    sb.configure(towards(sa.localPort, codec, b.ptime));
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
    "plays a far end's %s tone through Node's own sockets and timers, where native/udp is not built",
    async (codec) => {
      const { heard, concealed } = await listen(codec, 20, {
        openRtpSocket: (address, port) => DgramRtpSocket.open(address, port),
        openFrameClock: (onTick) => new TimerFrameClock(onTick),
      });
      expect(concealed).toBe(0);
      expect(heard.length).toBeGreaterThan(0.85 * 16000);
      const last = heard.subarray(heard.length - 8000);
      for (let i = 0; i < 10; i++) {
        expect(toneShare(last.subarray(i * 800, (i + 1) * 800), 8000, 440)).toBeGreaterThan(0.8);
      }
    },
  );

  it('keeps the far ends of a held multiparty call talking with each other, without the cabin (cabin: false)', async () => {
    const cabin = testDevice(0, 440);
    const bob = testDevice(0, 700);
    const dave = testDevice(0, 1000);
    const [toBob, bobEnd] = await pair(PCMU, { device: cabin, ptime: 20 }, { device: bob, ptime: 20 });
    const [toDave, daveEnd] = await pair(PCMU, { device: cabin, ptime: 20 }, { device: dave, ptime: 20 });
    const room = new ConferenceRoom();
    for (const member of [toBob, toDave]) {
      member.setConference(room);
      member.setMode({ send: true, receive: true, cabin: false });
    }
    bobEnd.setMode({ send: true, receive: true });
    daveEnd.setMode({ send: true, receive: true });
    await sleep(1500);
    const lastSecond = (played: number[]): Int16Array => Int16Array.from(played.slice(-8000));
    const bobHeard = lastSecond(bob.played);
    const daveHeard = lastSecond(dave.played);
    expect(bobHeard.length).toBe(8000);
    expect(daveHeard.length).toBe(8000);
    // Each far end hears the other, and not the cabin's 440 Hz.
    expect(toneShare(bobHeard, 8000, 1000)).toBeGreaterThan(0.8);
    expect(toneShare(bobHeard, 8000, 440)).toBeLessThan(0.02);
    expect(toneShare(daveHeard, 8000, 700)).toBeGreaterThan(0.8);
    expect(toneShare(daveHeard, 8000, 440)).toBeLessThan(0.02);
    // The cabin hears neither, though both far ends' audio was played out into the mix.
    expect(cabin.played).toEqual([]);
    expect(toBob.stats().jitter?.played).toBeGreaterThan(50);
  });

  it('plays ringback alone before any answer, and gives way to the early media the far end sends', async () => {
    const speaker = testDevice();
    const [a, b] = await pair(
      PCMU,
      { device: speaker, ptime: 20 },
      { device: testDevice(0, 1000), ptime: 20 },
    );
    a.setLocalTone('ringback');
    await sleep(300);
    const ringing = Int16Array.from(speaker.played);
    expect(ringing.length).toBeGreaterThan(8 * 200);
    expect(toneShare(ringing, 8000, 425)).toBeGreaterThan(0.9);
    a.setMode({ send: false, receive: true });
    b.setMode({ send: true, receive: false });
    await sleep(500);
    // Within the ringback's first second, when it would still sound.
    const early = Int16Array.from(speaker.played.slice(-8 * 200));
    expect(toneShare(early, 8000, 1000)).toBeGreaterThan(0.5);
    expect(toneShare(early, 8000, 425)).toBeLessThan(0.01);
  });

  it("rings with a carmaker's recorded ringtone where the plan has one, from its start", async () => {
    const speaker = testDevice();
    // 0.1 s of 523 Hz, 0.1 s of silence: a recording no generator of carphone's makes.
    const pcm = Int16Array.from({ length: 1600 }, (_, i) =>
      i < 800 ? Math.round(6000 * Math.sin((2 * Math.PI * 523 * i) / 8000)) : 0,
    );
    const session = await open(speaker, 'a', {}, { tones: { ...TONE_PLANS.europe, ringtone: { pcm } } });
    session.setLocalTone('ringtone');
    await sleep(500);
    const rung = Int16Array.from(speaker.played);
    expect(rung.length).toBeGreaterThan(3200);
    expect(Array.from(rung.subarray(0, 3200))).toEqual([...pcm, ...pcm]);
    expect(toneShare(rung.subarray(0, 800), 8000, 523)).toBeGreaterThan(0.9);
  });

  it('mixes the call-waiting tone over the far end while told to, and plays the far end alone after', async () => {
    const speaker = testDevice();
    const [a, b] = await pair(
      PCMU,
      { device: speaker, ptime: 20 },
      { device: testDevice(0, 1000), ptime: 20 },
    );
    a.setMode({ send: true, receive: true });
    b.setMode({ send: true, receive: true });
    await sleep(500);
    const from = speaker.played.length;
    a.setLocalTone('call-waiting');
    await sleep(500);
    // The tone's first burst is its first 200 ms.
    const burst = Int16Array.from(speaker.played.slice(from, from + 1600));
    expect(toneShare(burst, 8000, 425)).toBeGreaterThan(0.1);
    expect(toneShare(burst, 8000, 1000)).toBeGreaterThan(0.1);
    a.setLocalTone(undefined);
    const after = speaker.played.length;
    await sleep(500);
    const rest = Int16Array.from(speaker.played.slice(after));
    expect(toneShare(rest, 8000, 425)).toBeLessThan(0.01);
    expect(toneShare(rest, 8000, 1000)).toBeGreaterThan(0.5);
  });

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

  /** A bare UDP far end on loopback, to see exactly what a session sends and to send it what we like. */
  async function bareFarEnd(): Promise<{
    socket: ReturnType<typeof createSocket>;
    port: number;
    heard: HeardPacket[];
  }> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const heard: HeardPacket[] = [];
    const reader = new RtpHeaderReader();
    socket.on('message', (m) => {
      if (reader.read(m)) {
        heard.push({
          seq: reader.sequenceNumber,
          timestamp: reader.timestamp,
          marker: reader.marker,
          pt: reader.payloadType,
          ssrc: reader.ssrc,
          payload: m.subarray(reader.payloadOffset, reader.payloadOffset + reader.payloadLength),
        });
      }
    });
    return { socket, port: socket.address().port, heard };
  }

  async function sessionTowards(
    port: number,
    device: AudioDevice,
    keepAlive: Pick<RtpSessionOptions, 'keepAliveMs'> = {},
  ): Promise<MediaSession> {
    const session = await open(device, 'hold', {}, keepAlive);
    session.configure(towards(port, PCMU, 20));
    return session;
  }

  /**
   * A far end's 440 Hz tone in 20 ms packets of `codec`, sent from a bare socket at the pace of the
   * clock; its timestamps move only while it sends. Packets made `withheld` go out all at once with the
   * next ones sent: a sender that stalled.
   */
  async function toneSender(
    socket: ReturnType<typeof createSocket>,
    port: number,
    codec: AudioCodec,
  ): Promise<{ sendFor: (ms: number, how?: 'withheld') => Promise<void> }> {
    const encoder = codec.name === 'OPUS' ? await OpusCodec.create() : new G711Codec('PCMU');
    const ticksPerFrame = (codec.clockRate / 1000) * 20;
    let seq = 100;
    let timestamp = 5000;
    let t = 0;
    const backlog: Buffer[] = [];
    const sendFor = async (ms: number, how?: 'withheld'): Promise<void> => {
      const end = performance.now() + ms;
      let next = performance.now();
      while (performance.now() < end) {
        const pcm = Int16Array.from({ length: 160 }, () =>
          Math.round(8000 * Math.sin((2 * Math.PI * 440 * t++) / 8000)),
        );
        const header = new Uint8Array(12);
        const view = new DataView(header.buffer);
        view.setUint8(0, 0x80);
        view.setUint8(1, codec.payloadType);
        view.setUint16(2, seq++ & 0xffff);
        view.setUint32(4, timestamp >>> 0);
        view.setUint32(8, 0x1234);
        timestamp += ticksPerFrame;
        backlog.push(Buffer.concat([header, encoder.encode(pcm)]));
        if (how !== 'withheld') {
          backlog.splice(0).forEach((packet) => socket.send(packet, port, '127.0.0.1'));
        }
        next += 20;
        await sleep(Math.max(0, next - performance.now()));
      }
    };
    return { sendFor };
  }

  it.each([PCMU, OPUS])(
    "bridges a 60 ms stall in the far end's $name packets without breaking its tone",
    async (codec) => {
      const far = await bareFarEnd();
      const ear = testDevice();
      const session = await open(ear, 'stall');
      session.configure(towards(far.port, codec, 20));
      session.setMode({ send: false, receive: true });
      const { sendFor } = await toneSender(far.socket, session.localPort, codec);
      await sendFor(1000);
      await sendFor(60, 'withheld');
      await sendFor(900);
      far.socket.close();
      const stats = session.stats().jitter;
      // The buffer ran dry and waited (expanded) for the packets held back, none was lost ...
      expect(stats?.expanded).toBeGreaterThan(0);
      expect(stats?.concealed).toBe(0);
      // ... and what it played while waiting continued the tone: repeating a frame (G.711's
      // concealment) jumps its phase, and Opus's concealment put the decoder a frame ahead of the
      // packets it then decoded.
      const heard = Int16Array.from(ear.played);
      for (let at = 4000; at + 800 <= heard.length; at += 400) {
        expect(toneShare(heard.subarray(at, at + 800), 8000, 440), `at ${at / 8} ms`).toBeGreaterThan(0.8);
      }
    },
  );

  it('adds Opus in-band FEC to what it sends once the far end, whose SDP asked for it, reports loss', async () => {
    const far = await bareFarEnd();
    // A microphone whose tone changes every fourth frame: a lost first frame of a tone cannot be
    // guessed from the frames before it, only recovered from FEC.
    const tones = [300, 500, 700, 400, 600];
    const toneOf = (frame: number): number => tones[Math.floor(frame / 4) % tones.length] ?? 0;
    let frame = 0;
    const microphone: AudioDevice = {
      kind: 'test',
      openCall: () => ({
        source: {
          read: (count) => {
            const hz = toneOf(frame++);
            return Int16Array.from({ length: count }, (_, i) =>
              Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 8000)),
            );
          },
        },
        sink: { write: () => undefined, close: () => undefined },
      }),
    };
    const session = await open(microphone, 'fec');
    session.configure({ ...towards(far.port, OPUS, 20), opusInbandFec: true });
    session.setMode({ send: true, receive: false });
    await sleep(500);
    const reportedAt = far.heard.length;
    // A receiver report (RFC 3550 §6.4.2) on our stream: 10 % (26/256) lost.
    const report = Buffer.alloc(32);
    report.writeUInt8(0x81, 0);
    report.writeUInt8(201, 1);
    report.writeUInt16BE(7, 2);
    report.writeUInt32BE(0x1234, 4);
    report.writeUInt32BE(far.heard[0]?.ssrc ?? 0, 8);
    report.writeUInt8(26, 12);
    far.socket.send(report, session.localPort + 1, '127.0.0.1');
    await sleep(1000);
    far.socket.close();
    const heard = far.heard;
    const firstSeq = heard[0]?.seq ?? 0;
    // Every packet in order, so that the tone of each frame is known from its sequence number.
    expect(heard.every((p, i) => p.seq === ((firstSeq + i) & 0xffff))).toBe(true);
    /** How much of each lost (first) frame of a tone Debian's libopus recovers, in packets [from, to). */
    const recovered = (from: number, to: number): number[] => {
      const start = from + ((4 - (from % 4)) % 4);
      const pcm = decodeLosingEveryNth(
        heard.slice(start, to).map((p) => p.payload),
        4,
        160,
      );
      const shares: number[] = [];
      for (let k = 4; k + start < to - 1; k += 4) {
        shares.push(toneShare(pcm.subarray(k * 160 + 40, (k + 1) * 160), 8000, toneOf(start + k)));
      }
      return shares;
    };
    // Before the report no loss was expected, and there was no FEC to recover from ...
    expect(Math.max(...recovered(0, reportedAt))).toBeLessThan(0.2);
    // ... after it (give or take the packets in flight), every lost frame came back.
    expect(Math.min(...recovered(reportedAt + 10, heard.length))).toBeGreaterThan(0.5);
  });

  it('resumes after a hold with its RTP timestamp moved on by the time held, the first packet marked', async () => {
    const far = await bareFarEnd();
    const session = await sessionTowards(far.port, testDevice());
    session.setMode({ send: true, receive: true });
    await sleep(300);
    const heldAt = performance.now();
    session.setMode({ send: false, receive: false });
    await sleep(700);
    const before = far.heard.length;
    const resumedAt = performance.now();
    session.setMode({ send: true, receive: true });
    await sleep(300);
    far.socket.close();
    const last = far.heard[before - 1];
    const first = far.heard[before];
    expect(last && first).toBeTruthy();
    if (!last || !first) {
      return;
    }
    // Sequence numbers count packets sent (no gap); the timestamp counts time (RFC 3550 §5.1): it
    // moved on by the 700 ms held, give or take the frame that was due when the hold came.
    expect(first.seq).toBe((last.seq + 1) & 0xffff);
    const movedMs = ((first.timestamp - last.timestamp) >>> 0) / 8;
    expect(movedMs).toBeGreaterThanOrEqual(resumedAt - heldAt - 20);
    expect(movedMs).toBeLessThanOrEqual(resumedAt - heldAt + 40);
    // A talkspurt starts there (RFC 3551 §4.1), as at the call's start, and only there.
    expect(first.marker).toBe(true);
    expect(far.heard[0]?.marker).toBe(true);
    expect(far.heard.filter((p) => p.marker)).toHaveLength(2);
  });

  it.each([
    ['our', { send: false, receive: false }],
    ["the far end's", { send: false, receive: true }],
  ] as const)(
    "starts its jitter buffer afresh after %s hold, however the far end's timestamps moved",
    async (_, held) => {
      const far = await bareFarEnd();
      const ear = testDevice();
      const session = await sessionTowards(far.port, ear);
      // A far end that, as carphone did before, stops its timestamps while it sends nothing.
      const { sendFor } = await toneSender(far.socket, session.localPort, PCMU);
      session.setMode({ send: true, receive: true });
      await sendFor(1000);
      session.setMode(held);
      await sleep(1500);
      session.setMode({ send: true, receive: true });
      const playedBefore = ear.played.length;
      await sendFor(1500);
      far.socket.close();
      const stats = session.stats();
      // Taken for 1.5 s of network delay, the pause would have held playout back by as much.
      expect(stats.jitter?.delayMs).toBeLessThan(100);
      expect(stats.jitter?.resets).toBe(1);
      const after = Int16Array.from(ear.played.slice(playedBefore));
      const lastSecond = after.subarray(after.length - 8000);
      for (let i = 0; i < 10; i++) {
        expect(toneShare(lastSecond.subarray(i * 800, (i + 1) * 800), 8000, 440)).toBeGreaterThan(0.8);
      }
    },
  );

  it('sends an RTP keep-alive at once and every interval while it sends no audio, and none while it does (RFC 6263)', async () => {
    const far = await bareFarEnd();
    const session = await sessionTowards(far.port, testDevice(), { keepAliveMs: 200 });
    const arrivals: number[] = [];
    far.socket.on('message', () => arrivals.push(performance.now()));
    // Early media, or a call answered on hold: nothing has gone out yet.
    const receiveOnlyAt = performance.now();
    session.setMode({ send: false, receive: true });
    await sleep(1000);
    session.setMode({ send: true, receive: true });
    await sleep(500);
    session.setMode({ send: false, receive: false });
    await sleep(700);
    far.socket.close();
    const isKeepAlive = (p: HeardPacket): boolean => p.pt === KEEP_ALIVE_PAYLOAD_TYPE;
    // Keep-alives, the first at once rather than an interval on, about five a second; then audio only
    // while it sends audio; then keep-alives again, an interval after the last frame.
    const pattern = far.heard.map((p) => (isKeepAlive(p) ? 'k' : p.pt === PCMU.payloadType ? 'a' : '?'));
    expect(pattern.join('')).toMatch(/^k{4,7}a{15,}k{2,4}$/);
    expect((arrivals[0] ?? Infinity) - receiveOnlyAt).toBeLessThan(100);
    const keepAliveTimes = arrivals.filter((_, i) => far.heard[i] && isKeepAlive(far.heard[i]));
    for (let i = 1; i < keepAliveTimes.length; i++) {
      expect((keepAliveTimes[i] ?? 0) - (keepAliveTimes[i - 1] ?? 0)).toBeGreaterThan(150);
    }
    // Empty, of the call's own stream: one SSRC, one run of sequence numbers through audio and keep-alives.
    expect(far.heard.filter(isKeepAlive).every((p) => p.payload.length === 0)).toBe(true);
    expect(new Set(far.heard.map((p) => p.ssrc)).size).toBe(1);
    far.heard.forEach((p, i) => {
      if (i > 0) {
        expect(p.seq).toBe(((far.heard[i - 1]?.seq ?? 0) + 1) & 0xffff);
      }
    });
    expect(session.stats().keepAlivesSent).toBe(far.heard.filter(isKeepAlive).length);
  });

  it('sends no RTP keep-alive before the call has a media mode, nor with keep-alives turned off', async () => {
    const far = await bareFarEnd();
    // A ringing incoming call: negotiated, but neither sending nor receiving yet.
    await sessionTowards(far.port, testDevice(), { keepAliveMs: 100 });
    const off = await sessionTowards(far.port, testDevice(), { keepAliveMs: 0 });
    off.setMode({ send: false, receive: true });
    await sleep(500);
    far.socket.close();
    expect(far.heard).toHaveLength(0);
    expect(off.stats().keepAlivesSent).toBe(0);
  });

  it("sends its audio to where the far end's keep-alives come from, and does not count them as bad input", async () => {
    const sdpAddress = await bareFarEnd();
    const behindNat = await bareFarEnd();
    const session = await sessionTowards(sdpAddress.port, testDevice(), { keepAliveMs: 0 });
    session.setMode({ send: false, receive: true });
    const keepAlive = new Uint8Array(12);
    keepAlive.set([0x80, KEEP_ALIVE_PAYLOAD_TYPE, 0, 7, 0, 0, 0, 1, 0, 0, 0, 9]);
    behindNat.socket.send(keepAlive, session.localPort, '127.0.0.1');
    await sleep(200);
    session.setMode({ send: true, receive: true });
    await sleep(300);
    sdpAddress.socket.close();
    behindNat.socket.close();
    expect(behindNat.heard.length).toBeGreaterThan(5);
    expect(sdpAddress.heard).toHaveLength(0);
    expect(session.stats().packetsDiscarded).toBe(0);
  });

  it('protects its keep-alives on an SRTP call: the far end authenticates them and latches onto them', async () => {
    const sender = await open(testDevice(), 'srtp-sender', {}, { keepAliveMs: 0 });
    const held = await open(testDevice(), 'srtp-held', {}, { keepAliveMs: 100 });
    // The held side's keep-alives come from its own port; the sender's SDP names another (a NAT's view).
    const sdpSays = await bareFarEnd();
    sender.configure({ ...towards(sdpSays.port, PCMU, 20), srtpRemoteInline: held.srtpInline });
    held.configure({ ...towards(sender.localPort, PCMU, 20), srtpRemoteInline: sender.srtpInline });
    held.setMode({ send: false, receive: true });
    sender.setMode({ send: false, receive: true });
    await sleep(350);
    sender.setMode({ send: true, receive: true });
    await sleep(300);
    sdpSays.socket.close();
    expect(held.stats().keepAlivesSent).toBeGreaterThanOrEqual(3);
    // Each passed SRTP authentication (a plain or badly protected one is dropped and counted here).
    expect(sender.stats().packetsDiscarded).toBe(0);
    // The sender's audio went to where the keep-alives came from, and played there.
    expect(sdpSays.heard).toHaveLength(0);
    expect(held.stats().packetsReceived).toBeGreaterThan(5);
  });

  it.each([
    ['native/udp', {}],
    [
      "Node's sockets",
      { openRtpSocket: (address: string, port: number) => DgramRtpSocket.open(address, port) },
    ],
  ] as const)(
    'moves to a new address through %s: it sends from there, plays what the far end sends there, and the old port is closed',
    async (_, transport) => {
      const ear = testDevice(0, 440);
      const [near, far] = await pair(
        PCMU,
        { device: ear, ptime: 20 },
        { device: testDevice(0, 1000), ptime: 20 },
        transport,
      );
      near.setMode({ send: true, receive: true });
      far.setMode({ send: true, receive: true });
      await sleep(300);
      const oldPort = near.localPort;
      await near.moveTo('127.0.0.2');
      expect(near.localAddress).toBe('127.0.0.2');
      // What the re-INVITE tells the far end.
      far.configure({ ...towards(near.localPort, PCMU, 20), remoteAddress: '127.0.0.2' });
      const playedBefore = ear.played.length;
      const farReceivedBefore = far.stats().packetsReceived;
      await sleep(600);
      expect(far.stats().packetsReceived - farReceivedBefore).toBeGreaterThan(15);
      const after = Int16Array.from(ear.played.slice(playedBefore + 1600));
      expect(toneShare(after, 8000, 1000)).toBeGreaterThan(0.8);
      // Nothing listens on the old port any more.
      const probe = createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        probe.once('error', reject);
        probe.bind(oldPort, '127.0.0.1', () => resolve());
      });
      probe.close();
    },
  );

  /**
   * 2 s of what a 20 ms session plays from a far end sending in `farPtime`, and what it concealed. Two
   * seconds, not one: on a loaded machine (CI runs test files side by side) the buffer may spend its
   * first second learning that packets come late, accelerating afterwards.
   */
  async function listen(
    codec: AudioCodec,
    farPtime: number,
    transport: Transport = {},
  ): Promise<{ heard: Int16Array; concealed: number | undefined }> {
    const ear = testDevice();
    const [far, near] = await pair(
      codec,
      { device: testDevice(), ptime: farPtime },
      { device: ear, ptime: 20 },
      transport,
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
