import { join } from 'node:path';
import { Can, Dbc } from 'candied';
import { readFileSync } from 'node:fs';
import { ManualClock } from '../service/core/clock.js';
import { silentLogger } from '../service/log/logger.js';
import { loadBindings } from '../service/vehicle/bindings-load.js';
import { VehicleInput } from '../service/vehicle/vehicle-input.js';
import { frameFor } from '../test/unit/vehicle/frames.js';
import { summarize, type Summary } from './stats.js';

const REPO = join(import.meta.dirname, '..');

/**
 * Crash frame in → automatic eCall trigger out, inside carphoned's vehicle input (E2E check, DBC
 * decode, confirmation machine), per confirming frame. The peer measured in the same run is candied
 * (the maintained npm DBC library) decoding the same frame — decode alone, no E2E, no machines.
 */
export function crashLatency(iterations = 1000): { carphone: Summary; candiedDecode: Summary } {
  const reference = loadBindings(join(REPO, 'can/bindings/carphone-reference.yaml'));
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const clock = new ManualClock();
    const input = new VehicleInput(reference, clock, silentLogger);
    let firedAt = -1;
    input.events.on('emergency', () => {
      firedAt = performance.now();
    });
    for (let c = 0; c < 4; c++) {
      input.onFrame(frameFor(reference, 'CP_Crash', { SeatsOccupied: 1 }, c));
      clock.advance(20);
    }
    input.onFrame(frameFor(reference, 'CP_Crash', { CrashDetected: 1 }, 4));
    input.onFrame(frameFor(reference, 'CP_Crash', { CrashDetected: 1 }, 5));
    const last = frameFor(reference, 'CP_Crash', { CrashDetected: 1 }, 6);
    const t0 = performance.now();
    input.onFrame(last);
    if (firedAt < 0) {
      throw new Error('the crash did not trigger');
    }
    samples.push((firedAt - t0) * 1000);
  }
  const can = new Can();
  can.database = new Dbc().load(readFileSync(join(REPO, 'can/dbc/carphone-reference.dbc'), 'latin1'), true);
  const frame = frameFor(reference, 'CP_Crash', { CrashDetected: 1 }, 6);
  const peer: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const f = can.createFrame(frame.id, [...frame.data]);
    const t0 = performance.now();
    const decoded = can.decode(f);
    peer.push((performance.now() - t0) * 1000);
    if (!decoded) {
      throw new Error('candied did not decode the frame');
    }
  }
  return { carphone: summarize(samples), candiedDecode: summarize(peer) };
}
