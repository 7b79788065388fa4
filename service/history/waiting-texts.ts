import { z } from 'zod';
import { readStateFile, writeStateFile } from '../core/json-state-file.js';
import type { Logger } from '../log/logger.js';

/** A text message the driver sent that the network has not yet answered. */
export interface WaitingText {
  to: string;
  text: string;
  /** When the driver sent it, ms since the epoch: its validity runs from then. */
  at: number;
}

const waitingText = z.object({ to: z.string(), text: z.string(), at: z.number() });
const file = z.object({ lines: z.record(z.string(), z.array(waitingText)) });

/**
 * The texts each line still has to send (queued for want of a registration, or sent and not yet
 * answered), in one file in the state directory, written atomically at every change: a text the driver
 * sent in a tunnel must not be lost because the car was switched off before it left.
 */
export class WaitingTexts {
  private lines: Record<string, WaitingText[]>;

  constructor(
    private readonly path: string | undefined,
    private readonly logger: Logger,
  ) {
    this.lines = readStateFile(path, file, logger, 'texts waiting to be sent')?.lines ?? {};
  }

  load(line: string): WaitingText[] {
    return [...(this.lines[line] ?? [])];
  }

  save(line: string, texts: WaitingText[]): void {
    this.lines = { ...this.lines, [line]: texts };
    writeStateFile(this.path, { lines: this.lines }, this.logger, 'texts waiting to be sent');
  }
}
