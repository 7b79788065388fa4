import dbus from 'dbus-next';

export type Bus = ReturnType<typeof dbus.sessionBus>;

export class BusError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BusError';
  }
}

const SYSTEM_BUS_DEFAULT = 'unix:path=/var/run/dbus/system_bus_socket';

/** The system bus's address ($DBUS_SYSTEM_BUS_ADDRESS, or the standard socket). */
export function systemBusAddress(): string {
  return process.env.DBUS_SYSTEM_BUS_ADDRESS || SYSTEM_BUS_DEFAULT;
}

/**
 * Why dbus-next cannot open `address`, or undefined. It opens an abstract-namespace socket
 * (`unix:abstract=NAME`, where dbus-daemon's `unix:tmpdir` listens) only through the optional native
 * package usocket, which is not installed (it compiles at install time), and fails with "Cannot find
 * module 'usocket'"; Node 20's own net module does not reach such a socket either (ECONNREFUSED). An
 * address that lists another kind of entry as well is tried entry by entry, and the others work.
 */
export function unsupportedBusAddress(address: string): string | undefined {
  const entries = address.split(';').filter((e) => e.length > 0);
  if (entries.length > 0 && entries.every((e) => /^unix:(?:.*,)?abstract=/.test(e))) {
    return (
      `the bus at ${address} listens on an abstract socket, which carphone cannot reach on Node.js 20: ` +
      'give dbus-daemon a socket in the file system (<listen>unix:dir=/run/user/ID</listen> or unix:path=)'
    );
  }
  return undefined;
}

/** A dbus-next connection (connecting) to `address`, or to the system bus for `system`. */
export function busConnection(address: string): Bus {
  const resolved = address === 'system' ? systemBusAddress() : address;
  const unsupported = unsupportedBusAddress(resolved);
  if (unsupported !== undefined) {
    throw new BusError(unsupported);
  }
  return dbus.sessionBus({ busAddress: resolved });
}
