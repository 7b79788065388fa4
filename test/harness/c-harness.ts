import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const built = new Map<string, string>();

/**
 * A C peer (a Debian library driven through its public API) for a benchmark or a test, compiled with gcc -O2 once per
 * run; returns the executable's path.
 */
export function cHarness(source: URL, libraries: string[]): string {
  const src = fileURLToPath(source);
  let out = built.get(src);
  if (!out) {
    out = join(mkdtempSync(join(tmpdir(), 'carphone-bench-')), basename(src, '.c'));
    execFileSync('gcc', ['-O2', '-o', out, src, ...libraries]);
    built.set(src, out);
  }
  return out;
}
