import { z } from 'zod';
import type { Logger } from '../log/logger.js';
import type { TakenSms } from '../sms/duplicates.js';
import { LineStateFile } from './line-state-file.js';

const takenSms = z.object({ digest: z.string(), at: z.number() });

/**
 * The SMS a line took lately (service/sms/duplicates.ts): a service centre whose RP-ACK was lost as
 * carphoned stopped sends the SMS again to the next run, which must know it.
 */
export class SmsTaken extends LineStateFile<TakenSms> {
  constructor(path: string | undefined, logger: Logger) {
    super(path, takenSms, logger, 'SMS taken lately');
  }
}
