#!/usr/bin/env -S npx tsx
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { PsapSimulator } from '../psap/psap-simulator.js';

/**
 * psap-sim: an emergency centre for integrators and telematics backends. It accepts NG eCalls
 * (RFC 8147) on a SIP port, prints every event (the decoded MSD included) as a JSON line on stdout,
 * and takes commands on stdin:
 *   request-msd CALL-ID    ask the vehicle for a new MSD
 *   request CALL-ID ACTION  send any other control request (honk, lamp, msg-static …); the car acks it
 *   clear CALL-ID          clear the eCall down
 *   callback SIP-URI       call the vehicle back
 */
const o = new Command()
  .name('psap-sim')
  .option('--address <ip>', 'address to listen on', '127.0.0.1')
  .option('--port <port>', 'SIP port (UDP and TCP)', '5080')
  .option('--no-ack', 'do not acknowledge MSDs')
  .option('--reject <n>', 'answer the first N eCalls with 503', '0')
  .parse()
  .opts<{ address: string; port: string; ack: boolean; reject: string }>();

async function main(): Promise<void> {
  const psap = await PsapSimulator.start({
    address: o.address,
    port: Number(o.port),
    ackMsd: o.ack,
    reject: Number(o.reject),
  });
  psap.events.on('log', (entry) => process.stdout.write(`${JSON.stringify(entry)}\n`));
  process.stdout.write(`${JSON.stringify({ event: 'listening', uri: psap.uri })}\n`);
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const [cmd, arg = ''] = line.trim().split(/\s+/);
    try {
      if (cmd === 'request-msd') {
        psap.requestMsd(arg);
      } else if (cmd === 'request') {
        // request CALL-ID ACTION: any other control request (honk, lamp, msg-static …)
        psap.request(arg, line.trim().split(/\s+/)[2] ?? '');
      } else if (cmd === 'clear') {
        psap.clearDown(arg);
      } else if (cmd === 'callback') {
        void psap.callBack(arg);
      } else if (cmd) {
        process.stdout.write(`${JSON.stringify({ event: 'error', error: `unknown command ${cmd}` })}\n`);
      }
    } catch (e) {
      process.stdout.write(
        `${JSON.stringify({ event: 'error', error: e instanceof Error ? e.message : String(e) })}\n`,
      );
    }
  });
  const stop = (): void => {
    psap.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
