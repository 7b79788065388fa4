import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import dbus from 'dbus-next';
import type { Logger } from '../log/logger.js';
import { BusError, busConnection, systemBusAddress, type Bus } from './dbus-next-address.js';

export interface BusConnection {
  bus: Bus;
  address: string;
  /** The private dbus-daemon carphoned started, when it had to. */
  privateDaemon?: ChildProcess;
}

export { BusError };

/** Connects and waits until the connection is authenticated, or fails with the reason. */
/** `address` is a D-Bus address, or the word system for the system bus. */
async function connect(address: string, timeoutMs = 3000): Promise<Bus> {
  const bus = busConnection(address);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new BusError(`no answer from the bus at ${address}`)), timeoutMs);
    bus.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    bus.once('error', (e: unknown) => {
      clearTimeout(timer);
      reject(
        new BusError(
          `cannot connect to the bus at ${address}: ${e instanceof Error ? e.message : String(e)}`,
        ),
      );
    });
  });
  return bus;
}

/** Starts a private session-type dbus-daemon and returns its address (`--print-address`). */
export async function startPrivateBus(): Promise<{ address: string; child: ChildProcess }> {
  const child = spawn('dbus-daemon', ['--session', '--nofork', '--nopidfile', '--print-address=1'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const address = await new Promise<string>((resolve, reject) => {
    child.once('error', (e) =>
      reject(new BusError(`cannot start dbus-daemon (${e.message}); install the Debian package "dbus"`)),
    );
    child.once('exit', (code) => reject(new BusError(`dbus-daemon exited with ${code ?? 'a signal'}`)));
    if (!child.stdout) {
      reject(new BusError('dbus-daemon has no stdout'));
      return;
    }
    createInterface({ input: child.stdout }).once('line', (line) => resolve(line.trim()));
  });
  return { address, child };
}

/**
 * Finds the bus named in the config: `system`, `session` ($DBUS_SESSION_BUS_ADDRESS), an address, or
 * `auto`: the session bus if one is reachable, else a private dbus-daemon started for this process.
 */
export async function openBus(spec: string, logger: Logger): Promise<BusConnection> {
  const sessionAddress = process.env.DBUS_SESSION_BUS_ADDRESS;
  if (spec === 'system') {
    const address = systemBusAddress();
    return { bus: await connect(address), address };
  }
  if (spec === 'session') {
    if (!sessionAddress) {
      throw new BusError('dbus.bus is "session" but DBUS_SESSION_BUS_ADDRESS is not set');
    }
    return { bus: await connect(sessionAddress), address: sessionAddress };
  }
  if (spec !== 'auto') {
    return { bus: await connect(spec), address: spec };
  }
  if (sessionAddress) {
    try {
      return { bus: await connect(sessionAddress), address: sessionAddress };
    } catch (e) {
      logger.warn(
        { err: e instanceof Error ? e.message : String(e) },
        'session bus unreachable; starting a private bus',
      );
    }
  }
  const { address, child } = await startPrivateBus();
  try {
    return { bus: await connect(address), address, privateDaemon: child };
  } catch (e) {
    child.kill();
    throw e;
  }
}

export async function claimName(bus: Bus, name: string): Promise<void> {
  let reply: number;
  try {
    reply = await bus.requestName(name, dbus.NameFlag.DO_NOT_QUEUE);
  } catch (e) {
    const text = e instanceof dbus.DBusError ? e.text : e instanceof Error ? e.message : String(e);
    throw new BusError(`cannot own ${name} on the bus: ${text} (is the D-Bus policy file installed?)`);
  }
  if (reply !== dbus.RequestNameReply.PRIMARY_OWNER && reply !== dbus.RequestNameReply.ALREADY_OWNER) {
    throw new BusError(`${name} is already owned by another process on this bus`);
  }
}

/**
 * Removes the object at `path` with every interface on it. dbus-next's unexport(path, iface) drops the
 * whole object when the first of several interfaces goes (it tests `length` on a map of them) and then
 * throws for the next one; called without an interface it removes them all, which its types do not
 * allow for.
 */
export function unexportObject(bus: Bus, path: string): void {
  (bus as unknown as { unexport(path: string): void }).unexport(path);
}
