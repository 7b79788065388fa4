import { existsSync, readFileSync, renameSync } from 'node:fs';
import { writeFileAtomically } from '../core/atomic-file.js';
import initSqlJs, { type Database } from 'sql.js';
import { z } from 'zod';
import type { Logger } from '../log/logger.js';
import { errorMessage } from '../core/errors.js';
import type { AwaitedReports } from '../sms/status-report.js';
import { FORWARDING_REASONS, isForwardingReason, type ForwardingReason } from '../sip/forwarding.js';

/**
 * The persistent call log the HMI's recents screen reads: one row per call, in SQLite. sql.js (SQLite
 * compiled to WebAssembly) is used rather than a native binding so that nothing is compiled at install
 * time; the database file is rewritten after every call (core/atomic-file.ts), so a crash or a power
 * cut leaves the old log or the new one, never a torn file.
 */
export type HistoryKind = 'outgoing' | 'incoming' | 'missed' | 'rejected';

export interface HistoryEntry {
  id: number;
  line: string;
  kind: HistoryKind;
  number: string;
  name: string;
  /** When the call was placed or started ringing, ms since the epoch. */
  startedAt: number;
  /** Seconds between answer and end; 0 for calls never answered. */
  duration: number;
  emergency: boolean;
  reason: string;
  /** Why the network forwarded the call ('' where it did not): VoiceCall's Forwarded. */
  forwarded: ForwardingReason | '';
  /** The number the caller called, which forwarded the call here: VoiceCall's ForwardedFrom. */
  forwardedFrom: string;
}

export type NewEntry = Omit<HistoryEntry, 'id'>;

/** A text message received, or one sent that reached its final state (sent, failed, cancelled). */
export interface MessageEntry {
  id: number;
  line: string;
  direction: 'incoming' | 'outgoing';
  /** The sender's or recipient's number or SIP user. */
  number: string;
  /** The sender's display name (incoming only). */
  name: string;
  text: string;
  /** When it arrived, or was sent; ms since the epoch. */
  at: number;
  state: 'received' | 'sent' | 'failed' | 'cancelled';
  /** Why a sent message failed; empty otherwise. */
  reason: string;
  /**
   * Whether a text sent reached the recipient's phone, from the SMS centre's status reports: empty
   * where none was asked for (a SIP MESSAGE, UseDeliveryReports off, not sent).
   */
  delivery: '' | 'waiting' | 'delivered' | 'failed';
  /** A text received that nobody has marked read yet (MarkRead). */
  unread: boolean;
}

export type NewMessageEntry = Omit<MessageEntry, 'id' | 'delivery' | 'unread'> & {
  /** A text sent as SMS that asked for status reports: what they are awaited for. */
  reports?: AwaitedReports;
};

/**
 * 1: calls, favourites, messages. 2: messages.delivery, messages.awaited_reports (a JSON
 * AwaitedReports, empty once nothing is awaited) and messages.unread, added to a file of version 1 when
 * it is opened (its texts count as read). 3: calls.forwarded, calls.forwarded_from and calls.unseen,
 * added to an older file when it is opened (its calls count as not forwarded, and seen).
 */
const SCHEMA_VERSION = 3;

/** What the driver has not looked at yet: a flag column, 1 until an HMI showed the row. */
interface NewFlag {
  table: 'calls' | 'messages';
  column: 'unseen' | 'unread';
}
const NEW_CALLS: NewFlag = { table: 'calls', column: 'unseen' };
const NEW_TEXTS: NewFlag = { table: 'messages', column: 'unread' };
const MAX_ENTRIES = 1000;

export class CallHistory {
  private constructor(
    private readonly db: Database,
    private readonly path: string | undefined,
    private readonly logger: Logger,
  ) {}

