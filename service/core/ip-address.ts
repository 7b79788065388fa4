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
