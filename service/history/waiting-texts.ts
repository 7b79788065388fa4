import { z } from 'zod';
import type { Logger } from '../log/logger.js';
import type { SmsProgress } from '../sms/relay.js';
import { LineStateFile } from './line-state-file.js';

/** A text message the driver sent that the network has not yet answered. */
export interface WaitingText {
  to: string;
  text: string;
  /** When the driver sent it, ms since the epoch: its validity runs from then. */
  at: number;
  /** Sent as SMS, from its first part on. */
  sms?: SmsProgress;
}

const waitingText = z.object({
  to: z.string(),
  text: z.string(),
  at: z.number(),
  sms: z
    .object({
      parts: z.array(z.string().regex(/^(?:[0-9a-f]{2})+$/)).min(1),
      acknowledged: z.number().int().min(0),
    })
    .optional(),
});

/**
 * The texts each line still has to send (queued for want of a registration, or sent and not yet
 * answered): a text the driver sent in a tunnel must not be lost because the car was switched off
 * before it left.
 */
export class WaitingTexts extends LineStateFile<WaitingText> {
  constructor(path: string | undefined, logger: Logger) {
    super(path, waitingText, logger, 'texts waiting to be sent');
  }
}
