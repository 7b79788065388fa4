import { execFileSync } from 'node:child_process';
import { cHarness } from '../../test/harness/c-harness.js';
import {
  bestFixed,
  clock,
  figures,
  oracle,
  playCarphone,
  readTickLog,
  replay,
  type Figures,
} from './playout.js';
import { FRAME_MS, formatTrace, referenceSet, traceSet, type Trace } from './traces.js';
import { JitterBuffer } from '../../service/media/jitter/jitter-buffer.js';

/**
 * The jitter-buffer quality benchmark: every trace played by carphone's buffer and by speexdsp's (its
 * public API, Debian's libspeexdsp, through bench/jitter/speex-harness.c), beside the best fixed delay
 * in hindsight and the per-second hindsight oracle.
 */
function runSpeex(trace: Trace): string {
  return execFileSync(cHarness(new URL('./speex-harness.c', import.meta.url), ['-lspeexdsp']), {
    input: formatTrace(trace),
    maxBuffer: 64 * 1024 * 1024,
  }).toString();
}

export function playSpeex(trace: Trace): Figures {
  return figures(trace, readTickLog(trace, runSpeex(trace)).playedAt);
}

/**
 * Cost of the control path per 20 ms frame: carphone's put + decide through the WebAssembly boundary
 * (from TypeScript, as the media session calls it), beside speexdsp's put + get + tick called from C.
 * Both replay the same trace ten times; the fastest run is kept.
 */
export function controlCost(trace: Trace): { carphoneNs: number; speexNs: number } {
  const schedule = clock(trace);
  let best = Infinity;
  for (let run = 0; run < 10; run++) {
    const jb = JitterBuffer.create(FRAME_MS, 8000);
    const start = process.hrtime.bigint();
    const frames = replay(trace, jb, undefined, schedule);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / frames);
    jb.destroy();
  }
  let speex = Infinity;
  for (let run = 0; run < 10; run++) {
    const m = /# ns_per_frame ([\d.]+)/.exec(runSpeex(trace));
    speex = Math.min(speex, Number(m?.[1] ?? NaN));
  }
  return { carphoneNs: best, speexNs: speex };
}

export interface TraceComparison {
  trace: Trace;
  carphone: Figures;
  speex: Figures;
  fixed: Figures & { delay_ms: number };
  oracle: Figures;
}

export function compare(trace: Trace): TraceComparison {
  const run = playCarphone(trace);
  run.buffer.destroy();
  return {
    trace,
    carphone: figures(trace, run.playedAt),
    speex: playSpeex(trace),
    fixed: bestFixed(trace),
    oracle: oracle(trace),
  };
}

export function line(f: Figures): string {
  return [
    `mean_delay_ms=${f.mean_delay_ms.toFixed(1)}`,
    `p95_delay_ms=${f.p95_delay_ms.toFixed(1)}`,
    `late_pct=${f.late_pct.toFixed(2)}`,
    `loss_pct=${f.loss_pct.toFixed(2)}`,
    `R=${f.R.toFixed(1)}`,
  ].join(' ');
}

/** The targets, checked per trace and over the set; returns the failures in words. */
export function targetFailures(rows: TraceComparison[]): string[] {
  const failures: string[] = [];
  for (const { trace, carphone: c, speex: s, oracle: o } of rows) {
    if (c.late_pct > s.late_pct + 0.1 || c.late_pct > 1) {
      failures.push(`${trace.name}: late ${c.late_pct.toFixed(2)} % (speex ${s.late_pct.toFixed(2)} %)`);
    }
    if (c.R < s.R) {
      failures.push(`${trace.name}: R ${c.R.toFixed(1)} below speex ${s.R.toFixed(1)}`);
    }
    if (o.R - s.R >= 4 && c.R < s.R + 2) {
      failures.push(
        `${trace.name}: R ${c.R.toFixed(1)} not 2 above speex ${s.R.toFixed(1)} (oracle ${o.R.toFixed(1)})`,
      );
    }
    if (c.p95_delay_ms > s.p95_delay_ms) {
      failures.push(
        `${trace.name}: p95 ${c.p95_delay_ms.toFixed(1)} ms above speex ${s.p95_delay_ms.toFixed(1)} ms`,
      );
    }
  }
  const sum = (k: 'carphone' | 'speex'): number => rows.reduce((a, r) => a + r[k].mean_delay_ms, 0);
  const ratio = sum('carphone') / sum('speex');
  if (ratio > 0.85) {
    failures.push(`summed mean delay ${ratio.toFixed(2)} × speex's (target 0.85)`);
  }
  return failures;
}

/**
 * The reference set, or carphone's generated set, of 60 s traces; with `seconds`, the generated set is
 * made that long and the reference set's traces are cut there (their files hold 60 s).
 */
export function jitterQuality(set: 'reference' | 'generated', seconds?: number): TraceComparison[] {
  const traces =
    set === 'generated'
      ? traceSet(seconds)
      : referenceSet().map((t) =>
          seconds === undefined ? t : { ...t, packets: t.packets.filter((p) => p.sendMs < seconds * 1000) },
        );
  return traces.map(compare);
}
