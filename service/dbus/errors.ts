import dbus from 'dbus-next';
import { CarphoneError, type ErrorCode } from '../core/errors.js';
import type { Logger } from '../log/logger.js';

/** The one place where carphone's error codes become oFono's D-Bus error names (oFono src/dbus.c). */
export const OFONO_ERROR = 'org.ofono.Error';

const names: Record<ErrorCode, string> = {
  INVALID_ARGUMENTS: 'InvalidArguments',
  INVALID_FORMAT: 'InvalidFormat',
  NOT_IMPLEMENTED: 'NotImplemented',
  FAILED: 'Failed',
  IN_PROGRESS: 'InProgress',
  NOT_FOUND: 'NotFound',
  NOT_AVAILABLE: 'NotAvailable',
  NOT_REGISTERED: 'NotRegistered',
  ACCESS_DENIED: 'AccessDenied',
  NOT_ALLOWED: 'NotAllowed',
  NOT_SUPPORTED: 'NotSupported',
};

export function dbusErrorName(code: ErrorCode): string {
  return `${OFONO_ERROR}.${names[code]}`;
}

export function toDBusError(e: unknown, logger: Logger): InstanceType<typeof dbus.DBusError> {
  if (e instanceof dbus.DBusError) {
    return e;
  }
  if (e instanceof CarphoneError) {
    return new dbus.DBusError(dbusErrorName(e.code), e.message);
  }
  // Anything else is a bug of ours: log it, and tell the caller no more than that it failed.
  logger.error({ err: e instanceof Error ? e.stack : String(e) }, 'D-Bus handler failed');
  return new dbus.DBusError(dbusErrorName('FAILED'), 'internal error');
}

export function invalidArgs(message: string): CarphoneError {
  return new CarphoneError('INVALID_ARGUMENTS', message);
}
