import { isIP, isIPv6 } from 'node:net';

export type IpFamily = 4 | 6;

/** The family of an IP address literal (without brackets), or undefined for anything else. */
export function ipFamily(address: string): IpFamily | undefined {
  const family = isIP(address);
  return family === 4 || family === 6 ? family : undefined;
}

/**
 * An address as the host of a SIP URI, a Via or an "address:port" text: an IPv6 address in brackets
 * (RFC 3261 §25.1's IPv6reference, RFC 5118), anything else as it is.
 */
export function hostOfAddress(address: string): string {
  return isIPv6(address) ? `[${address}]` : address;
}

/** The address a URI's or Via's host names: an IPv6 reference without its brackets, anything else as it is. */
export function addressOfHost(host: string): string {
  const inner = /^\[(.*)\]$/.exec(host)?.[1];
  return inner !== undefined && isIPv6(inner) ? inner : host;
}

/** "address:port", with an IPv6 address in brackets. */
export function endpointText(address: string, port: number): string {
  return `${hostOfAddress(address)}:${port}`;
}

/** An IPv4 address given as a 32-bit number, as text. */
export function ipv4Text(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/**
 * An IPv6 address given as four 32-bit numbers, as text in RFC 5952's form (lower case, no leading
 * zeros, the longest run of two or more zero groups as "::", the first of equal runs; an IPv4 address
 * inside one dotted), which is how Node writes one: the same address gives the same text whichever
 * socket it came from.
 */
export function ipv6Text(words: readonly [number, number, number, number]): string {
  const groups = words.flatMap((w) => [(w >>> 16) & 0xffff, w & 0xffff]);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < groups.length;) {
    let j = i;
    while (j < groups.length && groups[j] === 0) {
      j++;
    }
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = (g: number[]): string => g.map((x) => x.toString(16)).join(':');
  // An IPv4 address inside one (::a.b.c.d, ::ffff:a.b.c.d) is written dotted, as inet_ntop does.
  const last = words[3] >>> 0;
  if (bestStart === 0 && bestLength === 6) {
    return `::${ipv4Text(last)}`;
  }
  if (bestStart === 0 && bestLength === 5 && groups[5] === 0xffff) {
    return `::ffff:${ipv4Text(last)}`;
  }
  if (bestStart < 0) {
    return hex(groups);
  }
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}
