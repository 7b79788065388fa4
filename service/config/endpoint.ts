import { isIPv4 } from 'node:net';
import { ConfigError } from '../core/errors.js';

/**
 * The IPv4 address and port inside a source written as one string (vehicle.can's `udp:ADDR:PORT`,
 * gnss.source's `gpsd:ADDR:PORT`), checked when the string is read so that a wrong one stops the
 * daemon with the key named, not later in a socket call.
 */
export function endpoint(
  key: string,
  spec: string,
  address: string,
  portText: string,
): { address: string; port: number } {
  if (!isIPv4(address)) {
    throw new ConfigError(key, `"${spec}": ${address} is not an IPv4 address`);
  }
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65535) {
    throw new ConfigError(key, `"${spec}": port ${portText} is not 1-65535`);
  }
  return { address, port };
}
