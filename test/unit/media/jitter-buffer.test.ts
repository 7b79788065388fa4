import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { figures, orderProblems, playCarphone } from '../../../bench/jitter/playout.js';
import { traceSet, type Trace } from '../../../bench/jitter/traces.js';
import { JitterBuffer, JitterBufferError } from '../../../service/media/jitter/jitter-buffer.js';
import { REPO } from '../../harness/carphoned.js';

const payload = new Uint8Array([1, 2, 3]);

function steady(seconds: number, owd: (sendMs: number) => number): Trace {
  return {
    name: 'steady',
    description: '',
    packets: Array.from({ length: (seconds * 1000) / 20 }, (_, i) => ({
      seq: i,
      sendMs: i * 20,
      arrivalMs: i * 20 + owd(i * 20),
    })),
  };
}

describe('jitter buffer (native/jitter, WebAssembly)', () => {
  it('never plays a frame twice or out of order, on every trace of the benchmark set', () => {
    for (const trace of traceSet(30)) {
      const run = playCarphone(trace);
      run.buffer.destroy();
      expect(orderProblems(run.order), trace.name).toEqual([]);
      // Every packet that never arrived is not played, and nearly every one that did is.
      trace.packets.forEach((p, i) => {
        if (p.arrivalMs < 0) {
          expect(run.playedAt[i], `${trace.name} #${i}`).toBeUndefined();
        }
      });
      expect(figures(trace, run.playedAt).late_pct, trace.name).toBeLessThan(1);
    }
  });

  it('conceals lost frames and keeps playing at the same delay', () => {
    // 40 ms one way, every 25th packet lost.
    const trace = steady(20, () => 40);
    trace.packets.forEach((p, i) => {
      if (i % 25 === 10) {
        p.arrivalMs = -1;
      }
    });
    const run = playCarphone(trace);
    const stats = run.buffer.stats();
    run.buffer.destroy();
    expect(stats.concealed).toBe(40);
    expect(stats.late).toBe(0);
    const f = figures(trace, run.playedAt);
    expect(f.loss_pct).toBeCloseTo(4, 5);
    expect(f.p95_delay_ms).toBeLessThan(60);
  });

  it('converges to the new delay after a step up and comes back down after a step down', () => {
    // 40 ms for 10 s, 140 ms for 10 s, 40 ms again for 10 s.
    const trace = steady(30, (s) => (s >= 10000 && s < 20000 ? 140 : 40) + (s % 7));
    const run = playCarphone(trace);
    run.buffer.destroy();
    const delayAt = (fromMs: number, toMs: number): number[] =>
      trace.packets
        .filter((p) => p.sendMs >= fromMs && p.sendMs < toMs && run.playedAt[p.seq] !== undefined)
        .map((p) => (run.playedAt[p.seq] ?? 0) - p.sendMs);
    const max = (xs: number[]): number => Math.max(...xs);
    const min = (xs: number[]): number => Math.min(...xs);
    // Settled on the high path: no packet later than needed by more than 3 frames, none lost.
    expect(min(delayAt(12000, 20000))).toBeGreaterThanOrEqual(140);
    expect(max(delayAt(12000, 20000))).toBeLessThan(140 + 7 + 60);
    // Back down within 5 s of the step down.
    expect(max(delayAt(25000, 30000))).toBeLessThan(40 + 7 + 60);
    expect(figures(trace, run.playedAt).late_pct).toBe(0);
  });

  it('drops duplicates and packets whose frame has been played, and refuses bad payloads', () => {
    const jb = JitterBuffer.create(20, 8000);
    expect(jb.put(100, 16000, 0, payload)).toBe('stored');
    expect(jb.put(100, 16000, 1, payload)).toBe('duplicate');
    expect(jb.put(101, 16160, 20, new Uint8Array(0))).toBe('invalid');
    expect(jb.put(101, 16160, 20, new Uint8Array(2000))).toBe('invalid');
    let t = 0;
    while (jb.get(t).kind !== 'normal') {
      t += 20;
    }
    expect(jb.put(100, 16000, t, payload)).toBe('late');
    expect(jb.stats()).toMatchObject({ duplicate: 1, late: 1, played: 1 });
    jb.destroy();
    expect(() => jb.decide(0)).toThrow(JitterBufferError);
  });

  it('follows a sender that restarts its timestamps, and starts over on reset (a new SSRC)', () => {
    const jb = JitterBuffer.create(20, 8000);
    const played: number[] = [];
    for (let i = 0; i < 400; i++) {
      // At packet 200 the timestamp jumps by an hour's worth; sequence numbers go on.
      const ts = i < 200 ? i * 160 : 8000 * 3600 + i * 160;
      jb.put(i, ts, i * 20 + 30, payload);
      const out = jb.get(i * 20 + 30);
      if (out.kind === 'normal' || out.kind === 'accelerate') {
        played.push(...out.frames.map((f) => f.seq & 0xffff));
      }
    }
    expect(jb.stats().resets).toBe(1);
    expect(played.filter((s) => s >= 200).length).toBeGreaterThan(190);
    jb.reset();
    jb.put(5000, 99, 10_000, payload);
    let kinds = '';
    for (let t = 10_000; t < 10_200; t += 20) {
      kinds += jb.decide(t)[0];
    }
    expect(kinds).toMatch(/n/);
    jb.destroy();
  });

  it('plays again after an outage whose packets were lost, however long (a tunnel, a handover)', () => {
    // 40 ms one way; every packet sent from 4 s to 9 s (250 frames, longer than the buffer) is lost.
    const trace = steady(20, () => 40);
    trace.packets.forEach((p) => {
      if (p.sendMs >= 4000 && p.sendMs < 9000) {
        p.arrivalMs = -1;
      }
    });
    const run = playCarphone(trace);
    run.buffer.destroy();
    expect(orderProblems(run.order)).toEqual([]);
    const playedAfter = trace.packets.filter((p) => p.sendMs >= 9000 && run.playedAt[p.seq] !== undefined);
    // All but the first few after the outage, at the delay from before it.
    expect(playedAfter.length).toBeGreaterThan(540);
    const delays = playedAfter.slice(10).map((p) => (run.playedAt[p.seq] ?? 0) - p.sendMs);
    expect(Math.max(...delays)).toBeLessThan(40 + 60);
  });

  it('plays comfort noise through a DTX pause instead of concealing it', () => {
    // Packets 0-99, then a 2 s pause in sending: timestamps jump, sequence numbers do not.
    const trace: Trace = {
      name: 'dtx',
      description: '',
      packets: Array.from({ length: 300 }, (_, i) => {
        const sendMs = i < 100 ? i * 20 : i * 20 + 2000;
        return { seq: i, sendMs, arrivalMs: sendMs + 40 };
      }),
    };
    const run = playCarphone(trace);
    const stats = run.buffer.stats();
    run.buffer.destroy();
    expect(stats.concealed).toBe(0);
    expect(stats.silence + stats.expanded).toBeGreaterThanOrEqual(100);
    expect(run.playedAt.filter((t) => t !== undefined).length).toBe(300);
  });

  it('holds at most eight buffers and says so', () => {
    const held: JitterBuffer[] = [];
    expect(() => {
      for (let i = 0; i < 9; i++) {
        held.push(JitterBuffer.create(20, 8000));
      }
    }).toThrow(JitterBufferError);
    held.forEach((b) => b.destroy());
  });

  it('is built byte for byte from native/jitter by native/build.sh', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'carphone-wasm-')), 'jitter.wasm');
    execFileSync('bash', [join(REPO, 'native/build.sh')], { env: { ...process.env, JB_OUT: out } });
    expect(readFileSync(out).equals(readFileSync(join(REPO, 'native/jitter/jitter.wasm')))).toBe(true);
  });
});
