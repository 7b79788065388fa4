import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTone } from '../test/harness/audio.js';
import { Baresip } from '../test/harness/baresip.js';
import { Carphoned } from '../test/harness/carphoned.js';
import { PrivateBus } from '../test/harness/dbus-daemon.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** user + system CPU of a process so far, in ms (from /proc: clock ticks of 10 ms on Linux). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** CPU per second of wall time of several processes over the same `ms`, in ms/s each. */
async function cpuOver(pids: number[], ms: number): Promise<number[]> {
  const c0 = pids.map(cpuMs);
  const t0 = performance.now();
  await sleep(ms);
  const dt = performance.now() - t0;
  return pids.map((pid, i) => ((cpuMs(pid) - (c0[i] ?? 0)) * 1000) / dt);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

export interface CallCpu {
  codec: string;
  /** Calling side's CPU per second of call, idle CPU subtracted, ms/s (median over the windows). */
  carphoned: number;
  baresip: number;
  /** Median of the per-window ratios. */
  ratio: number;
}

/**
 * CPU per second of one full-duplex call on the calling side: carphoned calling a baresip, and at the
 * same time a baresip calling another baresip, with the same codec and tones. Both callers are
 * sampled over the same windows, so a busy machine slows both alike; each caller's idle CPU, measured
 * the same way before the calls, is subtracted.
 */
export async function callCpu(windows = 6, windowSeconds = 5): Promise<CallCpu[]> {
  const dir = mkdtempSync(join(tmpdir(), 'carphone-bench-cpu-'));
  const seconds = windows * windowSeconds + 20;
  writeTone(join(dir, 'g711.wav'), 440, seconds);
  writeTone(join(dir, 'opus.wav'), 440, seconds, 8000, 48000, 2);
  writeTone(join(dir, 'carphone.wav'), 700, seconds);
  const results: CallCpu[] = [];
  for (const [codec, baresipCodec, carphoneCodec, wav] of [
    ['G.711 (PCMU)', 'PCMU', 'pcmu', 'g711.wav'],
    ['Opus', 'opus/48000/2', 'opus', 'opus.wav'],
  ] as const) {
    const start = (user: string, autoAnswer: boolean): Promise<Baresip> =>
      Baresip.start({ user, autoAnswer, sourceWav: join(dir, wav), codecs: [baresipCodec] });
    const [calleeA, calleeB, caller] = await Promise.all([
      start('2001', true),
      start('2003', true),
      start('2002', false),
    ]);
    const bus = await PrivateBus.start();
    const daemon = await Carphoned.start({
      dbus: { bus: bus.address },
      audio: { device: { type: 'file', play: join(dir, 'carphone.wav') } },
      accounts: [{ id: 'sip0', user: '1000', domain: '127.0.0.1', codecs: [carphoneCodec] }],
    });
    const client = await daemon.client();
    try {
      const pids = [daemon.child.proc.pid ?? 0, caller.child.proc.pid ?? 0];
      await sleep(1000);
      const idle = await cpuOver(pids, windowSeconds * 2000);
      const path = await client.dial('/sip0', calleeA.uri);
      await client.waitForCallState(path, 'active', 10_000);
      await caller.command('dial', calleeB.uri);
      await caller.waitForEvent('CALL_ESTABLISHED', 10_000);
      await sleep(1000);
      const ours: number[] = [];
      const theirs: number[] = [];
      for (let w = 0; w < windows; w++) {
        const [d, c] = await cpuOver(pids, windowSeconds * 1000);
        ours.push((d ?? 0) - (idle[0] ?? 0));
        theirs.push((c ?? 0) - (idle[1] ?? 0));
      }
      await client.hangup(path);
      await caller.command('hangup');
      results.push({
        codec,
        carphoned: median(ours),
        baresip: median(theirs),
        ratio: median(ours.map((o, i) => o / (theirs[i] ?? NaN))),
      });
    } finally {
      client.disconnect();
      await daemon.stop();
      await Promise.allSettled([caller.stop(), calleeA.stop(), calleeB.stop(), bus.stop()]);
    }
  }
  return results;
}

/**
 * The floor under any Node.js media loop on this machine: a process that only runs one 20 ms timer,
 * sends one datagram per tick and receives 50 a second (from a second process), and does nothing
 * with them. CPU per second, as for the calls.
 */
export async function nodeEventLoopFloor(seconds = 10): Promise<number> {
  const receiver = createSocket('udp4');
  await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
  receiver.on('message', () => undefined);
  const sender = spawn(
    process.execPath,
    [
      '-e',
      `const s=require('dgram').createSocket('udp4');const b=Buffer.alloc(172);let n=performance.now();` +
        `const t=()=>{s.send(b,${receiver.address().port},'127.0.0.1');n+=20;setTimeout(t,Math.max(0,n-performance.now()))};t();`,
    ],
    { stdio: 'ignore' },
  );
  const out = createSocket('udp4');
  const payload = Buffer.alloc(172);
  let next = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    out.send(payload, 9, '127.0.0.1');
    next += 20;
    timer = setTimeout(tick, Math.max(0, next - performance.now()));
  };
  tick();
  await sleep(1000);
  const u0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const u = process.cpuUsage(u0);
  const perSecond = ((u.user + u.system) / 1000 / (performance.now() - t0)) * 1000;
  clearTimeout(timer);
  sender.kill();
  receiver.close();
  out.close();
  return perSecond;
}
