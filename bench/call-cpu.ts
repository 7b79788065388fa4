import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { medianWindowShare, writeTone } from '../test/harness/audio.js';
import { readWav } from '../service/media/wav.js';
import { builtUdpAddonPath } from '../service/media/transport/udp-addon.js';
import { Baresip } from '../test/harness/baresip.js';
import { Carphoned, DaemonBuild } from '../test/harness/carphoned.js';
import { PrivateBus } from '../test/harness/dbus-daemon.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * CPU time of a process's threads so far, in ms, from the scheduler's own nanosecond account
 * (/proc/PID/task/TID/schedstat). /proc/PID/stat counts in 10 ms ticks, which over a 5 s window is a
 * step of 2 ms/s: as large as the differences being measured.
 */
export function cpuMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended between listing and reading: its time is no longer counted anywhere
    }
  }
  return ns / 1e6;
}

/** CPU per second of wall time of several processes over the same `ms`, in ms/s each. */
async function cpuOver(pids: number[], ms: number): Promise<number[]> {
  const c0 = pids.map(cpuMs);
  const t0 = performance.now();
  await sleep(ms);
  const dt = performance.now() - t0;
  return pids.map((pid, i) => ((cpuMs(pid) - (c0[i] ?? 0)) * 1000) / dt);
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

/**
 * baresip's Opus defaults to 128 kb/s in audio mode; the baresip pair is set to carphone's 24 kb/s in
 * VoIP mode. It still codes 48 kHz stereo (the same tone on both channels), where carphone codes 8 kHz
 * mono: here baresip's Opus calls do not start with a mono source, nor with `opus_stereo no`.
 */
const BARESIP_OPUS_AS_CARPHONE = ['opus_bitrate 24000', 'opus_application voip'];

export interface CpuFigure {
  /** Calling side's CPU per second of call, idle CPU subtracted, ms/s. */
  carphoned: number;
  baresip: number;
  ratio: number;
}

export interface CallCpu {
  codec: string;
  /**
   * The first `warmUpSeconds` of the first call the daemon makes: V8 is still compiling the media
   * path (a function called 50 times a second takes tens of seconds to reach its optimising tier:
   * traced with --trace-opt, the media path's functions were still being optimised 50 s into a call).
   */
  firstCall: CpuFigure;
  /** After that, medians over the windows: what every later minute of a call, and every later call, costs. */
  steady: CpuFigure;
  /** The whole call as measured (first part and windows): its total CPU over its seconds. */
  wholeCall: CpuFigure & { seconds: number };
  /** What each caller used before the call (subtracted above), ms/s. */
  idle: { carphoned: number; baresip: number };
}

/**
 * CPU per second of one full-duplex call on the calling side: carphoned calling a baresip, and at the
 * same time a baresip calling another baresip, with the same codec and tones. Both callers are
 * sampled over the same windows, so a busy machine slows both alike; each caller's idle CPU, measured
 * the same way before the calls (once the daemon's start-up work is over), is subtracted. carphoned
 * runs as the systemd unit runs it, compiled by tsc.
 */
export async function callCpu(windows = 6, windowSeconds = 5, warmUpSeconds = 60): Promise<CallCpu[]> {
  const build = DaemonBuild.make();
  try {
    return await callsOfEachCodec(build, windows, windowSeconds, warmUpSeconds);
  } finally {
    build.remove();
  }
}

async function callsOfEachCodec(
  build: DaemonBuild,
  windows: number,
  windowSeconds: number,
  warmUpSeconds: number,
): Promise<CallCpu[]> {
  const dir = mkdtempSync(join(tmpdir(), 'carphone-bench-cpu-'));
  const seconds = warmUpSeconds + windows * windowSeconds + 30;
  writeTone(join(dir, 'g711.wav'), 440, seconds);
  writeTone(join(dir, 'opus.wav'), 440, seconds, 8000, 48000, 2);
  writeTone(join(dir, 'carphone.wav'), 700, seconds);
  const results: CallCpu[] = [];
  for (const [codec, baresipCodec, carphoneCodec, wav] of [
    ['G.711 (PCMU)', 'PCMU', 'pcmu', 'g711.wav'],
    ['Opus', 'opus/48000/2', 'opus', 'opus.wav'],
  ] as const) {
    const start = (user: string, autoAnswer: boolean): Promise<Baresip> =>
      Baresip.start({
        user,
        autoAnswer,
        sourceWav: join(dir, wav),
        codecs: [baresipCodec],
        config: BARESIP_OPUS_AS_CARPHONE,
      });
    const [calleeA, calleeB, caller] = await Promise.all([
      start('2001', true),
      start('2003', true),
      start('2002', false),
    ]);
    const bus = await PrivateBus.start();
    const daemon = await Carphoned.start(
      {
        dbus: { bus: bus.address },
        audio: {
          device: {
            type: 'file',
            play: join(dir, 'carphone.wav'),
            record: join(dir, `rec-${carphoneCodec}`),
          },
        },
        accounts: [{ id: 'sip0', user: '1000', domain: '127.0.0.1', codecs: [carphoneCodec] }],
      },
      [],
      {},
      build,
    );
    const client = await daemon.client();
    try {
      const pids = [daemon.child.proc.pid ?? 0, caller.child.proc.pid ?? 0];
      // The daemon's own start-up (module compilation, first collections) goes on for some seconds
      // after it is on the bus; counted as idle, it would be subtracted from the call.
      await sleep(15_000);
      // The least of five 2 s windows: idle is what a process uses when nothing happens, and a burst
      // of late start-up work (a collection, a compilation) in one window would be subtracted from
      // the call as if it were idle.
      const idleWindows: number[][] = [];
      for (let w = 0; w < 5; w++) {
        idleWindows.push(await cpuOver(pids, 2000));
      }
      const idle = pids.map((_, i) => Math.min(...idleWindows.map((w) => w[i] ?? 0)));
      const path = await client.dial('/sip0', calleeA.uri);
      await client.waitForCallState(path, 'active', 10_000);
      await caller.command('dial', calleeB.uri);
      await caller.waitForEvent('CALL_ESTABLISHED', 10_000);
      const figure = (ours: number[], theirs: number[]): CpuFigure => ({
        carphoned: median(ours),
        baresip: median(theirs),
        ratio: median(ours.map((o, i) => o / (theirs[i] ?? NaN))),
      });
      const callStart = performance.now();
      const [d0, c0] = await cpuOver(pids, warmUpSeconds * 1000);
      const firstCall = figure([(d0 ?? 0) - (idle[0] ?? 0)], [(c0 ?? 0) - (idle[1] ?? 0)]);
      const ours: number[] = [];
      const theirs: number[] = [];
      for (let w = 0; w < windows; w++) {
        const [d, c] = await cpuOver(pids, windowSeconds * 1000);
        ours.push((d ?? 0) - (idle[0] ?? 0));
        theirs.push((c ?? 0) - (idle[1] ?? 0));
      }
      const callSeconds = (performance.now() - callStart) / 1000;
      await client.hangup(path);
      await caller.command('hangup');
      await sleep(1000);
      heardThroughout(join(dir, `rec-${carphoneCodec}`), 'call-', 440, callSeconds, 'carphoned');
      heardThroughout(calleeA.recordDir, '-dec.wav', 700, callSeconds, 'the baresip carphoned called');
      const measuredSeconds = warmUpSeconds + windows * windowSeconds;
      const total = (first: number, rest: number[]): number =>
        (first * warmUpSeconds + rest.reduce((a, b) => a + b, 0) * windowSeconds) / measuredSeconds;
      const [ourTotal, theirTotal] = [total(firstCall.carphoned, ours), total(firstCall.baresip, theirs)];
      results.push({
        codec,
        firstCall,
        steady: figure(ours, theirs),
        wholeCall: {
          carphoned: ourTotal,
          baresip: theirTotal,
          ratio: ourTotal / theirTotal,
          seconds: measuredSeconds,
        },
        idle: { carphoned: idle[0] ?? NaN, baresip: idle[1] ?? NaN },
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
 * A CPU figure for a call that carried no audio would measure nothing: each side's recording must
 * hold the other's tone in most of its 200 ms windows, for about as long as the call was measured.
 */
function heardThroughout(dir: string, nameHas: string, hz: number, seconds: number, who: string): void {
  const file = readdirSync(dir).find((f) => f.includes(nameHas));
  if (!file) {
    throw new Error(`${who} recorded nothing: the call carried no audio, its CPU figures mean nothing`);
  }
  const path = join(dir, file);
  const wav = readWav(path);
  const heardSeconds = wav.samples.length / wav.sampleRate;
  const share = medianWindowShare(path, hz);
  if (heardSeconds < 0.9 * seconds || share < 0.8) {
    throw new Error(
      `${who} heard ${heardSeconds.toFixed(1)} s of a ${seconds.toFixed(1)} s call, ${hz} Hz in ${share.toFixed(2)} of it: not a whole call's audio`,
    );
  }
}

/**
 * The floor under any Node.js media loop on this machine: Node.js processes that only run one 20 ms
 * clock, send one datagram per tick (to a listening port, as in a call) and receive 50 a second,
 * doing nothing with them: one with Node's socket (a wake-up per datagram) and Node's timers, one
 * reading native/udp's socket at each tick of Node's timers (as calls did until the media clock), one
 * reading it at each tick of native/udp's clock (as calls do). All at once, CPU per second measured as
 * for the calls.
 */
export async function nodeEventLoopFloor(
  seconds = 10,
): Promise<{ dgram: number; polled: number; clocked: number }> {
  const peer = createSocket('udp4');
  await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', resolve));
  const peerPort = peer.address().port;
  const addon = builtUdpAddonPath();
  if (addon === undefined) {
    throw new Error('native/udp is not built (npm ci builds it): two loops of the floor need it');
  }
  // native/udp's socket, saying `name` to the peer so that it learns where to send.
  const nativeSocket = (name: string): string =>
    `const u=require(${JSON.stringify(addon)});const fd=u.open('127.0.0.1',0);const b=new Uint8Array(172);` +
    `const slots=new Uint8Array(2048*32);const meta=new Float64Array(128);` +
    `u.send(fd,new TextEncoder().encode('${name}'),'127.0.0.1',${peerPort});`;
  const sendAndReceive = `u.send(fd,b,'127.0.0.1',${peerPort});u.receive(fd,slots,2048,meta)`;
  const every20ms = (body: string): string =>
    `let n=performance.now();const t=()=>{${body};n+=20;setTimeout(t,Math.max(0,n-performance.now()))};t();`;
  const programs = {
    dgram:
      `const s=require('dgram').createSocket('udp4');const b=Buffer.alloc(172);s.on('message',()=>{});` +
      `s.bind(0,'127.0.0.1',()=>{s.send('dgram',${peerPort},'127.0.0.1');` +
      every20ms(`s.send(b,${peerPort},'127.0.0.1')`) +
      '});',
    polled: nativeSocket('polled') + every20ms(sendAndReceive),
    // The clock is held in a constant: were it collected, its finalizer would stop it.
    clocked: nativeSocket('clocked') + `const c=u.clockOpen(()=>{${sendAndReceive}});u.clockStart(c,0,20);`,
  };
  const loops = Object.entries(programs).map(([name, code]) => ({
    name,
    child: spawn(process.execPath, ['-e', code], { stdio: 'ignore' }),
  }));
  // Each loop's first datagram says where it listens; from then on this process sends each 50 a second.
  const ports = new Map<string, number>();
  const allKnown = new Promise<void>((resolve) =>
    peer.on('message', (m, rinfo) => {
      if (m.length < 16) {
        ports.set(m.toString(), rinfo.port);
      }
      if (ports.size === loops.length) {
        resolve();
      }
    }),
  );
  let timer: NodeJS.Timeout | undefined;
  try {
    await allKnown;
    const payload = Buffer.alloc(172);
    let next = performance.now();
    const tick = (): void => {
      for (const port of ports.values()) {
        peer.send(payload, port, '127.0.0.1');
      }
      next += 20;
      timer = setTimeout(tick, Math.max(0, next - performance.now()));
    };
    tick();
    await sleep(2000);
    const [dgram, polled, clocked] = await cpuOver(
      loops.map((l) => l.child.pid ?? 0),
      seconds * 1000,
    );
    return { dgram: dgram ?? NaN, polled: polled ?? NaN, clocked: clocked ?? NaN };
  } finally {
    clearTimeout(timer);
    loops.forEach((l) => l.child.kill());
    peer.close();
  }
}
