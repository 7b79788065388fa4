import dbus from 'dbus-next';
import { CarphoneError } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import { formatStartTime } from '../calls/manager.js';
import type { IncomingText, OutgoingText } from '../daemon/line-messages.js';
import { invalidArgs } from './errors.js';
import { stringVariant } from './properties.js';
import { defineMembers, OfonoInterface } from './ofono-interface.js';

type Variant = InstanceType<typeof dbus.Variant>;

export interface MessageManagerModel {
  readonly useDeliveryReports: boolean;
  /** The SMS centre texts to numbers go through (accounts[].sms), or "" where they go as text/plain. */
  readonly serviceCentre: string;
  setUseDeliveryReports(on: boolean): void;
  /** Sends a text message; returns its Message object's path. */
  send(to: string, text: string): string;
  /** The messages pending (waiting for the line, or with the network), as GetMessages lists them. */
  pending(): [string, Record<string, Variant>][];
}

/** A Message object's properties (docs/api/message-api.txt). */
export function messageProperties(m: OutgoingText): Record<string, unknown> {
  return { State: m.state };
}

/** IncomingMessage's info: oFono's Sender, LocalSentTime and SentTime, and the sender's Name. */
export function incomingInfo(m: IncomingText): Record<string, Variant> {
  const sent = formatStartTime(m.sentAt ?? m.receivedAt);
  return {
    Sender: stringVariant(m.lineIdentification),
    Name: stringVariant(m.name),
    LocalSentTime: stringVariant(sent),
    SentTime: stringVariant(sent),
  };
}

/** Why each property other than UseDeliveryReports cannot be set. */
const READ_ONLY: Record<string, string> = {
  ServiceCenterAddress: 'is set in the configuration (accounts[].sms)',
  Bearer: 'is always ps-only: texts go over IP',
  Alphabet: 'is always default: each text is coded as it needs',
};

/** org.ofono.MessageManager on each line's object (docs/api/messagemanager-api.txt). */
export class MessageManagerInterface extends OfonoInterface {
  constructor(
    private readonly model: MessageManagerModel,
    logger: Logger,
  ) {
    super('org.ofono.MessageManager', logger);
  }

  protected properties(): object {
    return {
      ServiceCenterAddress: this.model.serviceCentre,
      UseDeliveryReports: this.model.useDeliveryReports,
      Bearer: 'ps-only',
      // A text goes as UTF-8, or as an SMS in GSM 7-bit or UCS-2 as it needs: no national alphabet to choose.
      Alphabet: 'default',
    };
  }

  async SetProperty(name: string, value: Variant): Promise<void> {
    return this.guard(() => {
      const why = READ_ONLY[name];
      if (why !== undefined) {
        throw new CarphoneError('NOT_SUPPORTED', `${name} ${why}`);
      }
      if (name !== 'UseDeliveryReports') {
        throw invalidArgs(`property ${name} does not exist`);
      }
      if (value.signature !== 'b') {
        throw invalidArgs('UseDeliveryReports takes a boolean');
      }
      this.model.setUseDeliveryReports(value.value as boolean);
    });
  }

  async SendMessage(to: string, text: string): Promise<string> {
    return this.guard(() => this.model.send(to, text));
  }

  GetMessages(): [string, Record<string, Variant>][] {
    return this.guardSync(() => this.model.pending());
  }

  IncomingMessage(message: string, info: Record<string, Variant>): [string, Record<string, Variant>] {
    return [message, info];
  }

  /** An SMS of class 0 ("flash"), relayed over IP: shown at once, as oFono signals it. */
  ImmediateMessage(message: string, info: Record<string, Variant>): [string, Record<string, Variant>] {
    return [message, info];
  }

  MessageAdded(path: string, properties: Record<string, Variant>): [string, Record<string, Variant>] {
    return [path, properties];
  }

  MessageRemoved(path: string): string {
    return path;
  }
}

defineMembers(
  MessageManagerInterface,
  'org.ofono.MessageManager',
  {
    SetProperty: { inSignature: 'sv' },
    SendMessage: { inSignature: 'ss', outSignature: 'o' },
    GetMessages: { outSignature: 'a(oa{sv})' },
  },
  {
    IncomingMessage: 'sa{sv}',
    ImmediateMessage: 'sa{sv}',
    MessageAdded: 'oa{sv}',
    MessageRemoved: 'o',
  },
);

/** org.ofono.Message: one text message the driver sent, until its state is final. */
export class MessageInterface extends OfonoInterface {
  constructor(
    private readonly message: () => OutgoingText,
    private readonly cancel: () => void,
    logger: Logger,
  ) {
    super('org.ofono.Message', logger);
  }

  protected properties(): object {
    return messageProperties(this.message());
  }

  /** As oFono: only a message still queued (AccessDenied once it has gone to the network). */
  async Cancel(): Promise<void> {
    return this.guard(() => this.cancel());
  }
}

defineMembers(MessageInterface, 'org.ofono.Message', { Cancel: {} });
