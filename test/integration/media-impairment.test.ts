import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileDevice } from '../../service/media/devices/file-device.js';
import { RtpMediaFactory } from '../../service/media/rtp-session.js';
import { silentLogger } from '../../service/log/logger.js';
import type { NegotiatedAudio } from '../../service/sdp/offer-answer.js';
import { analyseWav, medianWindowShare, writeTone } from '../harness/audio.js';
import { ImpairmentRelay } from '../harness/impairment-relay.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Two of carphone's own RTP sessions, each with its codec and jitter buffer, with the audio of one
 * passing through an impairment relay to the other over real UDP on loopback.
 */
describe('media through an impaired link', () => {
  for (const codec of [
    { name: 'PCMU' as const, payloadType: 0, clockRate: 8000 as const },
    { name: 'OPUS' as const, payloadType: 96, clockRate: 48000 as const },
  ]) {
    it(`carries a ${codec.name} tone through delay, jitter, burst loss and reordering, concealing and adapting`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'carphone-impair-'));
      writeTone(join(dir, '700.wav'), 700, 30);
      const options = { rtcpIntervalMs: 1000, cname: 'test' };
      const talker = await new RtpMediaFactory(
        '127.0.0.1',
        { min: 42000, max: 42999 },
        new FileDevice(join(dir, '700.wav'), undefined),
        silentLogger,
        options,
      ).create('talker');
      // The listener sends no RTP keep-alive (RFC 6263): sent straight to the talker, it would make the
      // talker latch onto it (symmetric RTP) and send past the relay.
      const listener = await new RtpMediaFactory(
        '127.0.0.1',
        { min: 43000, max: 43999 },
        new FileDevice(undefined, join(dir, 'rec')),
        silentLogger,
        { ...options, keepAliveMs: 0 },
      ).create('listener');
      const relay = await ImpairmentRelay.start(
        { address: '127.0.0.1', port: listener.localPort },
        { delayMs: 30, jitterMs: 25, lossEnter: 0.03, lossStay: 0.5, reorderShare: 0.05, seed: 11 },
      );
      const to = (port: number): NegotiatedAudio => ({
        remoteAddress: '127.0.0.1',
        remotePort: port,
        remoteRtcpPort: port + 1,
        codec,
        remoteDirection: 'sendrecv',
        ptime: 20,
      });
      talker.configure(to(relay.port));
      listener.configure(to(talker.localPort));
      talker.setMode({ send: true, receive: false });
      listener.setMode({ send: false, receive: true });
      await sleep(6000);
      const quality = listener.quality();
      const jitter = listener.stats().jitter;
      talker.close();
      listener.close();
      relay.close();
      await sleep(200);

      // The relay really impaired the stream: packets lost in bursts, and some overtaken.
      expect(relay.counts.dropped).toBeGreaterThan(5);
      expect(relay.counts.held).toBeGreaterThan(5);
      // The receiver measured it: loss near what the relay dropped, jitter of the order it added,
      // and a jitter buffer holding audio above the fastest packet's transit.
      expect(quality.lossPct).toBeGreaterThan(1);
      expect(quality.jitterMs).toBeGreaterThan(3);
      expect(quality.jitterBufferMs).toBeGreaterThan(10);
      // The jitter buffer concealed the lost frames, and played every other one exactly once.
      expect(jitter?.concealed).toBeGreaterThan(3);
      expect(jitter?.played).toBeGreaterThan(200);
      expect(jitter?.duplicate).toBe(0);
      // And the tone still came through, concealed where packets were missing.
      const rec = readdirSync(join(dir, 'rec'))[0];
      const recPath = join(dir, 'rec', rec ?? '');
      const heard = analyseWav(recPath);
      expect(heard.hz).toBe(700);
      expect(medianWindowShare(recPath, 700)).toBeGreaterThan(0.8);
      expect(heard.seconds).toBeGreaterThan(5);
    });
  }
});
