import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { OfonoClient } from '../../service/client/ofono-client.js';
import { inPackage, packageApp, serviceCommand } from './packaged-app.js';
import { compileDaemon, REPO } from './compile-daemon.js';
import { inNamespace } from './nat-network.js';
import { Child } from './process.js';

export { REPO };

/**
 * carphoned built as it is installed: compiled by tsc as `npm run build` does, or packaged by
 * electron-builder as the deb lays it out.
 */
export class DaemonBuild {
  private constructor(
    /** Removed with the build. */
    readonly dir: string,
    /** The directory of the compiled programs (service/bin). */
    private readonly bin: string,
    /** The directory the daemon runs in. */
    readonly cwd: string,
  ) {}

  /**
   * Compiled by tsc into a directory of its own inside the repository, where the daemon finds the
   * package's files as it does from dist/build.
   */
  static make(): DaemonBuild {
    mkdirSync(join(REPO, '.tmp'), { recursive: true });
    const dir = mkdtempSync(join(REPO, '.tmp', 'build-'));
    compileDaemon(dir);
    return new DaemonBuild(dir, join(dir, 'service/bin'), REPO);
  }

  /**
   * Packaged by electron-builder (test/harness/packaged-app.ts), run from the script and in the
   * directory that dist/systemd/carphoned.service names, with the package standing for /opt/carphone.
   */
  static packaged(): DaemonBuild {
    const root = packageApp();
    const unit = serviceCommand(readFileSync(join(REPO, 'dist/systemd/carphoned.service'), 'utf8'));
    const script = unit.argv[1] ?? '';
    return new DaemonBuild(
      dirname(dirname(root)),
      dirname(inPackage(root, script)),
      inPackage(root, unit.workingDirectory),
    );
  }

  /** The node arguments that run one of the package's programs (service/bin/NAME) from this build. */
  program(name: string): string[] {
    return [join(this.bin, `${name}.js`)];
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The node arguments that run one of the package's programs from its TypeScript sources, as npm start does. */
function fromSources(name: string): string[] {
  return ['--import', 'tsx', join(REPO, 'service/bin', `${name}.ts`)];
}

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
    build?: DaemonBuild,
    /** Run in this network namespace (nat-network.ts); D-Bus still reaches it through its socket file. */
    netns?: string,
  ): Promise<Carphoned> {
    const dir = mkdtempSync(join(tmpdir(), 'carphoned-'));
    const configPath = join(dir, 'carphoned.yaml');
    writeFileSync(configPath, stringify(config));
    return Carphoned.spawn(configPath, extraArgs, env, build, netns);
  }

  /** Without `build`, from the TypeScript sources through tsx. */
  static async spawn(
    configPath: string,
    extraArgs: string[] = [],
    env: NodeJS.ProcessEnv = {},
    build?: DaemonBuild,
    netns?: string,
  ): Promise<Carphoned> {
    const program = build ? build.program('carphoned') : fromSources('carphoned');
    const [command, args] = inNamespace(netns, process.execPath, [
      ...program,
      '--config',
      configPath,
      ...extraArgs,
    ]);
    const child = new Child(
      'carphoned',
      command,
      args,
      // Each daemon keeps its state (the call log) in a directory of its own unless the test says otherwise.
      {
        cwd: build?.cwd ?? REPO,
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
