import { build } from 'esbuild';
import { join } from 'node:path';

/**
 * Builds the HMI: the renderer as one browser script, the preload as CommonJS (Electron's sandboxed
 * preloads must be), the main process as ESM. Output sits beside the sources so that the packaged app
 * (electron-builder.yml) and the tests load the same files.
 */
const root = join(import.meta.dirname, '..', 'app');

export async function buildRenderer(): Promise<void> {
  await build({
    entryPoints: [join(root, 'renderer/main.ts')],
    outfile: join(root, 'renderer/dist/renderer.js'),
    bundle: true,
    format: 'iife',
    target: 'chrome120',
    minify: false,
    sourcemap: false,
    logLevel: 'error',
  });
}

export async function buildElectron(): Promise<void> {
  await build({
    entryPoints: [join(root, 'preload/index.ts')],
    outfile: join(root, 'preload/index.cjs'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    external: ['electron'],
    logLevel: 'error',
  });
  await build({
    entryPoints: [join(root, 'main/index.ts')],
    outfile: join(root, 'main/dist/index.js'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    external: ['electron', 'dbus-next'],
    logLevel: 'error',
  });
}

if (process.argv[1]?.endsWith('build-app.ts')) {
  await buildRenderer();
  await buildElectron();
}
