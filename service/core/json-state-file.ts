import { existsSync, readFileSync } from 'node:fs';
import type { z } from 'zod';
import { writeFileAtomically } from './atomic-file.js';
import { errorMessage } from './errors.js';
import type { Logger } from '../log/logger.js';

/**
 * A small JSON file in the state directory (the driver's settings, the texts still to send): read
 * through its schema, and written atomically. A file that is torn or was edited by hand must not keep
 * the phone from starting: it is logged as `what` and read as absent.
 */
export function readStateFile<T>(
  path: string | undefined,
  schema: z.ZodType<T>,
  logger: Logger,
  what: string,
): T | undefined {
  if (!path || !existsSync(path)) {
    return undefined;
  }
  try {
    return schema.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch (e) {
    logger.error({ err: errorMessage(e), path }, `${what} unreadable; not used`);
    return undefined;
  }
}

/** Writes `value` to `path` (nothing without a path); a failure is logged as `what`, never thrown. */
export function writeStateFile(path: string | undefined, value: unknown, logger: Logger, what: string): void {
  if (!path) {
    return;
  }
  try {
    writeFileAtomically(path, `${JSON.stringify(value, null, 2)}\n`);
  } catch (e) {
    logger.error({ err: errorMessage(e), path }, `${what} not saved`);
  }
}
