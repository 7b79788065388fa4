import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * vitest's global setup (and npm run bench's): every temporary file of a test run (the peers' configurations, recordings,
 * the daemons' state, the independent decoders' inputs) goes under one directory that is removed when
 * the run ends. A run makes several hundred, and nothing else would ever remove them. The test files'
 * processes, and every peer they start, inherit TMPDIR. CARPHONE_KEEP_TEST_FILES=1 keeps them (the
 * directory is printed) for looking into a failure.
 */
export function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'carphone-test-run-'));
  process.env.TMPDIR = root;
  return () => {
    if (process.env.CARPHONE_KEEP_TEST_FILES) {
      console.log(`test files kept in ${root}`);
      return;
    }
    rmSync(root, { recursive: true, force: true });
  };
}
