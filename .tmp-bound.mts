import { traceSet } from './bench/jitter/traces.js';
import { figures } from './bench/jitter/playout.js';
const t = traceSet(60).find((x) => x.name === 'drift+0.1%')!;
const base = (p: { sendMs: number }) => 70 + p.sendMs / 1000;
for (const m of [4, 6, 8, 10, 12, 14, 16, 20]) {
  const played = t.packets.map((p) => { const at = p.sendMs + base(p) + m; return p.arrivalMs >= 0 && p.arrivalMs <= at ? at : undefined; });
  const f = figures(t, played);
  console.log(`m=${m} p95=${f.p95_delay_ms.toFixed(1)} mean=${f.mean_delay_ms.toFixed(1)} late=${f.late_pct.toFixed(2)} R=${f.R.toFixed(1)}`);
}
