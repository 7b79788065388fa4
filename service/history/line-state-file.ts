import { z } from 'zod';
import { readStateFile, writeStateFile } from '../core/json-state-file.js';
import type { Logger } from '../log/logger.js';

/**
 * A list per line in one JSON file in the state directory, written atomically at every change: what a
 * line must not lose if carphoned stops now (texts still to send, parts of an SMS already acknowledged).
 */
export class LineStateFile<T> {
  private lines: Record<string, T[]>;

  constructor(
    private readonly path: string | undefined,
    item: z.ZodType<T>,
    private readonly logger: Logger,
    private readonly what: string,
  ) {
    this.lines =
      readStateFile(path, z.object({ lines: z.record(z.string(), z.array(item)) }), logger, what)?.lines ??
      {};
  }

  load(line: string): T[] {
    return [...(this.lines[line] ?? [])];
  }

  save(line: string, items: T[]): void {
    this.lines = { ...this.lines, [line]: items };
    writeStateFile(this.path, { lines: this.lines }, this.logger, this.what);
  }
}