  /** Opens (or creates) the log at `path`; an unreadable file is kept aside and a new log started. */
  static async open(path: string | undefined, logger: Logger): Promise<CallHistory> {
    const SQL = await initSqlJs();
    let db: Database;
    if (path && existsSync(path)) {
      try {
        db = new SQL.Database(readFileSync(path));
        db.exec('SELECT count(*) FROM calls');
      } catch (e) {
        const aside = `${path}.corrupt-${Date.now()}`;
        logger.error(
          { err: errorMessage(e), path, aside },
          'call history unreadable: kept aside, starting a new one',
        );
        renameSync(path, aside);
        db = new SQL.Database();
      }
    } else {
      db = new SQL.Database();
    }
    db.exec(`CREATE TABLE IF NOT EXISTS calls (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      line TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('outgoing', 'incoming', 'missed', 'rejected')),
      number TEXT NOT NULL,
      name TEXT NOT NULL,
      started_at INTEGER NOT NULL,
      duration INTEGER NOT NULL,
      emergency INTEGER NOT NULL,
      reason TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS favourites (contact_id TEXT PRIMARY KEY);
    CREATE TABLE IF NOT EXISTS messages (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      line TEXT NOT NULL,
      direction TEXT NOT NULL CHECK (direction IN ('incoming', 'outgoing')),
      number TEXT NOT NULL,
      name TEXT NOT NULL,
      text TEXT NOT NULL,
      at INTEGER NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('received', 'sent', 'failed', 'cancelled')),
      reason TEXT NOT NULL
    );`);
    const columnsOf = (table: string): Set<string> =>
      new Set((db.exec(`PRAGMA table_info(${table})`)[0]?.values ?? []).map((row) => String(row[1])));
    const callColumns = columnsOf('calls');
    if (!callColumns.has('forwarded')) {
      const reasons = FORWARDING_REASONS.map((r) => `'${r}'`).join(', ');
      db.exec(`ALTER TABLE calls ADD COLUMN forwarded TEXT NOT NULL DEFAULT ''
        CHECK (forwarded IN ('', ${reasons}))`);
    }
    if (!callColumns.has('forwarded_from')) {
      db.exec(`ALTER TABLE calls ADD COLUMN forwarded_from TEXT NOT NULL DEFAULT ''`);
    }
    if (!callColumns.has('unseen')) {
      db.exec(`ALTER TABLE calls ADD COLUMN unseen INTEGER NOT NULL DEFAULT 0`);
    }
    const columns = columnsOf('messages');
    if (!columns.has('delivery')) {
      db.exec(`ALTER TABLE messages ADD COLUMN delivery TEXT NOT NULL DEFAULT ''
        CHECK (delivery IN ('', 'waiting', 'delivered', 'failed'))`);
    }
    if (!columns.has('awaited_reports')) {
      db.exec(`ALTER TABLE messages ADD COLUMN awaited_reports TEXT NOT NULL DEFAULT ''`);
    }
    if (!columns.has('unread')) {
      db.exec(`ALTER TABLE messages ADD COLUMN unread INTEGER NOT NULL DEFAULT 0`);
    }
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION};`);
    return new CallHistory(db, path, logger);
  }

  add(entry: NewEntry): HistoryEntry {
    const e = { ...entry, duration: Math.max(0, Math.round(entry.duration)) };
    this.db.run(
      'INSERT INTO calls (line, kind, number, name, started_at, duration, emergency, reason, forwarded, forwarded_from, unseen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        e.line,
        e.kind,
        e.number,
        e.name,
        e.startedAt,
        e.duration,
        e.emergency ? 1 : 0,
        e.reason,
        e.forwarded,
        e.forwardedFrom,
        e.kind === 'missed' ? 1 : 0,
      ],
    );
    const id = Number(this.db.exec('SELECT last_insert_rowid()')[0]?.values[0]?.[0] ?? 0);
    this.db.run('DELETE FROM calls WHERE id <= (SELECT max(id) FROM calls) - ?', [MAX_ENTRIES]);
    this.save();
    return { id, ...e };
  }

  /** Newest first. */
  recent(limit: number): HistoryEntry[] {
    const rows = this.db.exec(
      'SELECT id, line, kind, number, name, started_at, duration, emergency, reason, forwarded, forwarded_from FROM calls ORDER BY id DESC LIMIT ?',
      [Math.max(0, Math.min(limit, MAX_ENTRIES))],
    )[0];
    return (rows?.values ?? []).map(
      ([id, line, kind, number, name, startedAt, duration, emergency, reason, forwarded, forwardedFrom]) => ({
        id: Number(id),
        line: String(line),
        kind: String(kind) as HistoryKind,
        number: String(number),
        name: String(name),
        startedAt: Number(startedAt),
        duration: Number(duration),
        emergency: Number(emergency) === 1,
        reason: String(reason),
        forwarded: isForwardingReason(forwarded) ? forwarded : '',
        forwardedFrom: String(forwardedFrom),
      }),
    );
  }

  /** Missed calls nobody has marked seen yet (MarkSeen): the driver has not looked at Recents since. */
  unseenMissedCalls(): number {
    return this.countNew(NEW_CALLS);
  }

  /** Marks every missed call seen; says whether any was unseen. */
  markCallsSeen(): boolean {
    return this.clearNew(NEW_CALLS);
  }

  /** Records a text message; the newest MAX_ENTRIES are kept, as calls are. */
  addMessage(e: NewMessageEntry): MessageEntry {
    const { reports, ...entry } = e;
    const delivery = reports ? 'waiting' : '';
    const unread = e.direction === 'incoming';
    this.db.run(
      'INSERT INTO messages (line, direction, number, name, text, at, state, reason, delivery, awaited_reports, unread) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        e.line,
        e.direction,
        e.number,
        e.name,
        e.text,
        e.at,
        e.state,
        e.reason,
        delivery,
        reports ? JSON.stringify(reports) : '',
        unread ? 1 : 0,
      ],
    );
    const id = Number(this.db.exec('SELECT last_insert_rowid()')[0]?.values[0]?.[0] ?? 0);
    this.db.run('DELETE FROM messages WHERE id <= (SELECT max(id) FROM messages) - ?', [MAX_ENTRIES]);
    this.save();
    return { id, ...entry, delivery, unread };
  }

  /** Text messages, newest first. */
  recentMessages(limit: number): MessageEntry[] {
    return this.selectMessages('ORDER BY id DESC LIMIT ?', [Math.max(0, Math.min(limit, MAX_ENTRIES))]).map(
      (row) => row.entry,
    );
  }

  /**
   * Applies the SMS centre's status report to the newest text of `line` that awaits it (`take` says
   * whether it does, and what it makes of it), and returns that text as it is now; none where no text
   * awaits it. Kept in the file, so a report that comes after a restart still finds its text.
   */
  takeStatusReport(
    line: string,
    take: (
      awaited: AwaitedReports,
    ) => { delivery: MessageEntry['delivery']; awaited: AwaitedReports } | undefined,
  ): MessageEntry | undefined {
    const waiting = this.selectMessages("WHERE line = ? AND delivery = 'waiting' ORDER BY id DESC", [line]);
    for (const { entry, awaited } of waiting) {
      const taken = awaited && take(awaited);
      if (!taken) {
        continue;
      }
      const still = taken.delivery === 'waiting' ? JSON.stringify(taken.awaited) : '';
      this.db.run('UPDATE messages SET delivery = ?, awaited_reports = ? WHERE id = ?', [
        taken.delivery,
        still,
        entry.id,
      ]);
      this.save();
      return { ...entry, delivery: taken.delivery };
    }
    return undefined;
  }

  private selectMessages(
    clause: string,
    params: (string | number)[],
  ): { entry: MessageEntry; awaited: AwaitedReports | undefined }[] {
    const rows = this.db.exec(
      `SELECT id, line, direction, number, name, text, at, state, reason, delivery, awaited_reports, unread FROM messages ${clause}`,
      params,
    )[0];
    return (rows?.values ?? []).map(
      ([id, line, direction, number, name, text, at, state, reason, delivery, awaited, unread]) => ({
        entry: {
          id: Number(id),
          line: String(line),
          direction: String(direction) as MessageEntry['direction'],
          number: String(number),
          name: String(name),
          text: String(text),
          at: Number(at),
          state: String(state) as MessageEntry['state'],
          reason: String(reason),
          delivery: String(delivery) as MessageEntry['delivery'],
          unread: Number(unread) === 1,
        },
        awaited: readAwaited(String(awaited)),
      }),
    );
  }

  clearMessages(): void {
    this.db.run('DELETE FROM messages');
    this.save();
  }

  /** Texts received and not yet marked read. */
  unreadMessages(): number {
    return this.countNew(NEW_TEXTS);
  }

  /** Marks every text read; says whether any was unread. */
  markMessagesRead(): boolean {
    return this.clearNew(NEW_TEXTS);
  }

  private countNew(which: NewFlag): number {
    return Number(
      this.db.exec(`SELECT count(*) FROM ${which.table} WHERE ${which.column} = 1`)[0]?.values[0]?.[0] ?? 0,
    );
  }

  /** Clears the flag on every row; says whether any had it. */
  private clearNew(which: NewFlag): boolean {
    if (this.countNew(which) === 0) {
      return false;
    }
    this.db.run(`UPDATE ${which.table} SET ${which.column} = 0 WHERE ${which.column} = 1`);
    this.save();
    return true;
  }

  /** Contact ids the driver marked as favourites (kept in the same file as the log). */
  favourites(): Set<string> {
    const rows = this.db.exec('SELECT contact_id FROM favourites')[0];
    return new Set((rows?.values ?? []).map(([id]) => String(id)));
  }

  setFavourite(contactId: string, on: boolean): void {
    this.db.run(
      on ? 'INSERT OR IGNORE INTO favourites VALUES (?)' : 'DELETE FROM favourites WHERE contact_id = ?',
      [contactId],
    );
    this.save();
  }

  clear(): void {
    this.db.run('DELETE FROM calls');
    this.save();
  }

  private save(): void {
    if (!this.path) {
      return;
    }
    try {
      writeFileAtomically(this.path, this.db.export());
    } catch (e) {
      this.logger.error({ err: errorMessage(e), path: this.path }, 'cannot write the call history');
    }
  }
}

/** What the log records about a call that just ended. */
export function entryFor(
  line: string,
  call: {
    direction: 'incoming' | 'outgoing';
    createdAtMs: number;
    talkTimeMs?: number;
    props: {
      LineIdentification: string;
      Name: string;
      Emergency: boolean;
      Forwarded: ForwardingReason | '';
      ForwardedFrom: string;
    };
  },
  reason: string,
): NewEntry {
  const answered = call.talkTimeMs !== undefined;
  const kind: HistoryKind =
    call.direction === 'outgoing'
      ? 'outgoing'
      : answered
        ? 'incoming'
        : reason === 'local'
          ? 'rejected'
          : 'missed';
  return {
    line,
    kind,
    number: call.props.LineIdentification,
    name: call.props.Name,
    startedAt: call.createdAtMs,
    duration: (call.talkTimeMs ?? 0) / 1000,
    emergency: call.props.Emergency,
    reason,
    forwarded: call.props.Forwarded,
    forwardedFrom: call.props.ForwardedFrom,
  };
}

const awaitedReports = z.object({ recipient: z.string(), references: z.array(z.number().int()) });

/** The reports a text awaits, as the file keeps them; none for an empty or unreadable column. */
function readAwaited(json: string): AwaitedReports | undefined {
  try {
    return json ? awaitedReports.parse(JSON.parse(json)) : undefined;
  } catch {
    // An unreadable column awaits nothing: the text stays as it is.
    return undefined;
  }
}
