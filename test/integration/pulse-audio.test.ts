import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OfonoClient } from '../../service/client/ofono-client.js';
import { analyseWav, medianWindowShare, writeTone } from '../harness/audio.js';
import { Baresip } from '../harness/baresip.js';
import { Carphoned } from '../harness/carphoned.js';
import { PrivateBus } from '../harness/dbus-daemon.js';
import { PrivatePipeWire, PrivatePulse, type PulseServer } from '../harness/pulseaudio.js';
import { waitFor } from '../harness/process.js';
import { failuresLogged } from '../harness/failure-logs.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.each([
  { server: 'PulseAudio', start: (): Promise<PulseServer> => PrivatePulse.start() },
  { server: "PipeWire's pipewire-pulse", start: (): Promise<PulseServer> => PrivatePipeWire.start() },
])('the pulse audio device, against a real $server', ({ start }) => {
  const dir = mkdtempSync(join(tmpdir(), 'carphone-pulse-test-'));
  let pulse: PulseServer;
  let bob: Baresip;
  let bus: PrivateBus;
  let daemon: Carphoned;
  let client: OfonoClient;

  beforeAll(async () => {
    writeTone(join(dir, '440.wav'), 440, 60);
    writeTone(join(dir, '900.wav'), 900, 6);
    pulse = await start();
    bob = await Baresip.start({ user: '2001', autoAnswer: true, sourceWav: join(dir, '440.wav') });
    bus = await PrivateBus.start();
    daemon = await Carphoned.start({
      dbus: { bus: bus.address },
      audio: {
        device: { type: 'pulse', server: pulse.server, sink: 'cabin_speaker', source: 'cabin_mic.monitor' },
      },
      accounts: [{ id: 'sip0', user: '1000', domain: '127.0.0.1' }],
    });
    client = await daemon.client();
  }, 60_000);

  afterAll(async () => {
    client?.disconnect();
    await daemon?.stop();
    await Promise.allSettled([bob?.stop(), bus?.stop(), pulse?.stop()]);
  });

  it("plays the far end into the cabin's speaker and sends the cabin's microphone to it", async () => {
    const before = bob.receivedRecordings();
    const speaker = pulse.record('cabin_speaker.monitor', join(dir, 'speaker.wav'));
    const since = client.signals.length;
    const path = await client.dial('/sip0', bob.uri);
    await client.waitForCallState(path, 'active', 10_000, since);
    // The driver speaks (a 900 Hz tone into the microphone) for the length of the call.
    await pulse.play(join(dir, '900.wav'), 'cabin_mic');
    await client.hangup(path);
    await waitFor('call ended', async () => (await client.calls('/sip0')).length === 0);
    await sleep(300);
    await speaker.stop();
    // Through carphone's jitter buffer (time-scale changes): judged over 200 ms windows.
    expect(analyseWav(join(dir, 'speaker.wav')).hz).toBe(440);
    expect(medianWindowShare(join(dir, 'speaker.wav'), 440)).toBeGreaterThan(0.8);
    const rec = await waitFor(
      'bob recording',
      () => bob.receivedRecordings().filter((f) => !before.includes(f))[0],
    );
    const heardByBob = analyseWav(rec);
    expect(heardByBob.hz).toBe(900);
    expect(heardByBob.share).toBeGreaterThan(0.5);
  });

  it("brings the call's audio back both ways when the audio server restarts during the call", async () => {
    const before = bob.receivedRecordings();
    const since = client.signals.length;
    const path = await client.dial('/sip0', bob.uri);
    await client.waitForCallState(path, 'active', 10_000, since);
    await sleep(1000);
    await pulse.restart();
    // Only after the restart: the far end recorded from the speaker, the driver speaking at 900 Hz.
    const speaker = pulse.record('cabin_speaker.monitor', join(dir, 'speaker-after-restart.wav'));
    await pulse.play(join(dir, '900.wav'), 'cabin_mic');
    await client.hangup(path);
    await waitFor('call ended', async () => (await client.calls('/sip0')).length === 0);
    await sleep(300);
    await speaker.stop();
    const heardInCabin = join(dir, 'speaker-after-restart.wav');
    expect(analyseWav(heardInCabin).hz).toBe(440);
    expect(medianWindowShare(heardInCabin, 440)).toBeGreaterThan(0.8);
    const rec = await waitFor(
      'bob recording',
      () => bob.receivedRecordings().filter((f) => !before.includes(f))[0],
    );
    expect(analyseWav(rec).hz).toBe(900);
    expect(daemon.log(200)).toMatch(/audio stream ended during the call; opening it again/);
    expect(failuresLogged(daemon)).toEqual([]);
  });
});
