import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Carphoned, DaemonBuild } from '../harness/carphoned.js';
import { PrivateBus } from '../harness/dbus-daemon.js';
import { analyseFirst, medianWindowShare, writeTone } from '../harness/audio.js';
import type { OfonoClient } from '../../service/client/ofono-client.js';
import { waitFor } from '../harness/process.js';
import { freePort } from '../harness/ports.js';

// The same daemon as npm start runs it, compiled by tsc, and as the deb installs it and the systemd
// unit runs it: the files it reads at run time (the jitter buffer's WebAssembly, the UDP addon, the
// reference CAN bindings) and the packages it imports must be found in each.
describe.each([
  { how: 'run from its TypeScript sources', makeBuild: (): DaemonBuild | undefined => undefined },
  { how: 'compiled by tsc (npm run build)', makeBuild: (): DaemonBuild | undefined => DaemonBuild.make() },
  {
    how: 'packaged by electron-builder, run as the systemd unit runs it',
    makeBuild: (): DaemonBuild | undefined => DaemonBuild.packaged(),
  },
])('the built-in *43 echo line, carphoned $how', ({ makeBuild }) => {
  let bus: PrivateBus;
  let build: DaemonBuild | undefined;
  let daemon: Carphoned;
  let client: OfonoClient;
  let canPort: number;
  const dir = mkdtempSync(join(tmpdir(), 'carphone-echo-'));

  beforeAll(async () => {
    bus = await PrivateBus.start();
    writeTone(join(dir, 'tone.wav'), 700, 30);
    build = makeBuild();
    canPort = await freePort();
    daemon = await Carphoned.start(
      {
        dbus: { bus: bus.address },
        audio: { device: { type: 'file', play: join(dir, 'tone.wav'), record: join(dir, 'rec') } },
        accounts: [{ id: 'local', user: 'driver', domain: '127.0.0.1' }],
      },
      ['--can', `udp:${canPort}`],
      {},
      build,
    );
    client = await daemon.client();
  }, 120_000);

  afterAll(async () => {
    client?.disconnect();
    await daemon?.stop();
    await bus?.stop();
    build?.remove();
  });

  it('listens to the car through the reference CAN bindings', async () => {
    const vehicle = await client.properties('/vehicle', 'org.carphone.Vehicle');
    expect(vehicle['Source']).toBe(`udp:127.0.0.1:${canPort}`);
    expect(vehicle['SourceError']).toBe('');
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
