import dbus from 'dbus-next';
import type { Logger } from '../log/logger.js';
import { formatStartTime } from '../calls/manager.js';
import type { CallHistory, HistoryEntry } from '../history/call-history.js';
import { invalidArgs } from './errors.js';
import { stringVariant } from './properties.js';
import { defineMembers, OfonoInterface } from './ofono-interface.js';

type Variant = InstanceType<typeof dbus.Variant>;

export function entryDict(e: HistoryEntry): Record<string, Variant> {
  return {
    Id: new dbus.Variant('u', e.id),
    Line: stringVariant(e.line),
    Kind: stringVariant(e.kind),
    LineIdentification: stringVariant(e.number),
    Name: stringVariant(e.name),
    StartTime: stringVariant(formatStartTime(e.startedAt)),
    Duration: new dbus.Variant('u', e.duration),
    Emergency: new dbus.Variant('b', e.emergency),
    DisconnectReason: stringVariant(e.reason),
    Forwarded: stringVariant(e.forwarded),
    ForwardedFrom: stringVariant(e.forwardedFrom),
  };
}

/** GetRecent's limit, for calls and for text messages: 1-1000. */
export function checkedLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw invalidArgs('limit must be 1-1000');
  }
  return limit;
}

/** org.carphone.CallHistory at /history: the persistent call log (docs/api/callhistory-api.txt). */
export class CallHistoryInterface extends OfonoInterface {
  constructor(
    private readonly history: CallHistory,
    logger: Logger,
  ) {
    super('org.carphone.CallHistory', logger);
  }

  protected properties(): object {
    return { MissedCount: this.history.unseenMissedCalls() };
  }

  /** Marks every missed call seen: the HMI's Recents screen was looked at. */
  MarkSeen(): void {
    this.guardSync(() => {
      if (this.history.markCallsSeen()) {
        this.emitChanged('MissedCount', 0);
      }
    });
  }

  /** A missed call was logged: told to clients as PropertyChanged. */
  missedChanged(): void {
    this.emitChanged('MissedCount', this.history.unseenMissedCalls());
  }

  GetRecent(limit: number): Record<string, Variant>[] {
    return this.guardSync(() => {
      return this.history.recent(checkedLimit(limit)).map(entryDict);
    });
  }

  Clear(): void {
    this.guardSync(() => {
      const hadMissed = this.history.unseenMissedCalls() > 0;
      this.history.clear();
      if (hadMissed) {
        this.emitChanged('MissedCount', 0);
      }
    });
  }

  EntryAdded(entry: Record<string, Variant>): Record<string, Variant> {
    return entry;
  }
}

defineMembers(
  CallHistoryInterface,
  'org.carphone.CallHistory',
  { GetRecent: { inSignature: 'u', outSignature: 'aa{sv}' }, Clear: {}, MarkSeen: {} },
  { EntryAdded: 'a{sv}' },
);
