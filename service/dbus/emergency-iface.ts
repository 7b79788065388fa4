import type { Logger } from '../log/logger.js';
import { CarphoneError } from '../core/errors.js';
import type { EcallService } from '../ecall/ecall-service.js';
import { invalidArgs } from './errors.js';
import { defineMembers, OfonoInterface } from './ofono-interface.js';

/** org.carphone.Emergency on the eCall line's object (docs/api/emergency-api.txt). */
export class EmergencyInterface extends OfonoInterface {
  constructor(
    private readonly ecall: EcallService,
    private readonly now: () => number,
    logger: Logger,
  ) {
    super('org.carphone.Emergency', logger);
  }

  protected properties(): object {
    const s = this.ecall.current;
    const trigger = 'trigger' in s ? s.trigger : undefined;
    return {
      State: this.ecall.stateName,
      Activation: trigger?.activation ?? '',
      TestCall: trigger?.test ?? false,
      TriggeredAt: trigger ? new Date(trigger.at).toISOString() : '',
      Attempt: 'attempt' in s ? s.attempt : 0,
      MessageIdentifier: 'msdId' in s ? s.msdId : 0,
      MsdAcknowledged: s.kind === 'active' && s.acknowledged,
      CallbackUntil: s.kind === 'callback' ? new Date(s.until).toISOString() : '',
      Msd: this.ecall.msd ?? {},
    };
  }

  async Trigger(kind: string): Promise<string> {
    return this.guard(async () => {
      if (kind !== 'manual' && kind !== 'test') {
        throw invalidArgs('kind must be "manual" or "test" (automatic eCalls come from the crash sensors)');
      }
      const rec = await this.ecall.trigger({ activation: 'manual', test: kind === 'test', at: this.now() });
      if (!rec) {
        throw new CarphoneError('FAILED', 'the eCall could not be placed; carphoned keeps redialling');
      }
      return this.ecall.stateName;
    });
  }
}

defineMembers(EmergencyInterface, 'org.carphone.Emergency', {
  Trigger: { inSignature: 's', outSignature: 's' },
});
