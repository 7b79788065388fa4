/**
 * Typed errors with stable codes. The D-Bus adapter maps each code to an org.ofono.Error.* name in one
 * place (service/dbus/errors.ts); the CLI maps them to exit codes. docs/errors.md lists every code.
 */
export const ErrorCodes = [
  'INVALID_ARGUMENTS',
  'INVALID_FORMAT',
  'NOT_IMPLEMENTED',
  'FAILED',
  'IN_PROGRESS',
  'NOT_FOUND',
  'NOT_AVAILABLE',
  'NOT_REGISTERED',
  'ACCESS_DENIED',
  'NOT_ALLOWED',
  'NOT_SUPPORTED',
] as const;

export type ErrorCode = (typeof ErrorCodes)[number];

export class CarphoneError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CarphoneError';
  }
}

export class ConfigError extends Error {
  constructor(
    /** The dotted path of the offending key, e.g. `accounts[0].registrar`. */
    readonly key: string,
    readonly problem: string,
  ) {
    super(`config error at ${key || '(top level)'}: ${problem}`);
    this.name = 'ConfigError';
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function assertNever(x: never): never {
  throw new Error(`unexpected variant: ${JSON.stringify(x)}`);
}
