import { readFileSync } from 'node:fs';
import { Carphoned, DaemonBuild } from '../test/harness/carphoned.js';
import { PrivateBus } from '../test/harness/dbus-daemon.js';
import { childProcesses } from '../test/harness/process-table.js';
import { cpuMs, median } from './call-cpu.js';

export interface StartFigures {
  /** From spawning node to the daemon's name being on the bus (its DBUS_ADDRESS line), ms. */
  startMs: number;
  /** CPU the daemon used, all threads, from its start until 3 s after it was on the bus, ms. */
  cpuMs: number;
  /** Resident memory then, of the daemon and any process it started (tsx's esbuild service), MB. */
  rssMb: number;
}

/** The process and its children: tsx transforms the sources in an esbuild process of its own. */
function rssMb(pid: number): number {
  const children = childProcesses(pid);
  let kb = 0;
  for (const p of [pid, ...children]) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // it ended in the meantime
    }
  }
  return kb / 1024;
}

async function startOnce(bus: PrivateBus, build: DaemonBuild | undefined): Promise<StartFigures> {
  const config = {
    dbus: { bus: bus.address },
    accounts: [{ id: 'local', user: 'driver', domain: '127.0.0.1' }],
  };
  const t0 = performance.now();
  const daemon = await Carphoned.start(config, [], {}, build);
  const startMs = performance.now() - t0;
  try {
    await new Promise((r) => setTimeout(r, 3000));
    const pid = daemon.child.proc.pid ?? 0;
    return { startMs, cpuMs: cpuMs(pid), rssMb: rssMb(pid) };
  } finally {
    await daemon.stop();
  }
}

/**
 * carphoned started as the systemd unit starts it (tsc's output) and as `npm start` does (the
 * TypeScript sources through tsx), in turns, `runs` times each: medians.
 */
export async function daemonStart(runs = 6): Promise<{ built: StartFigures; sources: StartFigures }> {
  const build = DaemonBuild.make();
  const bus = await PrivateBus.start();
  const built: StartFigures[] = [];
  const sources: StartFigures[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      // Alternating which goes first, so that a file cache warmed by one does not favour the other.
      for (const fromBuild of i % 2 ? [true, false] : [false, true]) {
        (fromBuild ? built : sources).push(await startOnce(bus, fromBuild ? build : undefined));
      }
    }
  } finally {
    await bus.stop();
    build.remove();
  }
  const medians = (xs: StartFigures[]): StartFigures => ({
    startMs: median(xs.map((x) => x.startMs)),
    cpuMs: median(xs.map((x) => x.cpuMs)),
    rssMb: median(xs.map((x) => x.rssMb)),
  });
  return { built: medians(built), sources: medians(sources) };
}
