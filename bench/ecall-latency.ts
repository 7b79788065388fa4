import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeCannelloni } from '../can/transport/cannelloni.js';
import { PsapSimulator, type PsapCall } from '../service/psap/psap-simulator.js';
import { loadBindings } from '../service/vehicle/bindings-load.js';
import { Carphoned, REPO } from '../test/harness/carphoned.js';
import { PrivateBus } from '../test/harness/dbus-daemon.js';
import { freePort } from '../test/harness/ports.js';
import { waitFor } from '../test/harness/process.js';
import { frameFor } from '../test/unit/vehicle/frames.js';
import { summarize, type Summary } from './stats.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Crash frame in → eCall INVITE on the wire: from sending the crash frame that completes the
 * confirmation (CAN over UDP) to the PSAP simulator receiving the INVITE. The peer in the same run
 * is the same daemon's eCall started over D-Bus (Emergency.Trigger) → INVITE at the PSAP.
 */
export async function ecallLatency(runs = 20): Promise<{ crashToInvite: Summary; dbusToInvite: Summary }> {
  const dir = mkdtempSync(join(tmpdir(), 'carphone-bench-ecall-'));
  // The reference bindings, re-armed after 1 s of quiet so that one run can hold many crashes.
  const bindingsPath = join(dir, 'bindings.yaml');
  writeFileSync(
    bindingsPath,
    readFileSync(join(REPO, 'can/bindings/carphone-reference.yaml'), 'utf8')
      .replace('dbc: ../dbc/carphone-reference.dbc', `dbc: ${join(REPO, 'can/dbc/carphone-reference.dbc')}`)
      .replace('rearmAfterMs: 600000', 'rearmAfterMs: 1000'),
  );
  const reference = loadBindings(bindingsPath);
  const psap = await PsapSimulator.start();
  const calls: { call: PsapCall; at: number }[] = [];
  psap.events.on('ecall', (call) => calls.push({ call, at: performance.now() }));
  const bus = await PrivateBus.start();
  const canPort = await freePort();
  const daemon = await Carphoned.start(
    {
      dbus: { bus: bus.address },
      log: { level: 'warn' },
      echoTest: { enabled: false },
      accounts: [{ id: 'sip0', user: '1000', domain: '127.0.0.1' }],
      ecall: { psap: psap.uri, vin: 'WVWZZZ1KZAW123456', callbackMinutes: 0 },
    },
    ['--can', `udp:${canPort}`, '--bindings', bindingsPath],
  );
  const client = await daemon.client();
  const udp = createSocket('udp4');
  let seq = 0;
  let counter = 0;
  const crashFrame = (crash: boolean): void => {
    const f = frameFor(
      reference,
      'CP_Crash',
      crash ? { CrashDetected: 1, SeatsOccupied: 1 } : { SeatsOccupied: 1 },
      counter++ % 16,
    );
    udp.send(encodeCannelloni([f], seq++), canPort, '127.0.0.1');
  };
  const idle = async (): Promise<void> => {
    await waitFor(
      'eCall idle',
      async () => (await client.properties('/sip0', 'org.carphone.Emergency')).State === 'idle',
      10_000,
      20,
    );
  };
  const crashToInvite: number[] = [];
  const dbusToInvite: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      // Quiet frames for longer than the re-arm time, then the crash confirmed in three frames.
      for (let q = 0; q < 60; q++) {
        crashFrame(false);
        await sleep(20);
      }
      crashFrame(true);
      await sleep(20);
      crashFrame(true);
      await sleep(20);
      const before = calls.length;
      const t0 = performance.now();
      crashFrame(true);
      const got = await waitFor('INVITE at the PSAP', () => calls[before], 5000, 1);
      crashToInvite.push((got.at - t0) * 1000);
      psap.clearDown(got.call.callId);
      await idle();
      const before2 = calls.length;
      const t1 = performance.now();
      void client.call('/sip0', 'org.carphone.Emergency', 'Trigger', 's', ['manual']);
      const got2 = await waitFor('INVITE at the PSAP', () => calls[before2], 5000, 1);
      dbusToInvite.push((got2.at - t1) * 1000);
      psap.clearDown(got2.call.callId);
      await idle();
    }
  } finally {
    udp.close();
    client.disconnect();
    await daemon.stop();
    psap.close();
    await bus.stop();
  }
  return { crashToInvite: summarize(crashToInvite), dbusToInvite: summarize(dbusToInvite) };
}
