import { execFileSync } from 'node:child_process';

/** `cmd args` run inside network namespace `netns`, or as it is where none is given. */
export function inNamespace(netns: string | undefined, cmd: string, args: string[]): [string, string[]] {
  return netns ? ['ip', ['netns', 'exec', netns, cmd, ...args]] : [cmd, args];
}

/** Runs iproute2's `ip` with `args` (network namespaces, links, addresses); throws on failure. */
export const ip = (...args: string[]): void => {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

/**
 * A car behind a mobile network's NAT, in network namespaces the test creates (nothing reaches the
 * host's own interfaces): the car (10.77.1.2) routes through a NAT namespace (10.77.1.1 inside, its
 * public address 10.77.2.1 outside) to the operator's core (10.77.2.2). The NAT maps each UDP flow to
 * a random port of its public address and forgets a mapping left idle for `udpTimeoutSeconds`, as
 * carrier-grade NATs do; what comes from the core to a forgotten mapping is dropped.
 */
export class NatNetwork {
  readonly carAddress = '10.77.1.2';
  readonly publicAddress = '10.77.2.1';
  readonly coreAddress = '10.77.2.2';

  private constructor(
    readonly car: string,
    readonly nat: string,
    readonly core: string,
  ) {}

  static create(udpTimeoutSeconds: number): NatNetwork {
    const tag = `cp${process.pid % 100_000}`;
    const net = new NatNetwork(`${tag}-car`, `${tag}-nat`, `${tag}-core`);
    try {
      for (const ns of [net.car, net.nat, net.core]) {
        ip('netns', 'add', ns);
        ip('-n', ns, 'link', 'set', 'lo', 'up');
      }
      ip(
        'link',
        'add',
        `${tag}c`,
        'netns',
        net.car,
        'type',
        'veth',
        'peer',
        'name',
        `${tag}ni`,
        'netns',
        net.nat,
      );
      ip(
        'link',
        'add',
        `${tag}no`,
        'netns',
        net.nat,
        'type',
        'veth',
        'peer',
        'name',
        `${tag}k`,
        'netns',
        net.core,
      );
      const addresses: [string, string, string][] = [
        [net.car, `${tag}c`, `${net.carAddress}/24`],
        [net.nat, `${tag}ni`, '10.77.1.1/24'],
        [net.nat, `${tag}no`, `${net.publicAddress}/24`],
        [net.core, `${tag}k`, `${net.coreAddress}/24`],
      ];
      for (const [ns, link, address] of addresses) {
        ip('-n', ns, 'addr', 'add', address, 'dev', link);
        ip('-n', ns, 'link', 'set', link, 'up');
      }
      // The core knows no route back to the car's private network: only the NAT's public address.
      ip('-n', net.car, 'route', 'add', 'default', 'via', '10.77.1.1');
      const inNat = (cmd: string, args: string[], input?: string): void => {
        const [c, a] = inNamespace(net.nat, cmd, args);
        execFileSync(c, a, { input, stdio: ['pipe', 'ignore', 'pipe'] });
      };
      inNat('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
      inNat(
        'nft',
        ['-f', '-'],
        `table ip nat {
  chain post {
    type nat hook postrouting priority 100;
    oifname "${tag}no" meta l4proto udp snat to ${net.publicAddress}:40000-49999 random
    oifname "${tag}no" masquerade
  }
}
`,
      );
      // After the NAT rule: a namespace has conntrack's settings once something in it uses conntrack.
      inNat('sysctl', ['-qw', `net.netfilter.nf_conntrack_udp_timeout=${udpTimeoutSeconds}`]);
      inNat('sysctl', ['-qw', `net.netfilter.nf_conntrack_udp_timeout_stream=${udpTimeoutSeconds}`]);
    } catch (e) {
      net.destroy();
      throw e;
    }
    return net;
  }

  destroy(): void {
    for (const ns of [this.car, this.nat, this.core]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // Not made, or gone already.
      }
    }
  }
}
