import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

export type InterfaceTable = NodeJS.Dict<NetworkInterfaceInfo[]>;

/** What an account's `listen` names: an address, or a network interface whose address may change. */
export interface ListenPlace {
  address?: string | undefined;
  interface?: string | undefined;
}

/**
 * The IPv4 address a line binds SIP and RTP to now: the configured one, or the named interface's first
 * IPv4 address (an LTE modem's changes at every reconnection); undefined while the interface has none.
 */
export function listenAddress(
  place: ListenPlace,
  table: InterfaceTable = networkInterfaces(),
): string | undefined {
  if (place.interface === undefined) {
    return place.address ?? '127.0.0.1';
  }
  return table[place.interface]?.find((a) => a.family === 'IPv4')?.address;
}
