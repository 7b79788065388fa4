import { freePort } from './ports.js';
import { Child } from './process.js';

/** A record the server answers with: an IPv4 address for a name, or an SRV record for a service. */
export type DnsRecord =
  | { type: 'A'; name: string; address: string }
  | { type: 'SRV'; service: string; target: string; port: number; priority?: number; weight?: number };

/**
 * Debian's dnsmasq as an authoritative-enough DNS server on loopback, answering only from the records
 * it is given (no /etc/hosts, no upstream servers), and logging every query.
 */
export class Dnsmasq {
  private constructor(
    readonly port: number,
    private readonly child: Child,
  ) {}

  /** The server as an account's dnsServers entry names it. */
  get server(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(records: DnsRecord[]): Promise<Dnsmasq> {
    const port = await freePort();
    const args = [
      '--keep-in-foreground',
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      '--no-poll',
      '--bind-interfaces',
      '--listen-address=127.0.0.1',
      `--port=${port}`,
      '--pid-file',
      '--user=',
      '--log-queries',
      '--log-facility=-',
      ...records.map((r) =>
        r.type === 'A'
          ? `--host-record=${r.name},${r.address}`
          : `--srv-host=${r.service},${r.target},${r.port},${r.priority ?? 0},${r.weight ?? 0}`,
      ),
    ];
    const child = new Child('dnsmasq', 'dnsmasq', args);
    await child.waitForLine(/started, version/, 5000);
    return new Dnsmasq(port, child);
  }

  /** The names asked for, in order, from the query log. */
  queries(): string[] {
    return this.child.output.flatMap((l) => /query\[\w+\] (\S+) from/.exec(l)?.[1] ?? []);
  }

  log(): string {
    return this.child.tail(40);
  }

  async stop(): Promise<void> {
    await this.child.stop();
  }
}
