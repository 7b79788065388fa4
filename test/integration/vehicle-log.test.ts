import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatFrame, type CanFrame } from '../../can/frame.js';
import { parseCandumpLine } from '../../can/transport/candump-log.js';
import { encodeCannelloni } from '../../can/transport/cannelloni.js';
import { loadBindings } from '../../service/vehicle/bindings-load.js';
import type { SignalRecord } from '../../service/client/ofono-client.js';
import { Carphoned, REPO } from '../harness/carphoned.js';
import { PrivateBus } from '../harness/dbus-daemon.js';
import { freePort } from '../harness/ports.js';
import { waitFor } from '../harness/process.js';
import { frameFor } from '../unit/vehicle/frames.js';

const reference = loadBindings(join(REPO, 'can/bindings/carphone-reference.yaml'));

/**
 * A drive as candump would log it: the keys message every 100 ms and the crash telegram every 20 ms,
 * with a short press of the phone key, a long press of the hang-up key, then a crash.
 */
function writeDriveLog(path: string): void {
  const lines: string[] = [];
  let crashCounter = 0;
  let crashing = false;
  let keysDown: Record<string, number> = {};
  for (let ms = 0; ms <= 4000; ms += 20) {
    const t = (1_700_000_000 + ms / 1000).toFixed(6);
    if (ms === 600) {
      keysDown = { PhoneKey: 1 };
    }
    if (ms === 900) {
      keysDown = {};
    }
    if (ms === 1400) {
      keysDown = { HangUpKey: 1 };
    }
    if (ms === 2600) {
      keysDown = {};
    }
    if (ms === 3000) {
      crashing = true;
    }
    const crash = frameFor(
      reference,
      'CP_Crash',
      crashing ? { CrashDetected: 1, CrashSeverity: 5, SeatsOccupied: 3 } : { SeatsOccupied: 3 },
      crashCounter++ % 16,
    );
    lines.push(`(${t}) can0 ${formatFrame(crash)}`);
    if (ms % 100 === 0) {
      lines.push(
        `(${t}) can0 ${formatFrame(frameFor(reference, 'CP_SteeringWheel', { ...keysDown, SWM_Counter: (ms / 100) % 16 }))}`,
      );
    }
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

const expectedButtons = [
  ['phone', 'short'],
  ['hangup', 'long'],
];

function summary(signals: SignalRecord[]): { buttons: unknown[][]; emergencies: unknown[]; hmi: unknown[] } {
  return {
    buttons: signals.filter((s) => s.member === 'Button').map((s) => s.args),
    emergencies: signals.filter((s) => s.member === 'EmergencyTrigger').map((s) => s.args[0]),
    hmi: signals.filter((s) => s.member === 'HmiRequest').map((s) => s.args[0]),
  };
}

describe('the same recorded drive, over both transports', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carphone-drive-'));
  const log = join(dir, 'drive.log');
  let bus: PrivateBus;

  beforeAll(async () => {
    writeDriveLog(log);
    bus = await PrivateBus.start();
  });

  afterAll(async () => {
    await bus?.stop();
  });

  const config = { echoTest: { enabled: false }, accounts: [{ id: 'sip0', user: 'u', domain: '127.0.0.1' }] };

  it('replayed from the candump log: one short phone press, one long hang-up press, one crash trigger', async () => {
    const daemon = await Carphoned.start({ ...config, dbus: { bus: bus.address } }, [
      '--can',
      `replay:${log}`,
    ]);
    try {
      const client = await daemon.client();
      await client.waitForSignal((s) => s.member === 'EmergencyTrigger', 15_000);
      await new Promise((r) => setTimeout(r, 1200));
      expect(summary(client.signals)).toEqual({
        buttons: expectedButtons,
        emergencies: ['automatic'],
        hmi: ['recents'],
      });
      client.disconnect();
    } finally {
      await daemon.stop();
    }
  });

  it("sent over CAN-over-UDP (cannelloni) at the log's pace: exactly the same events", async () => {
    const port = await freePort();
    const daemon = await Carphoned.start({ ...config, dbus: { bus: bus.address } }, ['--can', `udp:${port}`]);
    const udp = createSocket('udp4');
    try {
      const client = await daemon.client();
      const frames: CanFrame[] = readFileSync(log, 'latin1')
        .split('\n')
        .filter(Boolean)
        .map((l) => parseCandumpLine(l)?.frame)
        .filter((f): f is CanFrame => f !== undefined);
      const start = performance.now();
      const first = frames[0]?.timestampMs ?? 0;
      let seq = 0;
      for (let i = 0; i < frames.length;) {
        const due = (frames[i]?.timestampMs ?? 0) - first;
        const batch: CanFrame[] = [];
        while (i < frames.length && (frames[i]?.timestampMs ?? 0) - first === due) {
          batch.push(frames[i] as CanFrame);
          i++;
        }
        const wait = due - (performance.now() - start);
        if (wait > 0) {
          await new Promise((r) => setTimeout(r, wait));
        }
        udp.send(encodeCannelloni(batch, seq++), port, '127.0.0.1');
      }
      await waitFor('trigger', () => client.signals.some((s) => s.member === 'EmergencyTrigger'), 5000);
      await new Promise((r) => setTimeout(r, 500));
      expect(summary(client.signals)).toEqual({
        buttons: expectedButtons,
        emergencies: ['automatic'],
        hmi: ['recents'],
      });
      client.disconnect();
    } finally {
      udp.close();
      await daemon.stop();
    }
  });
});
