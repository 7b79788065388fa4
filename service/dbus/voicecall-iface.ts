import type { Logger } from '../log/logger.js';
import type { CallRecord } from '../calls/manager.js';
import { defineMembers, OfonoInterface } from './ofono-interface.js';

export interface VoiceCallModel {
  record(): CallRecord;
  answer(): void;
  hangup(): void;
  deflect(number: string): void;
}

/** org.ofono.VoiceCall on each call's object (docs/api/voicecall-api.txt). */
export class VoiceCallInterface extends OfonoInterface {
  constructor(
    private readonly model: VoiceCallModel,
    logger: Logger,
  ) {
    super('org.ofono.VoiceCall', logger);
  }

  protected properties(): object {
    return this.model.record().props;
  }

  async Answer(): Promise<void> {
    return this.guard(() => this.model.answer());
  }

  async Hangup(): Promise<void> {
    return this.guard(() => this.model.hangup());
  }

  async Deflect(number: string): Promise<void> {
    return this.guard(() => this.model.deflect(number));
  }

  DisconnectReason(reason: string): string {
    return reason;
  }

  ToneReceived(tone: string): string {
    return tone;
  }
}

defineMembers(
  VoiceCallInterface,
  'org.ofono.VoiceCall',
  { Answer: {}, Hangup: {}, Deflect: { inSignature: 's' } },
  { DisconnectReason: 's', ToneReceived: 's' },
);
