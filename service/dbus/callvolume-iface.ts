import type dbus from 'dbus-next';
import type { Logger } from '../log/logger.js';
import type { CallVolume } from '../daemon/line.js';
import { invalidArgs } from './errors.js';
import { defineMembers, OfonoInterface } from './ofono-interface.js';

type Variant = InstanceType<typeof dbus.Variant>;

export interface CallVolumeModel {
  volume: CallVolume;
  setVolume(change: Partial<CallVolume>): void;
}

/** org.ofono.CallVolume on each line's object (docs/api/callvolume-api.txt). */
export class CallVolumeInterface extends OfonoInterface {
  constructor(
    private readonly model: CallVolumeModel,
    logger: Logger,
  ) {
    super('org.ofono.CallVolume', logger);
  }

  protected properties(): object {
    return this.model.volume;
  }

  async SetProperty(name: string, value: Variant): Promise<void> {
    return this.guard(() => {
      if (name === 'Muted') {
        if (value.signature !== 'b') {
          throw invalidArgs('Muted takes a boolean');
        }
        this.model.setVolume({ Muted: value.value as boolean });
        return;
      }
      if (name === 'SpeakerVolume' || name === 'MicrophoneVolume') {
        // oFono's clients send a byte (set-speaker-volume uses dbus.Byte); 0-100 %.
        if (value.signature !== 'y' || (value.value as number) > 100) {
          throw invalidArgs(`${name} takes a byte from 0 to 100`);
        }
        this.model.setVolume({ [name]: value.value as number });
        return;
      }
      throw invalidArgs(`property ${name} does not exist or is read-only`);
    });
  }
}

defineMembers(CallVolumeInterface, 'org.ofono.CallVolume', { SetProperty: { inSignature: 'sv' } });
