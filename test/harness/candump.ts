import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatFrame, type CanFrame } from '../../can/frame.js';

/** Writes frames as a candump -l log, one every `stepS` seconds; returns the file's path. */
export function writeCandumpLog(frames: CanFrame[], stepS = 0.02, start = 1_700_000_000): string {
  const dir = mkdtempSync(join(tmpdir(), 'carphone-candump-'));
  const path = join(dir, 'can.log');
  const lines = frames.map((f, i) => `(${(start + i * stepS).toFixed(6)}) can0 ${formatFrame(f)}`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}
