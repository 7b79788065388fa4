import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The directory of carphone's package.json, found by walking up from this module: the TypeScript
 * sources run through tsx live one level below it, tsc's output (`npm run build`, dist/build) three,
 * and the files the daemon reads at run time (the jitter buffer's WebAssembly, the UDP addon, the
 * reference CAN bindings) stay where the repository has them.
 */
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    }
    dir = parent;
  }
}

export const PACKAGE_ROOT = findPackageRoot();

/** A file of the carphone package, by its path in the repository (e.g. native/jitter/jitter.wasm). */
export function packageFile(path: string): string {
  return join(PACKAGE_ROOT, path);
}
