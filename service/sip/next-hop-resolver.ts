import { lookup, Resolver } from 'node:dns/promises';
import * as sip from 'sip';
import { addressOfHost, ipFamily, type IpFamily } from '../core/ip-address.js';

export type HopProtocol = 'UDP' | 'TCP' | 'TLS';

/**
 * The next hop as a SIP URI names it: a host name or an IP address (an IPv6 one without its
 * brackets), a port if the URI has one.
 */
export interface NamedHop {
  protocol: HopProtocol;
  host: string;
  port: number | undefined;
}

/** Where a request is sent. */
export interface ResolvedHop {
  protocol: HopProtocol;
  address: string;
  port: number;
  /** The host name the URI gave, which a TLS peer's certificate must name; none for an address. */
  name?: string;
}

export class HopResolutionError extends Error {
  constructor(
    readonly host: string,
    readonly detail: string,
  ) {
    super(`DNS: ${host}: ${detail}`);
    this.name = 'HopResolutionError';
  }
}

const SRV_PREFIX: Record<HopProtocol, string> = { UDP: '_sip._udp.', TCP: '_sip._tcp.', TLS: '_sips._tcp.' };
const DEFAULT_PORT: Record<HopProtocol, number> = { UDP: 5060, TCP: 5060, TLS: 5061 };

/** The hop a SIP URI names: its host, port and transport (sips: TLS, otherwise UDP unless it says). */
export function uriHop(uri: sip.SipUri): NamedHop | undefined {
  if (!uri.host) {
    return undefined;
  }
  const protocol = String(uri.params.transport ?? (uri.schema === 'sips' ? 'tls' : 'udp')).toUpperCase();
  if (protocol !== 'UDP' && protocol !== 'TCP' && protocol !== 'TLS') {
    return undefined;
  }
  // The sip package parses a URI without a port to port NaN.
  const port = Number(uri.port);
  return {
    protocol,
    host: addressOfHost(uri.host),
    port: Number.isInteger(port) && port > 0 ? port : undefined,
  };
}

/** The hop a SIP URI written as text names, or undefined where it names none. */
export function hopOf(uri: string): NamedHop | undefined {
  const parsed = sip.parseUri(uri);
  return parsed ? uriHop(parsed) : undefined;
}

/** The hop as it is, where its host is an IP address. */
export function numericHop(hop: NamedHop): ResolvedHop | undefined {
  return ipFamily(hop.host) !== undefined
    ? { protocol: hop.protocol, address: hop.host, port: hop.port ?? DEFAULT_PORT[hop.protocol] }
    : undefined;
}

/**
 * RFC 3263 §4.2, without NAPTR (the transport is the account's): an IP address is used as it is; a
 * name with a port is looked up for its address of the line's family (A for an IPv4 line, AAAA for an
 * IPv6 one); a name without one for the transport's SRV records
 * first and for its own address, on the default port, where it has none. SRV targets come in the order
 * they are to be tried (§4.3): lowest priority first, the heaviest weight first within a priority
 * (RFC 2782 picks among equal priorities at random by weight; a head unit has no load to spread).
 * With DNS servers of its own (a head unit's IMS APN has its own), it asks them alone; otherwise the
 * system's resolver, /etc/hosts included.
 */
export class NextHopResolver {
  // A registration must fail in seconds, not hang on a server that does not answer.
  private readonly dns = new Resolver({ timeout: 2000, tries: 2 });
  private readonly ownServers: boolean;

  constructor(
    servers: readonly string[] = [],
    private readonly family: IpFamily = 4,
  ) {
    this.ownServers = servers.length > 0;
    if (this.ownServers) {
      this.dns.setServers([...servers]);
    }
  }

  /** Where to send, in the order to try; never empty (a name not found rejects with HopResolutionError). */
  async resolve(hop: NamedHop): Promise<ResolvedHop[]> {
    const numeric = numericHop(hop);
    if (numeric) {
      return [numeric];
    }
    const { protocol, host } = hop;
    const services = hop.port === undefined ? await this.services(`${SRV_PREFIX[protocol]}${host}`) : [];
    if (services.length === 0) {
      return [
        { protocol, address: await this.address(host), port: hop.port ?? DEFAULT_PORT[protocol], name: host },
      ];
    }
    const targets = await Promise.allSettled(
      services.map(async (s) => ({
        protocol,
        address: await this.address(s.name),
        port: s.port,
        name: host,
      })),
    );
    const found = targets.flatMap((t) => (t.status === 'fulfilled' ? [t.value] : []));
    const [firstFailure] = targets.flatMap((t) => (t.status === 'rejected' ? [t.reason as unknown] : []));
    if (found.length === 0) {
      throw firstFailure;
    }
    return found;
  }

  /** The SRV records in the order to try them; none when the name has none (or no answer for them). */
  private async services(name: string): Promise<{ name: string; port: number }[]> {
    try {
      const records = await this.dns.resolveSrv(name);
      return records
        .filter((r) => r.name !== '.' && r.name !== '')
        .sort((a, b) => a.priority - b.priority || b.weight - a.weight)
        .map((r) => ({ name: r.name, port: r.port }));
    } catch {
      return [];
    }
  }

  private async address(name: string): Promise<string> {
    try {
      if (this.ownServers) {
        const [first] = await (this.family === 6 ? this.dns.resolve6(name) : this.dns.resolve4(name));
        if (first === undefined) {
          throw new HopResolutionError(name, `no IPv${this.family} address`);
        }
        return first;
      }
      return (await lookup(name, { family: this.family })).address;
    } catch (e) {
      if (e instanceof HopResolutionError) {
        throw e;
      }
      throw new HopResolutionError(name, (e as NodeJS.ErrnoException).code ?? String(e));
    }
  }
}
