import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { OfonoClient } from '../../service/client/ofono-client.js';
import { Child } from './process.js';

export const REPO = resolve(import.meta.dirname, '..', '..');

/** carphoned as a real separate process, started with a YAML config written for the test. */
export class Carphoned {
  private constructor(
    readonly child: Child,
    readonly busAddress: string,
    readonly configPath: string,
  ) {}

  static async start(
    config: object,
    extraArgs: string[] = [],
    env: NodeJS.ProcessEnv = {},
  ): Promise<Carphoned> {
    const dir = mkdtempSync(join(tmpdir(), 'carphoned-'));
    const configPath = join(dir, 'carphoned.yaml');
    writeFileSync(configPath, stringify(config));
    return Carphoned.spawn(configPath, extraArgs, env);
  }

  static async spawn(
    configPath: string,
    extraArgs: string[] = [],
    env: NodeJS.ProcessEnv = {},
  ): Promise<Carphoned> {
    const child = new Child(
      'carphoned',
      process.execPath,
      ['--import', 'tsx', join(REPO, 'service/bin/carphoned.ts'), '--config', configPath, ...extraArgs],
      // Each daemon keeps its state (the call log) in a directory of its own unless the test says otherwise.
      {
        cwd: REPO,
        env: { ...process.env, XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'carphoned-state-')), ...env },
      },
    );
    const m = await child.waitForLine(/^DBUS_ADDRESS=(.+)$/, 20_000);
    return new Carphoned(child, m[1] ?? '', configPath);
  }

  async client(service = 'org.carphone'): Promise<OfonoClient> {
    return OfonoClient.connect(this.busAddress, service);
  }

  log(lines = 60): string {
    return this.child.tail(lines);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    return this.child.stop(signal, 6000);
  }
}
