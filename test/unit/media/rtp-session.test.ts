import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../service/log/logger.js';
import type { AudioDevice } from '../../../service/media/devices/audio-device.js';
import type { MediaSession } from '../../../service/media/media-session.js';
import { RtpMediaFactory } from '../../../service/media/rtp-session.js';
import type { NegotiatedAudio } from '../../../service/sdp/offer-answer.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A microphone that fails every third read, and a speaker that keeps what it is given. */
function flakyDevice(): AudioDevice & { played: number[] } {
  let reads = 0;
  const played: number[] = [];
  return {
    kind: 'test',
    played,
    openCall: () => ({
      source: {
        read(count) {
          reads++;
          if (reads % 3 === 0) {
            throw new Error('microphone unavailable');
          }
          return Int16Array.from({ length: count }, (_, i) => Math.round(8000 * Math.sin(i / 2)));
        },
      },
      sink: { write: (pcm) => played.push(...pcm), close: () => undefined },
    }),
  };
}

describe('RTP session clock', () => {
  const sessions: MediaSession[] = [];
  afterEach(() => sessions.splice(0).forEach((s) => s.setMode('stop')));

  it('goes on sending and playing when a frame fails, and counts the failed frames', async () => {
    const deviceA = flakyDevice();
    const deviceB = flakyDevice();
    const options = { rtcpIntervalMs: 60_000, cname: 'test', codecs: ['PCMU'] as const };
    const open = (device: AudioDevice, tag: string): Promise<MediaSession> =>
      new RtpMediaFactory('127.0.0.1', { min: 41000, max: 42999 }, device, silentLogger, options).create(tag);
    const a = await open(deviceA, 'a');
    const b = await open(deviceB, 'b');
    sessions.push(a, b);
    const towards = (peer: MediaSession): NegotiatedAudio => ({
      remoteAddress: '127.0.0.1',
      remotePort: peer.localPort,
      remoteRtcpPort: peer.localPort + 1,
      codec: { name: 'PCMU', payloadType: 0, clockRate: 8000 },
      remoteDirection: 'sendrecv',
      ptime: 20,
    });
    a.configure(towards(b));
    b.configure(towards(a));
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
});
