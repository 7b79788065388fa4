import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Packet traces for the jitter buffer: 20 ms frames, send and arrival times in ms, arrival -1 for a
 * packet that never came. Generated from a seed so that every run sees the same set; the same file
 * format (`seq send_ms arrival_ms` per line) is read for traces captured elsewhere.
 */
export interface TracePacket {
  seq: number;
  sendMs: number;
  /** -1: lost. */
  arrivalMs: number;
}

export interface Trace {
  name: string;
  description: string;
  packets: TracePacket[];
}

export const FRAME_MS = 20;

/** mulberry32: small, fast, and the same on every platform. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const exp = (rand: () => number, mean: number): number => -mean * Math.log(1 - rand());

function build(
  name: string,
  description: string,
  seconds: number,
  owd: (i: number, sendMs: number) => number,
): Trace {
  const packets: TracePacket[] = [];
  for (let i = 0; i < (seconds * 1000) / FRAME_MS; i++) {
    const sendMs = i * FRAME_MS;
    const d = owd(i, sendMs);
    packets.push({ seq: i, sendMs, arrivalMs: d < 0 ? -1 : sendMs + d });
  }
  return { name, description, packets };
}

/** A link that delivers in order (LTE's RLC in acknowledged mode): no packet overtakes another. */
function inOrder(t: Trace): Trace {
  let last = -Infinity;
  for (const p of t.packets) {
    if (p.arrivalMs >= 0) {
      p.arrivalMs = Math.max(p.arrivalMs, last + 0.2);
      last = p.arrivalMs;
    }
  }
  return t;
}

export function traceSet(seconds = 60): Trace[] {
  const traces: Trace[] = [];
  {
    const r = seeded(1);
    traces.push(
      build('low-jitter', '30 ms one way, exponential jitter of mean 2 ms', seconds, () => 30 + exp(r, 2)),
    );
  }
  {
    const r = seeded(2);
    // Every 6-14 s the radio holds packets for 200 ms and then delivers them together.
    const spikes: number[] = [];
    for (let t = 3000; t < seconds * 1000; t += 6000 + r() * 8000) {
      spikes.push(t);
    }
    traces.push(
      inOrder(
        build(
          'lte-spikes',
          'LTE-like: 45 ms, 200 ms delay spikes every 6-14 s with the held packets delivered back to back after, 0.5 % loss',
          seconds,
          (_i, s) => {
            if (r() < 0.005) {
              return -1;
            }
            const spike = spikes.find((t) => s >= t && s < t + 200);
            const base = 45 + exp(r, 4);
            // The radio link (RLC) delivers in order: the held packets come back to back, 1 ms apart.
            return spike === undefined ? base : spike + 200 - s + 45 + ((s - spike) / FRAME_MS) * 1;
          },
        ),
      ),
    );
  }
  {
    const r = seeded(3);
    let bad = false;
    traces.push(
      build(
        'burst-loss',
        'Gilbert-Elliott loss, bursts of 2.5 packets on average, 2.4 % in all; 40 ms, jitter 3 ms',
        seconds,
        () => {
          bad = bad ? r() < 0.6 : r() < 0.01;
          return bad ? -1 : 40 + exp(r, 3);
        },
      ),
    );
  }
  {
    const r = seeded(4);
    const changes: number[] = [];
    for (let t = 8000; t < seconds * 1000; t += 8000 + r() * 8000) {
      changes.push(t);
    }
    traces.push(
      build(
        'route-changes',
        'one-way delay switching between 40 and 120 ms every 8-16 s, jitter 3 ms',
        seconds,
        (_i, s) => {
          const n = changes.filter((t) => t <= s).length;
          return (n % 2 === 0 ? 40 : 120) + exp(r, 3);
        },
      ),
    );
  }
  for (const [sign, seed] of [
    [1, 5],
    [-1, 6],
  ] as const) {
    const r = seeded(seed);
    traces.push(
      build(
        `drift${sign > 0 ? '+' : '-'}0.1%`,
        `the sender's clock ${sign > 0 ? 'slow' : 'fast'} by 0.1 %; 70 ms ${sign > 0 ? 'rising' : 'falling'} 1 ms/s, jitter 3 ms`,
        seconds,
        (_i, s) => 70 + (sign * s) / 1000 + exp(r, 3),
      ),
    );
  }
  {
    const r = seeded(7);
    traces.push(
      build(
        'reordering',
        '15 % of packets 20-60 ms later than the rest: heavy reordering; 40 ms, jitter 3 ms',
        seconds,
        () => 40 + exp(r, 3) + (r() < 0.15 ? 20 + r() * 40 : 0),
      ),
    );
  }
  {
    const r = seeded(8);
    traces.push(
      inOrder(
        build(
          'handover',
          'a 1.2 s outage (all lost) at 20 s, a 400 ms hold-and-forward at 40 s; 50 ms, jitter 4 ms',
          seconds,
          (_i, s) => {
            if (s >= 20000 && s < 21200) {
              return -1;
            }
            const base = 50 + exp(r, 4);
            // Forwarded after the handover: in order, back to back.
            return s >= 40000 && s < 40400 ? 40400 - s + 50 + ((s - 40000) / FRAME_MS) * 1 : base;
          },
        ),
      ),
    );
  }
  return traces;
}

/**
 * The benchmark's reference set: ten seeded 60 s traces that came with the project brief
 * (bench/jitter/traces/, described in its MANIFEST.tsv), with speexdsp's figures published beside them.
 */
export function referenceSet(): Trace[] {
  const dir = fileURLToPath(new URL('./traces/', import.meta.url));
  const manifest = new Map(
    readFileSync(join(dir, 'MANIFEST.tsv'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t'))
      .map(([file, what]) => [file ?? '', what ?? ''] as const),
  );
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => ({
      ...readTraceFile(join(dir, f)),
      name: f.replace(/\.txt$/, ''),
      description: manifest.get(f) ?? '',
    }));
}

export function readTraceFile(path: string): Trace {
  const packets: TracePacket[] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const t = line.trim();
      if (!t || t.startsWith('#')) {
        return;
      }
      const [seq, send, arrival] = t.split(/\s+/).map(Number);
      if (
        seq === undefined ||
        send === undefined ||
        arrival === undefined ||
        [seq, send, arrival].some((x) => !Number.isFinite(x))
      ) {
        throw new Error(`${path}:${i + 1}: expected "seq send_ms arrival_ms"`);
      }
      packets.push({ seq, sendMs: send, arrivalMs: arrival });
    });
  return { name: path, description: 'trace file', packets };
}

export function formatTrace(t: Trace): string {
  return (
    t.packets
      .map((p) => `${p.seq} ${p.sendMs.toFixed(3)} ${p.arrivalMs < 0 ? -1 : p.arrivalMs.toFixed(3)}`)
      .join('\n') + '\n'
  );
}
