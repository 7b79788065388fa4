import type dbus from 'dbus-next';
import type { Logger } from '../log/logger.js';
import { HIDE_CALLER_ID, isOneOf, VOICE_CALL_WAITING, type CallSettings } from '../daemon/line-settings.js';
import { invalidArgs } from './errors.js';
import { defineMembers, OfonoInterface } from './ofono-interface.js';

type Variant = InstanceType<typeof dbus.Variant>;

export interface CallSettingsModel {
  callSettings: CallSettings;
  setCallSettings(change: Partial<CallSettings>): void;
}

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
      const allowed = name === 'HideCallerId' ? HIDE_CALLER_ID : VOICE_CALL_WAITING;
      const v = value.signature === 's' ? String(value.value) : '';
      if (name === 'HideCallerId' && isOneOf(HIDE_CALLER_ID, v)) {
        this.model.setCallSettings({ hideCallerId: v });
      } else if (name === 'VoiceCallWaiting' && isOneOf(VOICE_CALL_WAITING, v)) {
        this.model.setCallSettings({ voiceCallWaiting: v });
      } else {
        throw invalidArgs(`${name} takes one of the strings ${allowed.map((a) => `"${a}"`).join(', ')}`);
      }
    });
  }
}

defineMembers(CallSettingsInterface, 'org.ofono.CallSettings', { SetProperty: { inSignature: 'sv' } });
