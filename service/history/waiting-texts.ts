import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { writeFileAtomically } from '../core/atomic-file.js';
import { errorMessage } from '../core/errors.js';
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
  private lines: Record<string, WaitingText[]> = {};

  constructor(
    private readonly path: string | undefined,
    private readonly logger: Logger,
  ) {
    if (!path || !existsSync(path)) {
      return;
    }
    try {
      this.lines = file.parse(JSON.parse(readFileSync(path, 'utf8'))).lines;
    } catch (e) {
      this.logger.error({ err: errorMessage(e), path }, 'texts waiting to be sent unreadable; dropped');
    }
  }

  load(line: string): WaitingText[] {
    return [...(this.lines[line] ?? [])];
  }

  save(line: string, texts: WaitingText[]): void {
    this.lines = { ...this.lines, [line]: texts };
    if (!this.path) {
      return;
    }
    try {
      writeFileAtomically(this.path, `${JSON.stringify({ lines: this.lines }, null, 2)}\n`);
    } catch (e) {
      this.logger.error({ err: errorMessage(e), path: this.path }, 'texts waiting to be sent not saved');
    }
  }
}
