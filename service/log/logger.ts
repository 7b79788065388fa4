import { pino, type Logger } from 'pino';

export type { Logger };

/** Logs go to stderr so that stdout carries only the lines scripts read (DBUS_ADDRESS=…). */
export function createLogger(level: string): Logger {
  return pino({ level, base: { svc: 'carphoned' } }, pino.destination({ fd: 2, sync: true }));
}

export const silentLogger: Logger = pino({ level: 'silent' });
