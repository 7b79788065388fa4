import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

export type InterfaceTable = NodeJS.Dict<NetworkInterfaceInfo[]>;

/** What an account's `listen` names: an address, or a network interface whose address may change. */
export interface ListenPlace {
  address?: string | undefined;
  interface?: string | undefined;
  /** Which of the interface's addresses; IPv4 when not given. */
  family?: 'ipv4' | 'ipv6' | undefined;
}

/**
 * The address a line binds SIP and RTP to now: the configured one, or the named interface's first
 * address of the family asked for (an LTE modem's changes at every reconnection), for IPv6 a global one
 * (a link-local address needs a scope no SIP URI carries); undefined while the interface has none.
 */
export function listenAddress(
  place: ListenPlace,
  table: InterfaceTable = networkInterfaces(),
): string | undefined {
  if (place.interface === undefined) {
    return place.address ?? '127.0.0.1';
  }
  const usable =
    place.family === 'ipv6'
      ? (a: NetworkInterfaceInfo) => a.family === 'IPv6' && a.scopeid === 0 && !a.address.startsWith('fe80:')
      : (a: NetworkInterfaceInfo) => a.family === 'IPv4';
  return table[place.interface]?.find(usable)?.address;
}
