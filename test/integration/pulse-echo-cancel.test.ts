import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeWav } from '../../service/media/wav.js';
import { toneLevelDb, writeTone } from '../harness/audio.js';
import { Baresip } from '../harness/baresip.js';
import { Carphoned } from '../harness/carphoned.js';
import { PrivateBus } from '../harness/dbus-daemon.js';
import { PrivatePipeWire, PrivatePulse, type PulseServer } from '../harness/pulseaudio.js';
import { waitFor } from '../harness/process.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const FAR_HZ = 440;
const DRIVER_HZ = 900;

/** The driver talking: 900 Hz in 300 ms bursts with 300 ms pauses, as speech comes and goes. */
function writeDriver(path: string, seconds: number): void {
  const samples = Int16Array.from({ length: seconds * 8000 }, (_, i) =>
    Math.floor(i / 2400) % 2 === 0 ? Math.round(8000 * Math.sin((2 * Math.PI * DRIVER_HZ * i) / 8000)) : 0,
  );
  writeWav(path, { sampleRate: 8000, samples });
}

describe.each([
  {
    server: "PulseAudio's module-echo-cancel",
    start: (): Promise<PulseServer> => PrivatePulse.start({ echoingCabin: true }),
  },
  {
    server: "PipeWire's echo-cancel module",
    start: (): Promise<PulseServer> => PrivatePipeWire.start({ echoingCabin: true }),
  },
])('echo cancellation by $server, set up as docs/media.md tells integrators', ({ start }) => {
  const dir = mkdtempSync(join(tmpdir(), 'carphone-aec-test-'));
  let pulse: PulseServer;
  let bob: Baresip;
  let bus: PrivateBus;

  beforeAll(async () => {
    writeTone(join(dir, 'far.wav'), FAR_HZ, 60);
    writeDriver(join(dir, 'driver.wav'), 6);
    pulse = await start();
    bob = await Baresip.start({ user: '2001', autoAnswer: true, sourceWav: join(dir, 'far.wav') });
    bus = await PrivateBus.start();
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled([bob?.stop(), bus?.stop(), pulse?.stop()]);
  });

  /** One call from a daemon on the given source and sink, the driver talking in it; bob's recording. */
  async function callFromCabin(source: string, sink: string): Promise<string> {
    const daemon = await Carphoned.start({
      dbus: { bus: bus.address },
      audio: { device: { type: 'pulse', server: pulse.server, sink, source } },
      accounts: [{ id: 'sip0', user: '1000', domain: '127.0.0.1' }],
    });
    const client = await daemon.client();
    try {
      const before = bob.receivedRecordings();
      const since = client.signals.length;
      const path = await client.dial('/sip0', bob.uri);
      await client.waitForCallState(path, 'active', 10_000, since);
      // The far end alone for 2 s (the canceller converges), then the driver talks over it.
      await sleep(2000);
      await pulse.play(join(dir, 'driver.wav'), 'cabin_mic');
      await client.hangup(path);
      await waitFor('call ended', async () => (await client.calls('/sip0')).length === 0);
      return await waitFor(
        'bob recording',
        () => bob.receivedRecordings().filter((f) => !before.includes(f))[0],
      );
    } finally {
      client.disconnect();
      await daemon.stop();
    }
  }

  it("keeps the far end's own voice out of what it hears back, and the driver in", async () => {
    // The same cabin with the canceller bypassed: the microphone as it is, echo and all.
    const raw = await callFromCabin('cabin_mic.monitor', 'cabin_speaker');
    const cancelled = await callFromCabin('phone_mic', 'phone_speaker');
    // From 3 s: after the canceller's first seconds, through the driver's talk, to the end.
    const level = (wav: string, hz: number): number => toneLevelDb(wav, hz, 3, 8);
    const echo = { raw: level(raw, FAR_HZ), cancelled: level(cancelled, FAR_HZ) };
    const driver = { raw: level(raw, DRIVER_HZ), cancelled: level(cancelled, DRIVER_HZ) };
    // Without the canceller the far end hears itself about as loud as the driver.
    expect(echo.raw).toBeGreaterThan(driver.raw - 12);
    expect(echo.raw - echo.cancelled).toBeGreaterThan(12);
    expect(driver.raw - driver.cancelled).toBeLessThan(6);
  });
});
