import { z } from 'zod';
import type { Logger } from '../log/logger.js';
import type { SmsDeliver } from '../sms/tpdu.js';
import { LineStateFile } from './line-state-file.js';

const smsPart = z
  .object({
    originator: z.string(),
    sentAt: z.number(),
    text: z.string(),
    immediate: z.boolean(),
    part: z.object({ reference: z.number(), total: z.number(), sequence: z.number() }).optional(),
  })
  .transform((p): SmsDeliver => ({ ...p, part: p.part }));

/**
 * The parts of an SMS text that came and were acknowledged (RP-ACK) while the rest had not: the
 * service centre will not send them again, so a restart must not lose them.
 */
export class SmsParts extends LineStateFile<SmsDeliver> {
  constructor(path: string | undefined, logger: Logger) {
    super(path, smsPart, logger, 'parts of SMS texts');
  }
}
