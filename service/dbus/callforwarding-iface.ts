import type dbus from 'dbus-next';
import { CarphoneError } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import type { CallForwarding, ForwardingNumber } from '../daemon/line-forwarding.js';
import { invalidArgs } from './errors.js';
import { defineMembers, OfonoInterface } from './ofono-interface.js';

type Variant = InstanceType<typeof dbus.Variant>;

export interface CallForwardingModel {
  forwarding: CallForwarding;
  setForwarding(change: Partial<CallForwarding>): void;
}

/** oFono's property for each forwarding number. */
const NUMBER_PROPERTIES: Record<string, ForwardingNumber> = {
  VoiceUnconditional: 'unconditional',
  VoiceBusy: 'busy',
  VoiceNoReply: 'noReply',
};

/**
 * oFono's properties for a line's call forwarding. Forwarding when not reachable is the network's alone
 * (the head unit is off or out of coverage then), so it is always "", and there is no SIM to flag.
 */
export function callForwardingProperties(f: CallForwarding): Record<string, unknown> {
  return {
    VoiceUnconditional: f.unconditional,
    VoiceBusy: f.busy,
    VoiceNoReply: f.noReply,
    VoiceNoReplyTimeout: f.noReplyTimeoutSeconds,
    VoiceNotReachable: '',
    ForwardingFlagOnSim: false,
  };
}

/** org.ofono.CallForwarding on each line's object (docs/api/callforwarding-api.txt). */
export class CallForwardingInterface extends OfonoInterface {
  constructor(
    private readonly model: CallForwardingModel,
    logger: Logger,
  ) {
    super('org.ofono.CallForwarding', logger);
  }

  protected properties(): object {
    return callForwardingProperties(this.model.forwarding);
  }

  async SetProperty(name: string, value: Variant): Promise<void> {
    return this.guard(() => {
      const numberOf = NUMBER_PROPERTIES[name];
      if (numberOf !== undefined) {
        if (value.signature !== 's') {
          throw invalidArgs(`${name} takes a string: a number, or "" for none`);
        }
        this.model.setForwarding({ [numberOf]: value.value as string });
      } else if (name === 'VoiceNoReplyTimeout') {
        if (value.signature !== 'q') {
          throw invalidArgs('VoiceNoReplyTimeout takes a uint16');
        }
        this.model.setForwarding({ noReplyTimeoutSeconds: value.value as number });
      } else if (name === 'VoiceNotReachable') {
        throw new CarphoneError(
          'NOT_SUPPORTED',
          'only the network forwards calls while the head unit cannot be reached',
        );
      } else {
        throw invalidArgs(`property ${name} does not exist or is read-only`);
      }
    });
  }

  /** "all" or "": every rule off; "conditional": busy and no reply off. */
  async DisableAll(type: string): Promise<void> {
    return this.guard(() => {
      if (type === 'all' || type === '') {
        this.model.setForwarding({ unconditional: '', busy: '', noReply: '' });
      } else if (type === 'conditional') {
        this.model.setForwarding({ busy: '', noReply: '' });
      } else {
        throw invalidArgs('DisableAll takes "all", "" or "conditional"');
      }
    });
  }
}

defineMembers(CallForwardingInterface, 'org.ofono.CallForwarding', {
  SetProperty: { inSignature: 'sv' },
  DisableAll: { inSignature: 's' },
});
