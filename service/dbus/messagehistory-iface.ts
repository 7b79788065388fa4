import dbus from 'dbus-next';
import type { Logger } from '../log/logger.js';
import { formatStartTime } from '../calls/manager.js';
import type { CallHistory, MessageEntry } from '../history/call-history.js';
import { checkedLimit } from './callhistory-iface.js';
import { stringVariant } from './properties.js';
import { defineMembers, OfonoInterface } from './ofono-interface.js';
import type { QuickReplies } from '../sms/quick-replies.js';

type Variant = InstanceType<typeof dbus.Variant>;

export function messageEntryDict(e: MessageEntry): Record<string, Variant> {
  return {
    Id: new dbus.Variant('u', e.id),
    Line: stringVariant(e.line),
    Direction: stringVariant(e.direction),
    LineIdentification: stringVariant(e.number),
    Name: stringVariant(e.name),
    Text: stringVariant(e.text),
    Time: stringVariant(formatStartTime(e.at)),
    State: stringVariant(e.state),
    FailureReason: stringVariant(e.reason),
    Delivery: stringVariant(e.delivery),
    Unread: new dbus.Variant('b', e.unread),
  };
}

/**
 * org.carphone.MessageHistory at /history: the text messages received and sent, kept in the call
 * log's file (docs/api/messagehistory-api.txt).
 */
export class MessageHistoryInterface extends OfonoInterface {
  constructor(
    private readonly history: CallHistory,
    private readonly quickReplies: QuickReplies,
    logger: Logger,
  ) {
    super('org.carphone.MessageHistory', logger);
  }

  protected properties(): object {
    return { UnreadCount: this.history.unreadMessages(), QuickReplies: this.quickReplies };
  }

  /** Marks every text read: the HMI's Messages screen was looked at. */
  MarkRead(): void {
    this.guardSync(() => {
      if (this.history.markMessagesRead()) {
        this.emitChanged('UnreadCount', 0);
      }
    });
  }

  /** The count moved (a text received): told to clients as PropertyChanged. */
  unreadChanged(): void {
    this.emitChanged('UnreadCount', this.history.unreadMessages());
  }

  GetRecent(limit: number): Record<string, Variant>[] {
    return this.guardSync(() => {
      return this.history.recentMessages(checkedLimit(limit)).map(messageEntryDict);
    });
  }

  Clear(): void {
    this.guardSync(() => {
      const hadUnread = this.history.unreadMessages() > 0;
      this.history.clearMessages();
      if (hadUnread) {
        this.emitChanged('UnreadCount', 0);
      }
    });
  }

  EntryAdded(entry: Record<string, Variant>): Record<string, Variant> {
    return entry;
  }

  EntryChanged(entry: Record<string, Variant>): Record<string, Variant> {
    return entry;
  }
}

defineMembers(
  MessageHistoryInterface,
  'org.carphone.MessageHistory',
  { GetRecent: { inSignature: 'u', outSignature: 'aa{sv}' }, Clear: {}, MarkRead: {} },
  { EntryAdded: 'a{sv}', EntryChanged: 'a{sv}' },
);
