import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

export type InterfaceTable = NodeJS.Dict<NetworkInterfaceInfo[]>;

/**
 * What an account's `listen` names: an address, or network interfaces (in order of preference) whose
 * addresses may change.
 */
export interface ListenPlace {
  address?: string | undefined;
  interface?: readonly string[] | undefined;
  /** Which of the interface's addresses; IPv4 when not given. */
  family?: 'ipv4' | 'ipv6' | undefined;
}

/**
 * The address a line binds SIP and RTP to now: the configured one, or the first address of the family
 * asked for on the first of the named interfaces that has one (an LTE modem's changes at every
 * reconnection; Wi-Fi, named first, comes and goes), for IPv6 a global one (a link-local address needs a
 * scope no SIP URI carries); undefined while none of them has one.
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
  for (const name of place.interface) {
    const found = table[name]?.find(usable);
    if (found) {
      return found.address;
    }
  }
  return undefined;
}
