import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * Process groups of children still running, killed when the test process exits however it exits:
 * each child leads its own group, so that the workers a peer forks (kamailio's, gpsfake's gpsd) are
 * stopped with it and none is left running after a test.
 */
const liveGroups = new Set<number>();
process.once('exit', () => {
  for (const group of liveGroups) {
    killGroup(group, 'SIGKILL');
  }
});

function killGroup(group: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-group, signal);
  } catch {
    // ESRCH: every process of the group has already exited.
  }
}

/** A child process whose output is kept for the test's failure message, stopped reliably. */
export class Child {
  readonly output: string[] = [];
  /** Lines printed so far, including those no longer kept in `output`. */
  private linesPrinted = 0;
  readonly proc: ChildProcess;
  private readonly lineWaiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];

  constructor(
    readonly name: string,
    cmd: string,
    args: string[],
    options: SpawnOptions = {},
  ) {
    this.proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...options });
    const group = this.proc.pid;
    if (group !== undefined) {
      liveGroups.add(group);
      // The leader's exit does not end its workers: what is left of the group goes with it.
      this.proc.once('exit', () => {
        killGroup(group, 'SIGKILL');
        liveGroups.delete(group);
      });
    }
    for (const stream of [this.proc.stdout, this.proc.stderr]) {
      if (stream) {
        createInterface({ input: stream }).on('line', (line) => this.onLine(line));
      }
    }
    this.proc.on('error', (e) => this.output.push(`[spawn error] ${e.message}`));
  }

  private onLine(line: string): void {
    this.linesPrinted++;
    this.output.push(line);
    if (this.output.length > 5000) {
      this.output.splice(0, 1000);
    }
    for (const w of [...this.lineWaiters]) {
      const m = line.match(w.re);
      if (m) {
        this.lineWaiters.splice(this.lineWaiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  }

  get exited(): boolean {
    return this.proc.exitCode !== null || this.proc.signalCode !== null;
  }

  /** Resolves on the first output line (already printed or future) that matches. */
  waitForLine(re: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    for (const line of this.output) {
      const m = line.match(re);
      if (m) {
        return Promise.resolve(m);
      }
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${this.name}: no line matching ${re} within ${timeoutMs} ms\n${this.tail()}`));
      }, timeoutMs);
      this.lineWaiters.push({
        re,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
      this.proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${code}) before printing ${re}\n${this.tail()}`));
      });
    });
  }

  /** A mark for linesSince: where the output is now. */
  mark(): number {
    return this.linesPrinted;
  }

  /** The lines printed since `mark` (as many of them as are still kept). */
  linesSince(mark: number): string[] {
    return this.output.slice(Math.max(0, this.output.length - (this.linesPrinted - mark)));
  }

  tail(n = 40): string {
    return this.output.slice(-n).join('\n');
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 4000): Promise<number | null> {
    if (this.exited) {
      return this.proc.exitCode;
    }
    const group = this.proc.pid;
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => (group === undefined ? this.proc.kill('SIGKILL') : killGroup(group, 'SIGKILL')),
        graceMs,
      );
      this.proc.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
      this.proc.kill(signal);
    });
  }
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) {
      return v;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
