import { format } from 'node:util';
import type { Logger } from './logger.js';

/**
 * Sends what dependencies print through `console` into the log. carphoned's stdout carries only the
 * lines scripts read (DBUS_ADDRESS=…), yet the sip package prints there itself ("Flood attempt,
 * destroying stream" when a peer's headers overflow, which a peer can cause at will) and dbus-next
 * warns on stderr outside the log's format: each becomes a log record at its level instead.
 */
export function routeConsoleToLog(logger: Logger): void {
  const log = logger.child({ from: 'console' });
  console.log = (...args: unknown[]) => log.info(format(...args));
  console.info = (...args: unknown[]) => log.info(format(...args));
  console.debug = (...args: unknown[]) => log.debug(format(...args));
  console.warn = (...args: unknown[]) => log.warn(format(...args));
  console.error = (...args: unknown[]) => log.error(format(...args));
}
