import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileDaemon, REPO } from './compile-daemon.js';

/** Where electron-builder's deb installs the app; its unpacked directory mirrors this tree. */
export const INSTALL_ROOT = '/opt/carphone';

/** What dist/systemd/carphoned.service starts: the program, its arguments, and the directory. */
export interface ServiceCommand {
  argv: string[];
  workingDirectory: string;
}

/** The unit's ExecStart and WorkingDirectory, as systemd would read them (one line each, no quoting). */
export function serviceCommand(unitText: string): ServiceCommand {
  const value = (key: string): string => {
    const line = unitText.split('\n').find((l) => l.startsWith(`${key}=`));
    if (line === undefined) {
      throw new Error(`carphoned.service has no ${key}=`);
    }
    return line.slice(key.length + 1).trim();
  };
  return { argv: value('ExecStart').split(/\s+/), workingDirectory: value('WorkingDirectory') };
}

/** The files a deb maintainer script installs from the package's resources ("$RES/..."). */
export function resourcesInstalledBy(script: string): string[] {
  return [...script.matchAll(/"\$RES\/([^"]+)"/g)].map((m) => m[1] ?? '');
}

/**
 * carphone packaged by electron-builder (electron-builder.yml) as its deb lays it out, into a new
 * directory outside the repository, so that nothing in it can resolve from the repository's
 * node_modules. Electron's binary cannot be downloaded here: a stand-in takes its place, which is all
 * the layout needs. Builds what the package carries first (npm run build, npm run build:app).
 * Returns the directory that stands for /opt/carphone.
 */
export function packageApp(): string {
  compileDaemon();
  execFileSync(process.execPath, ['--import', 'tsx', join(REPO, 'scripts/build-app.ts')], {
    cwd: REPO,
    stdio: 'pipe',
  });
  const work = mkdtempSync(join(tmpdir(), 'carphone-package-'));
  const electronDist = join(work, 'electron-stand-in');
  mkdirSync(electronDist);
  writeFileSync(join(electronDist, 'electron'), '#!/bin/sh\necho "a stand-in for Electron" >&2\nexit 1\n');
  chmodSync(join(electronDist, 'electron'), 0o755);
  const electronVersion = (
    JSON.parse(readFileSync(join(REPO, 'node_modules/electron/package.json'), 'utf8')) as { version: string }
  ).version;
  const arch = process.arch === 'arm64' ? '--arm64' : '--x64';
  execFileSync(
    process.execPath,
    [
      join(REPO, 'node_modules/electron-builder/cli.js'),
      '--dir',
      '--linux',
      arch,
      `-c.electronDist=${electronDist}`,
      `-c.electronVersion=${electronVersion}`,
      `-c.directories.output=${join(work, 'out')}`,
      // Rebuilding native modules for Electron fetches its headers from the network; carphone's
      // addons use Node-API, whose binaries load in Node.js and Electron alike.
      '-c.npmRebuild=false',
    ],
    { cwd: REPO, stdio: 'pipe' },
  );
  const root = join(work, 'out', process.arch === 'arm64' ? 'linux-arm64-unpacked' : 'linux-unpacked');
  if (!existsSync(root)) {
    throw new Error(`electron-builder made no ${root}`);
  }
  return root;
}

/** An absolute path of the installed package, in the packaged directory standing for it. */
export function inPackage(root: string, installedPath: string): string {
  if (installedPath === INSTALL_ROOT) {
    return root;
  }
  if (!installedPath.startsWith(`${INSTALL_ROOT}/`)) {
    throw new Error(`${installedPath} is not under ${INSTALL_ROOT}`);
  }
  return join(root, installedPath.slice(INSTALL_ROOT.length + 1));
}
