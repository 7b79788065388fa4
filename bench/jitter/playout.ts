import { burstRatio, G711_WITH_PLC, rFactor } from '../../service/media/e-model.js';
import { JitterBuffer, type PlayoutKind } from '../../service/media/jitter/jitter-buffer.js';
import { FRAME_MS, type Trace } from './traces.js';

/**
 * Playing a trace out: every algorithm is reduced to when each packet was played (or that it never
 * was), and one set of figures is computed from that for all of them.
 */
export interface PlayoutResult {
  /** Receiver time at which each packet's frame was played, by trace index; undefined: not played. */
  playedAt: (number | undefined)[];
  /** The order in which frames were played (trace indices), to check for repeats and reordering. */
  order: number[];
}

export interface Figures {
  mean_delay_ms: number;
  p95_delay_ms: number;
  late_pct: number;
  loss_pct: number;
  R: number;
}

/** The first arrival, the tick grid every tick-driven algorithm plays on, and the end of the run. */
export interface Schedule {
  /** Trace indices of the packets that arrived, in arrival order. */
  arrivals: number[];
  t0: number;
  ticks: number;
}

export function clock(trace: Trace): Schedule {
  const arrivals = trace.packets
    .map((_, i) => i)
    .filter((i) => (trace.packets[i]?.arrivalMs ?? -1) >= 0)
    .sort((a, b) => (trace.packets[a]?.arrivalMs ?? 0) - (trace.packets[b]?.arrivalMs ?? 0));
  const first = trace.packets[arrivals[0] ?? 0]?.arrivalMs ?? 0;
  const last = trace.packets[arrivals[arrivals.length - 1] ?? 0]?.arrivalMs ?? 0;
  return { arrivals, t0: first, ticks: Math.ceil((last - first + 3000) / FRAME_MS) };
}

/**
 * Drives a jitter buffer over a trace: packets put as they arrive, one decision per 20 ms tick, each
 * handed to `onDecision` when given. Returns the number of ticks. The benchmark of the control path
 * times exactly this loop.
 */
export function replay(
  trace: Trace,
  jb: JitterBuffer,
  onDecision?: (now: number, kind: PlayoutKind) => void,
  schedule: Schedule = clock(trace),
): number {
  const { arrivals, t0, ticks } = schedule;
  const payload = new Uint8Array([0]);
  let next = 0;
  for (let k = 0; k < ticks; k++) {
    const now = t0 + k * FRAME_MS;
    for (; next < arrivals.length; next++) {
      const p = trace.packets[arrivals[next] ?? 0];
      if (!p || p.arrivalMs > now) {
        break;
      }
      jb.put(p.seq, Math.round(p.sendMs * 8), p.arrivalMs, payload);
    }
    const kind = jb.decide(now);
    onDecision?.(now, kind);
  }
  return ticks;
}

/** Plays a trace through carphone's jitter buffer and notes when each frame was played. */
export function playCarphone(trace: Trace): PlayoutResult & { buffer: JitterBuffer } {
  const { arrivals } = clock(trace);
  const jb = JitterBuffer.create(FRAME_MS, 8000);
  const playedAt: (number | undefined)[] = Array.from({ length: trace.packets.length }, () => undefined);
  const order: number[] = [];
  const base = 0x10000 + ((trace.packets[arrivals[0] ?? 0]?.seq ?? 0) & 0xffff);
  const firstSeq = trace.packets[arrivals[0] ?? 0]?.seq ?? 0;
  replay(trace, jb, (now, kind) => {
    if (kind === 'normal' || kind === 'accelerate') {
      for (const ext of jb.lastSequences()) {
        const index = ext - base + firstSeq;
        order.push(index);
        if (playedAt[index] === undefined) {
          playedAt[index] = now;
        }
      }
    }
  });
  return { playedAt, order, buffer: jb };
}

/** Lines "tick seq" (played), "tick M" or "tick I" from bench/jitter/speex-harness.c, as a result. */
export function readTickLog(trace: Trace, log: string): PlayoutResult {
  const { t0 } = clock(trace);
  const playedAt: (number | undefined)[] = Array.from({ length: trace.packets.length }, () => undefined);
  const order: number[] = [];
  for (const line of log.split('\n')) {
    const [tick, what] = line.trim().split(' ');
    if (tick === undefined || what === undefined || !/^\d+$/.test(what)) {
      continue;
    }
    const index = Number(what);
    order.push(index);
    if (playedAt[index] === undefined) {
      playedAt[index] = t0 + Number(tick) * FRAME_MS;
    }
  }
  return { playedAt, order };
}

/** The smallest one-way delay in a trace: the delay every figure is measured above. */
export function minOneWayDelay(trace: Trace): number {
  let min = Infinity;
  for (const p of trace.packets) {
    if (p.arrivalMs >= 0) {
      min = Math.min(min, p.arrivalMs - p.sendMs);
    }
  }
  return Number.isFinite(min) ? min : 0;
}

/**
 * The figures of a playout. Delays are from send time with the trace's smallest one-way delay
 * subtracted (what the buffer adds); late is arrived but never played, loss is late plus never
 * arrived, both in % of packets sent. R is the E-model's (G.711 with PLC) for a mouth-to-ear delay of
 * the smallest one-way delay + the mean delay + one 20 ms frame, and the loss with its measured
 * burstiness.
 */
