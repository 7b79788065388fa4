import type dbus from 'dbus-next';
import type { Logger } from '../log/logger.js';
import type { Voicemail } from '../daemon/line-voicemail.js';
import { invalidArgs } from './errors.js';
import { defineMembers, OfonoInterface } from './ofono-interface.js';

type Variant = InstanceType<typeof dbus.Variant>;

export interface MessageWaitingModel {
  voicemail: Voicemail;
  setMailboxNumber(number: string): void;
}

/** oFono's properties for a line's voicemail. */
export function messageWaitingProperties(v: Voicemail): Record<string, unknown> {
  return {
    VoicemailWaiting: v.waiting,
    VoicemailMessageCount: v.count,
    VoicemailMailboxNumber: v.mailboxNumber,
  };
}

/** org.ofono.MessageWaiting on each line's object (docs/api/messagewaiting-api.txt). */
export class MessageWaitingInterface extends OfonoInterface {
  constructor(
    private readonly model: MessageWaitingModel,
    logger: Logger,
  ) {
    super('org.ofono.MessageWaiting', logger);
  }

  protected properties(): object {
    return messageWaitingProperties(this.model.voicemail);
  }

  async SetProperty(name: string, value: Variant): Promise<void> {
    return this.guard(() => {
      if (name !== 'VoicemailMailboxNumber') {
        throw invalidArgs(`property ${name} does not exist or is read-only`);
      }
      if (value.signature !== 's') {
        throw invalidArgs('VoicemailMailboxNumber takes a string');
      }
      this.model.setMailboxNumber(value.value as string);
    });
  }
}

defineMembers(MessageWaitingInterface, 'org.ofono.MessageWaiting', { SetProperty: { inSignature: 'sv' } });
