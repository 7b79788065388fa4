import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Carphoned } from '../harness/carphoned.js';
import { PrivateBus } from '../harness/dbus-daemon.js';
import { analyseFirst, medianWindowShare, writeTone } from '../harness/audio.js';
import type { OfonoClient } from '../../service/client/ofono-client.js';
import { waitFor } from '../harness/process.js';

describe('the built-in *43 echo line', () => {
  let bus: PrivateBus;
  let daemon: Carphoned;
  let client: OfonoClient;
  const dir = mkdtempSync(join(tmpdir(), 'carphone-echo-'));

  beforeAll(async () => {
    bus = await PrivateBus.start();
    writeTone(join(dir, 'tone.wav'), 700, 30);
    daemon = await Carphoned.start({
      dbus: { bus: bus.address },
      audio: { device: { type: 'file', play: join(dir, 'tone.wav'), record: join(dir, 'rec') } },
      accounts: [{ id: 'local', user: 'driver', domain: '127.0.0.1' }],
    });
    client = await daemon.client();
  });

  afterAll(async () => {
    client?.disconnect();
    await daemon?.stop();
    await bus?.stop();
  });

  it("answers *43 over real SIP and returns the caller's own audio", async () => {
    const path = await client.dial('/local', '*43');
    expect(path).toBe('/local/voicecall01');
    await client.waitForCallState(path, 'active');
    await new Promise((r) => setTimeout(r, 1500));
    await client.hangup(path);
    await client.waitForSignal((s) => s.member === 'CallRemoved' && s.args[0] === path);
    const files = await waitFor('the recording of the call', () => {
      const f = readdirSync(join(dir, 'rec')).map((name) => join(dir, 'rec', name));
      return f.length > 0 ? f : undefined;
    });
    const rec = analyseFirst(files);
    expect(rec?.hz).toBe(700);
    // Through two jitter buffers (the echo line's and the call's): judged over 200 ms windows.
    expect(medianWindowShare(files[0] ?? '', 700)).toBeGreaterThan(0.8);
    expect(rec?.seconds).toBeGreaterThan(0.8);
  });
});