export function figures(trace: Trace, playedAt: readonly (number | undefined)[]): Figures {
  const minOwd = minOneWayDelay(trace);
  const delays: number[] = [];
  let late = 0;
  let missing = 0;
  let runs = 0;
  let inRun = false;
  trace.packets.forEach((p, i) => {
    const t = playedAt[i];
    if (t !== undefined) {
      delays.push(t - p.sendMs - minOwd);
      inRun = false;
      return;
    }
    missing++;
    if (p.arrivalMs >= 0) {
      late++;
    }
    if (!inRun) {
      runs++;
      inRun = true;
    }
  });
  delays.sort((a, b) => a - b);
  const sent = trace.packets.length;
  const mean = delays.reduce((a, b) => a + b, 0) / Math.max(1, delays.length);
  const p95 = delays[Math.min(delays.length - 1, Math.floor(delays.length * 0.95))] ?? 0;
  const lossPct = (missing / sent) * 100;
  const R = rFactor({
    oneWayDelayMs: minOwd + mean + FRAME_MS,
    lossPct,
    burstRatio: burstRatio(missing, runs, sent),
    codec: G711_WITH_PLC,
  });
  return { mean_delay_ms: mean, p95_delay_ms: p95, late_pct: (late / sent) * 100, loss_pct: lossPct, R };
}

/** A constant playout offset D for every packet: played at send + smallest one-way delay + D. */
function fixedPlayout(trace: Trace, offsets: (i: number) => number): (number | undefined)[] {
  const minOwd = minOneWayDelay(trace);
  return trace.packets.map((p, i) => {
    const at = p.sendMs + minOwd + offsets(i);
    return p.arrivalMs >= 0 && p.arrivalMs <= at ? at : undefined;
  });
}

/** The best single constant delay in hindsight (by R), searched in 1 ms steps. */
export function bestFixed(trace: Trace): Figures & { delay_ms: number } {
  let best: (Figures & { delay_ms: number }) | undefined;
  for (let d = 0; d <= 1000; d++) {
    const f = figures(
      trace,
      fixedPlayout(trace, () => d),
    );
    if (!best || f.R > best.R) {
      best = { ...f, delay_ms: d };
    }
  }
  return best ?? { ...figures(trace, []), delay_ms: 0 };
}

/**
 * The hindsight oracle: the best constant delay in each 1 s window, changed freely between windows.
 * Per window it minimises delay x played + lambda x late; lambda is swept and the best R kept.
 */
export function oracle(trace: Trace): Figures {
  const minOwd = minOneWayDelay(trace);
  const perWindow = 1000 / FRAME_MS;
  const windows: number[][] = [];
  trace.packets.forEach((p, i) => {
    const w = Math.floor(i / perWindow);
    (windows[w] ??= []).push(p.arrivalMs < 0 ? Infinity : p.arrivalMs - p.sendMs - minOwd);
  });
  let best: Figures | undefined;
  for (const lambda of [5, 10, 20, 40, 60, 80, 120, 160, 240, 320, 480, 640, 1000, 2000, 5000]) {
    const chosen = windows.map((rel) => {
      const finite = rel.filter((r) => Number.isFinite(r)).sort((a, b) => a - b);
      let bestD = 0;
      let bestCost = Infinity;
      // Only the packets' own relative delays can be optimal offsets.
      for (const d of [0, ...finite.map((r) => Math.ceil(r))]) {
        const lateCount = finite.filter((r) => r > d).length;
        const cost = d * (finite.length - lateCount) + lambda * lateCount;
        if (cost < bestCost) {
          bestCost = cost;
          bestD = d;
        }
      }
      return bestD;
    });
    const f = figures(
      trace,
      fixedPlayout(trace, (i) => chosen[Math.floor(i / perWindow)] ?? 0),
    );
    if (!best || f.R > best.R) {
      best = f;
    }
  }
  return best ?? figures(trace, []);
}

/** Problems a playout must never have: a frame played twice, or frames played out of order. */
export function orderProblems(order: readonly number[]): string[] {
  const problems: string[] = [];
  const seen = new Set<number>();
  let last = -Infinity;
  for (const i of order) {
    if (seen.has(i)) {
      problems.push(`frame ${i} played twice`);
    }
    if (i < last) {
      problems.push(`frame ${i} played after ${last}`);
    }
    seen.add(i);
    last = Math.max(last, i);
  }
  return problems;
}

/**
 * A bound for drifting traces, not an algorithm: each packet played at its send time + the path's
 * trend + `marginMs`, at any instant (no tick grid), and late if it came after that. The trend is the
 * least-squares line of one-way delay over send time, lowered to the fastest packet: a buffer that
 * knew the sender's clock drift exactly and kept a constant margin above the path's fastest packets
 * along it. Which p95 it reaches for which late loss shows what a trace allows whatever the playout.
 */
export function playDriftFollower(trace: Trace, marginMs: number): PlayoutResult {
  const arrived = trace.packets.filter((p) => p.arrivalMs >= 0);
  const n = arrived.length;
  const meanX = arrived.reduce((a, p) => a + p.sendMs, 0) / n;
  const meanY = arrived.reduce((a, p) => a + p.arrivalMs - p.sendMs, 0) / n;
  const sxy = arrived.reduce((a, p) => a + (p.sendMs - meanX) * (p.arrivalMs - p.sendMs - meanY), 0);
  const sxx = arrived.reduce((a, p) => a + (p.sendMs - meanX) ** 2, 0);
  const slope = sxx > 0 ? sxy / sxx : 0;
  const trend = (sendMs: number): number => meanY + slope * (sendMs - meanX);
  const floor = Math.min(...arrived.map((p) => p.arrivalMs - p.sendMs - trend(p.sendMs)));
  const playedAt = trace.packets.map((p) => {
    const at = p.sendMs + trend(p.sendMs) + floor + marginMs;
    return p.arrivalMs >= 0 && p.arrivalMs <= at ? at : undefined;
  });
  return { playedAt, order: trace.packets.map((_, i) => i).filter((i) => playedAt[i] !== undefined) };
}
