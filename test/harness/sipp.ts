import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './carphoned.js';
import { freePort } from './ports.js';
import { inNamespace } from './nat-network.js';
import { Child } from './process.js';

/** SIPp (Debian's sip-tester) running one of the scenarios under test/fixtures/sipp. */
export class Sipp {
  private constructor(
    readonly port: number,
    readonly child: Child,
  ) {}

  /** `fill` replaces {{name}} in the scenario: SIPp checks status codes before it substitutes -key values. */
  static async start(
    scenario: string,
    args: string[] = [],
    fill: Record<string, string> = {},
    /** Where it runs: a network namespace and its address there (nat-network.ts); loopback otherwise. */
    place: { netns?: string; address: string } = { address: '127.0.0.1' },
  ): Promise<Sipp> {
    const port = await freePort();
    const mediaPort = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'carphone-sipp-'));
    let xml = readFileSync(join(REPO, 'test/fixtures/sipp', scenario), 'utf8');
    for (const [k, v] of Object.entries(fill)) {
      xml = xml.replaceAll(`{{${k}}}`, v);
    }
    writeFileSync(join(dir, scenario), xml);
    const [command, commandArgs] = inNamespace(place.netns, 'sipp', [
      '-sf',
      join(dir, scenario),
      '-i',
      place.address,
      '-mi',
      place.address,
      '-p',
      String(port),
      '-mp',
      String(mediaPort),
      '-m',
      '1',
      '-nostdin',
      '-timeout',
      '20s',
      '-timeout_error',
      '-trace_err',
      ...args,
    ]);
    const child = new Child('sipp', command, commandArgs, { cwd: dir });
    await new Promise((r) => setTimeout(r, 300));
    return new Sipp(port, child);
  }

  /** Resolves with SIPp's exit code: 0 when every step of the scenario happened as written. */
  exitCode(): Promise<number | null> {
    if (this.child.exited) {
      return Promise.resolve(this.child.proc.exitCode);
    }
    return new Promise((resolve) => this.child.proc.once('exit', (code) => resolve(code)));
  }
}
