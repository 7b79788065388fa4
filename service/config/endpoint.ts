import { isIPv4 } from 'node:net';
import { ConfigError } from '../core/errors.js';

/** A port number as written in a config string: 1-65535, digits only. */
export function isPortText(text: string): boolean {
  const port = Number(text);
  return /^\d{1,5}$/.test(text) && port >= 1 && port <= 65535;
}

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
  if (!isPortText(portText)) {
    throw new ConfigError(key, `"${spec}": port ${portText} is not 1-65535`);
  }
  return { address, port: Number(portText) };
}
