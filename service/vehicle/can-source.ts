import { CannelloniUdpTransport } from '../../can/transport/cannelloni.js';
import { ReplayTransport } from '../../can/transport/candump-log.js';
import { SocketCanTransport } from '../../can/transport/socketcan.js';
import type { CanTransport } from '../../can/transport/transport.js';
import { ConfigError } from '../core/errors.js';
import { endpoint } from '../config/endpoint.js';

/**
 * A CAN source as written on the command line or in the config:
 *   socketcan:IFACE · replay:FILE (paced by the log's timestamps) · replay-fast:FILE · udp:PORT · udp:ADDR:PORT
 */
export function parseCanSource(spec: string, key = 'vehicle.can'): CanTransport {
  const [kind = '', ...rest] = spec.split(':');
  const arg = rest.join(':');
  switch (kind) {
    case 'socketcan':
      if (!/^[A-Za-z0-9_.-]{1,15}$/.test(arg)) {
        throw new ConfigError(key, `"${arg}" is not a network interface name`);
      }
      return new SocketCanTransport(arg);
    case 'replay':
    case 'replay-fast':
      if (!arg) {
        throw new ConfigError(key, `${kind} needs a log file: ${kind}:FILE.log`);
      }
      return new ReplayTransport(arg, { paced: kind === 'replay' });
    case 'udp': {
      const m = /^(?:([^:]*):)?([^:]*)$/.exec(arg);
      if (!m) {
        throw new ConfigError(key, `"${arg}" is not PORT or ADDRESS:PORT`);
      }
      const { address, port } = endpoint(key, spec, m[1] ?? '127.0.0.1', m[2] ?? '');
      return new CannelloniUdpTransport(port, address);
    }
    default:
      throw new ConfigError(
        key,
        `"${spec}" is not socketcan:IFACE, replay:FILE, replay-fast:FILE or udp:PORT`,
      );
  }
}
