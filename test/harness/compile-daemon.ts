import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..', '..');

/** carphoned compiled by tsc as `npm run build` does: into dist/build, or into `outDir`. */
export function compileDaemon(outDir?: string): void {
  execFileSync(
    process.execPath,
    [
      join(REPO, 'node_modules/typescript/bin/tsc'),
      '-p',
      join(REPO, 'tsconfig.build.json'),
      ...(outDir === undefined ? [] : ['--outDir', outDir]),
    ],
    { cwd: REPO, stdio: 'pipe' },
  );
}
