import { join } from 'node:path';
import { REPO } from './compile-daemon.js';
import { inNamespace } from './nat-network.js';
import { Child, waitFor } from './process.js';

export type PsapEvent = { event: string; callId?: string } & Record<string, unknown>;

/**
 * psap-sim (service/bin/psap-sim.ts) as a separate process, in a network namespace where the test's
 * network is: its JSON events read from its output, its commands written to its input.
 */
export class PsapSimProcess {
  private constructor(
    private readonly child: Child,
    readonly uri: string,
  ) {}

  static async start(o: { address: string; port: number; netns?: string }): Promise<PsapSimProcess> {
    const [command, args] = inNamespace(o.netns, process.execPath, [
      '--import',
      'tsx',
      join(REPO, 'service/bin/psap-sim.ts'),
      '--address',
      o.address,
      '--port',
      String(o.port),
    ]);
    const child = new Child('psap-sim', command, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd: REPO });
    const listening = await child.waitForLine(/"event":"listening","uri":"([^"]+)"/, 20_000);
    return new PsapSimProcess(child, listening[1] ?? '');
  }

  events(): PsapEvent[] {
    return this.child.output.flatMap((line) => {
      if (!line.startsWith('{')) {
        return [];
      }
      try {
        return [JSON.parse(line) as PsapEvent];
      } catch {
        return [];
      }
    });
  }

  /** The first event named `event` (after `since` events) for which `matches` holds. */
  waitForEvent(
    event: string,
    matches: (e: PsapEvent) => boolean = () => true,
    timeoutMs = 10_000,
    since = 0,
  ): Promise<PsapEvent> {
    return waitFor(
      `psap-sim ${event}`,
      () =>
        this.events()
          .slice(since)
          .find((e) => e.event === event && matches(e)),
      timeoutMs,
    );
  }

  /** One of psap-sim's commands: request-msd CALL-ID, clear CALL-ID … */
  command(line: string): void {
    this.child.proc.stdin?.write(`${line}\n`);
  }

  async stop(): Promise<void> {
    await this.child.stop('SIGTERM', 2000);
  }
}
