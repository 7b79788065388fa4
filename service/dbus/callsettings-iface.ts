import type dbus from 'dbus-next';
import type { Logger } from '../log/logger.js';
import type { CallSettings } from '../daemon/line.js';
import { invalidArgs } from './errors.js';
import { defineMembers, OfonoInterface } from './ofono-interface.js';

type Variant = InstanceType<typeof dbus.Variant>;

export interface CallSettingsModel {
  callSettings: CallSettings;
  setCallSettings(change: Partial<CallSettings>): void;
}

/** The values each settable property takes (oFono's call-settings-api.txt). */
const SETTABLE = {
  HideCallerId: ['default', 'enabled', 'disabled'],
  VoiceCallWaiting: ['enabled', 'disabled'],
} as const;

/**
 * oFono's properties for a line's call settings. The presentation services are the network's in GSM;
 * over SIP the line shows the caller's identity and name as the INVITE carries them (CLIP, CNAP
 * "enabled") and has no connected-line or called-line services ("unknown").
 */
export function callSettingsProperties(s: CallSettings): Record<string, string> {
  return {
    CallingLinePresentation: 'enabled',
    CallingNamePresentation: 'enabled',
    CalledLinePresentation: 'unknown',
    ConnectedLinePresentation: 'unknown',
    ConnectedLineRestriction: 'unknown',
    CallingLineRestriction: 'off',
    HideCallerId: s.hideCallerId,
    VoiceCallWaiting: s.voiceCallWaiting,
  };
}

/** org.ofono.CallSettings on each line's object (docs/api/callsettings-api.txt). */
export class CallSettingsInterface extends OfonoInterface {
  constructor(
    private readonly model: CallSettingsModel,
    logger: Logger,
  ) {
    super('org.ofono.CallSettings', logger);
  }

  protected properties(): object {
    return callSettingsProperties(this.model.callSettings);
  }

  async SetProperty(name: string, value: Variant): Promise<void> {
    return this.guard(() => {
      if (name !== 'HideCallerId' && name !== 'VoiceCallWaiting') {
        throw invalidArgs(`property ${name} does not exist or is read-only`);
      }
      const allowed: readonly string[] = SETTABLE[name];
      if (value.signature !== 's' || !allowed.includes(value.value as string)) {
        throw invalidArgs(`${name} takes one of the strings ${allowed.map((v) => `"${v}"`).join(', ')}`);
      }
      if (name === 'HideCallerId') {
        this.model.setCallSettings({ hideCallerId: value.value as CallSettings['hideCallerId'] });
      } else {
        this.model.setCallSettings({ voiceCallWaiting: value.value as CallSettings['voiceCallWaiting'] });
      }
    });
  }
}

defineMembers(CallSettingsInterface, 'org.ofono.CallSettings', { SetProperty: { inSignature: 'sv' } });
