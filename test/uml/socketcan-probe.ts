/**
 * Runs inside user-mode-linux with vcan0 up (test/harness/uml.ts): proves SocketCAN for real.
 * cansend frames must reach carphone's SocketCAN transport and bindings; a frame carphone sends must
 * show up in candump. Prints one JSON line with what it saw.
 */
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { SocketCanTransport } from '../../can/transport/socketcan.js';
import type { CanFrame } from '../../can/frame.js';
import { formatFrame } from '../../can/frame.js';
import { systemClock } from '../../service/core/clock.js';
import { silentLogger } from '../../service/log/logger.js';
import { loadBindings } from '../../service/vehicle/bindings-load.js';
import { VehicleInput } from '../../service/vehicle/vehicle-input.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const received: string[] = [];
  const buttons: string[] = [];
  const transport = new SocketCanTransport('vcan0');
  const input = new VehicleInput(
    loadBindings(join(import.meta.dirname, '../../can/bindings/carphone-reference.yaml')),
    systemClock,
    silentLogger,
  );
  input.events.on('button', (b, p) => buttons.push(`${b}:${p}`));
  await transport.start(
    (f: CanFrame) => {
      received.push(formatFrame(f));
      input.onFrame(f);
    },
    (e) => received.push(`error ${e.message}`),
  );
  const candump = spawn('candump', ['-L', '-n', '1', 'vcan0,7E0:7FF']);
  let dumped = '';
  candump.stdout.on('data', (d: Buffer) => (dumped += d.toString()));
  await sleep(200);
  execFileSync('cansend', ['vcan0', '523#0004000000000000']);
  execFileSync('cansend', ['vcan0', '1FFFFFFF#11']);
  // The reference car's steering-wheel keys (0x3A0): idle, idle, phone key held, released.
  for (const data of ['00000000', '01000000', '02010000', '03000000']) {
    execFileSync('cansend', ['vcan0', `3A0#${data}`]);
    await sleep(120);
  }
  transport.send({ id: 0x7e0, extended: false, data: Uint8Array.from([0xca, 0xfe]) });
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, 2000);
    candump.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
  input.stop();
  await transport.stop();
  process.stdout.write(`${JSON.stringify({ received, buttons, candump: dumped.trim() })}\n`);
}

main().catch((e: unknown) => {
  process.stdout.write(`${JSON.stringify({ error: e instanceof Error ? e.message : String(e) })}\n`);
});
