import dbus from 'dbus-next';
import { CarphoneError } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import { invalidArgs } from './errors.js';
import { defineMembers, OfonoInterface } from './ofono-interface.js';

type Variant = InstanceType<typeof dbus.Variant>;

export interface ModemModel {
  readonly powered: boolean;
  readonly online: boolean;
  readonly lockdown: boolean;
  readonly emergency: boolean;
  readonly name: string;
  readonly serial: string;
  readonly revision: string;
  readonly interfaces: string[];
  setPowered(on: boolean): Promise<void>;
  setOnline(on: boolean): Promise<void>;
  setLockdown(on: boolean): Promise<void>;
}

/** org.ofono.Modem on each line's object (docs/api/modem-api.txt). */
export class ModemInterface extends OfonoInterface {
  private pending = false;

  constructor(
    private readonly model: ModemModel,
    logger: Logger,
  ) {
    super('org.ofono.Modem', logger);
  }

  protected properties(): object {
    const m = this.model;
    return {
      Powered: m.powered,
      Online: m.online,
      Lockdown: m.lockdown,
      Emergency: m.emergency,
      Name: m.name,
      Manufacturer: 'carphone',
      Model: 'SIP line',
      Revision: m.revision,
      Serial: m.serial,
      // What oFono's clients look for before they offer text messages (MessageManager).
      Features: ['sms'],
      Interfaces: m.interfaces,
      Type: 'hardware',
    };
  }

  async SetProperty(name: string, value: Variant): Promise<void> {
    return this.guard(async () => {
      const setters: Record<string, (on: boolean) => Promise<void>> = {
        Powered: (on) => this.model.setPowered(on),
        Online: (on) => this.model.setOnline(on),
        Lockdown: (on) => this.model.setLockdown(on),
      };
      const setter = setters[name];
      if (!setter) {
        throw invalidArgs(`property ${name} does not exist or is read-only`);
      }
      if (value.signature !== 'b' || typeof value.value !== 'boolean') {
        throw invalidArgs(`${name} takes a boolean`);
      }
      if (this.pending) {
        throw new CarphoneError('IN_PROGRESS', 'another property change is in progress');
      }
      this.pending = true;
      try {
        await setter(value.value);
      } finally {
        this.pending = false;
      }
    });
  }
}

defineMembers(ModemInterface, 'org.ofono.Modem', { SetProperty: { inSignature: 'sv' } });
