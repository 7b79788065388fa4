import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './carphoned.js';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end (20 s at most), from the repository's root. */
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd: REPO, env: { ...process.env, ...env }, timeout: 20_000 },
      (err, stdout, stderr) => {
        const code = err && typeof err.code === 'number' ? err.code : err ? 1 : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** carphonectl from its sources, on the bus at `address`. */
export const ctl = (address: string, ...args: string[]): Promise<Run> =>
  run(process.execPath, [
    '--import',
    'tsx',
    join(REPO, 'service/bin/carphonectl.ts'),
    '--bus',
    address,
    ...args,
  ]);
