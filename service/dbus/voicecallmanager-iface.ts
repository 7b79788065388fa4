import type dbus from 'dbus-next';
import { CarphoneError } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import { invalidArgs } from './errors.js';
import { HIDE_CALLER_ID, isOneOf, type HideCallerId } from '../daemon/line-settings.js';
import { defineMembers, OfonoInterface } from './ofono-interface.js';

type Variant = InstanceType<typeof dbus.Variant>;
type ObjectEntry = [string, Record<string, Variant>];

export interface VoiceCallManagerModel {
  emergencyNumbers: string[];
  /**
   * Returns the new call's object path. `hide`: oFono's hide_callerid, "" taken as "default" (the
   * line's CallSettings HideCallerId).
   */
  dial(number: string, hide: HideCallerId): Promise<string>;
  calls(): ObjectEntry[];
  hangupAll(): void;
  holdAndAnswer(): void;
  releaseAndAnswer(): void;
  releaseAndSwap(): void;
  swapCalls(): void;
  sendTones(tones: string): Promise<void>;
  transfer(): Promise<void>;
  /** These return the object paths of the calls in the multiparty call afterwards. */
  createMultiparty(): string[];
  hangupMultiparty(): void;
  privateChat(callPath: string): string[];
}

/** org.ofono.VoiceCallManager on each line's object (docs/api/voicecallmanager-api.txt). */
export class VoiceCallManagerInterface extends OfonoInterface {
  /** oFono accepts one pending operation per modem; a second one gets InProgress. */
  private pending = false;

  constructor(
    private readonly model: VoiceCallManagerModel,
    logger: Logger,
  ) {
    super('org.ofono.VoiceCallManager', logger);
  }

  protected properties(): object {
    return { EmergencyNumbers: this.model.emergencyNumbers };
  }

  private async exclusive<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.guard(async () => {
      if (this.pending) {
        throw new CarphoneError('IN_PROGRESS', 'another call operation is in progress');
      }
      this.pending = true;
      try {
        return await fn();
      } finally {
        this.pending = false;
      }
    });
  }

  async Dial(number: string, hideCallerId: string): Promise<string> {
    return this.exclusive(() => {
      const hide = hideCallerId === '' ? 'default' : hideCallerId;
      if (!isOneOf(HIDE_CALLER_ID, hide)) {
        throw invalidArgs('hide_callerid must be "", "default", "enabled" or "disabled"');
      }
      return this.model.dial(number, hide);
    });
  }

  GetCalls(): ObjectEntry[] {
    return this.guardSync(() => this.model.calls());
  }

  async HangupAll(): Promise<void> {
    return this.exclusive(() => this.model.hangupAll());
  }

  async HoldAndAnswer(): Promise<void> {
    return this.exclusive(() => this.model.holdAndAnswer());
  }

  async ReleaseAndAnswer(): Promise<void> {
    return this.exclusive(() => this.model.releaseAndAnswer());
  }

  async ReleaseAndSwap(): Promise<void> {
    return this.exclusive(() => this.model.releaseAndSwap());
  }

  async SwapCalls(): Promise<void> {
    return this.exclusive(() => this.model.swapCalls());
  }

  async Transfer(): Promise<void> {
    return this.exclusive(() => this.model.transfer());
  }

  async PrivateChat(call: string): Promise<string[]> {
    return this.exclusive(() => this.model.privateChat(call));
  }

  async CreateMultiparty(): Promise<string[]> {
    return this.exclusive(() => this.model.createMultiparty());
  }

  async HangupMultiparty(): Promise<void> {
    return this.exclusive(() => this.model.hangupMultiparty());
  }

  async SendTones(tones: string): Promise<void> {
    return this.exclusive(async () => {
      if (!/^[0-9*#A-Da-d]{1,64}$/.test(tones)) {
        throw new CarphoneError('INVALID_FORMAT', 'tones must be 1-64 of 0-9, *, #, A-D');
      }
      await this.model.sendTones(tones);
    });
  }

  CallAdded(path: string, props: Record<string, Variant>): ObjectEntry {
    return [path, props];
  }

  CallRemoved(path: string): string {
    return path;
  }

  /** oFono's: "incoming" for a call forwarded to us, "outgoing" for ours forwarded on by the far end. */
  Forwarded(type: 'incoming' | 'outgoing'): string {
    return type;
  }
}

defineMembers(
  VoiceCallManagerInterface,
  'org.ofono.VoiceCallManager',
  {
    Dial: { inSignature: 'ss', outSignature: 'o' },
    GetCalls: { outSignature: 'a(oa{sv})' },
    HangupAll: {},
    HoldAndAnswer: {},
    ReleaseAndAnswer: {},
    ReleaseAndSwap: {},
    SwapCalls: {},
    Transfer: {},
    PrivateChat: { inSignature: 'o', outSignature: 'ao' },
    CreateMultiparty: { outSignature: 'ao' },
    HangupMultiparty: {},
    SendTones: { inSignature: 's' },
  },
  { CallAdded: 'oa{sv}', CallRemoved: 'o', Forwarded: 's' },
);
