import { existsSync, readFileSync, rmSync } from 'node:fs';
import { writeFileAtomically } from '../core/atomic-file.js';
import type { CallRecord } from '../calls/manager.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import { isForwardingReason } from '../sip/forwarding.js';
import { entryFor, type NewEntry } from './call-history.js';

/** The DisconnectReason of a call that carphoned stopped in the middle of (crash, power cut, kill). */
export const INTERRUPTED = 'interrupted';

/** How often the talk time of the calls in progress is written down while they last. */
const HEARTBEAT_MS = 10_000;

/**
 * The calls in progress, in a file beside the call log: a call is only logged when it ends, so a
 * daemon that dies mid-call (a crash, a power cut, a watchdog's kill) would lose it from the recents,
 * and with it the driver's way to call back. The file holds each call as its log entry would read if
 * it ended now (talk time so far, on the monotonic clock, rewritten every 10 s); at the next start
 * `takeLeftover` hands what is still in it to the log, ended by the interruption.
 */
export class UnfinishedCalls {
  private readonly calls = new Map<string, { line: string; rec: CallRecord }>();
  private heartbeat: TimerHandle | undefined;

  constructor(
    private readonly path: string,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** The calls a previous run left unfinished, as log entries; the file is removed. */
  static takeLeftover(path: string, logger: Logger): NewEntry[] {
    if (!existsSync(path)) {
      return [];
    }
    let entries: NewEntry[] = [];
    try {
      const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
      entries = Array.isArray(parsed) ? parsed.flatMap(readEntry) : [];
    } catch (e) {
      logger.error(
        { err: errorMessage(e), path },
        'calls in progress at the last stop unreadable; not logged',
      );
    }
    rmSync(path, { force: true });
    return entries;
  }

  /** A call started or changed state. */
  track(line: string, rec: CallRecord): void {
    this.calls.set(`${line}\n${rec.id}`, { line, rec });
    this.write();
  }

  /** A call ended (and went into the log the usual way). */
  finish(line: string, rec: CallRecord): void {
    if (this.calls.delete(`${line}\n${rec.id}`)) {
      this.write();
    }
  }

  close(): void {
    this.clock.clearTimeout(this.heartbeat);
    this.heartbeat = undefined;
  }

  private write(): void {
    this.close();
    const now = this.clock.monotonicMs();
    const entries = [...this.calls.values()].map(({ line, rec }) =>
      entryFor(
        line,
        {
          ...rec,
          ...(rec.answeredAtMonotonicMs !== undefined ? { talkTimeMs: now - rec.answeredAtMonotonicMs } : {}),
        },
        INTERRUPTED,
      ),
    );
    try {
      if (entries.length === 0) {
        rmSync(this.path, { force: true });
        return;
      }
      writeFileAtomically(this.path, JSON.stringify(entries));
    } catch (e) {
      this.logger.error({ err: errorMessage(e), path: this.path }, 'cannot note the calls in progress');
    }
    this.heartbeat = this.clock.setTimeout(() => this.write(), HEARTBEAT_MS);
  }
}

/**
 * One entry of the file, or none where it is not a call. A file written before calls recorded their
 * forwarding has no `forwarded`: such a call was not forwarded.
 */
function readEntry(x: unknown): NewEntry[] {
  if (typeof x !== 'object' || x === null) {
    return [];
  }
  const e = x as Record<string, unknown>;
  const forwarded = e['forwarded'] ?? '';
  const forwardedFrom = e['forwardedFrom'] ?? '';
  const isCall =
    typeof e['line'] === 'string' &&
    ['outgoing', 'incoming', 'missed', 'rejected'].includes(String(e['kind'])) &&
    typeof e['number'] === 'string' &&
    typeof e['name'] === 'string' &&
    typeof e['startedAt'] === 'number' &&
    typeof e['duration'] === 'number' &&
    typeof e['emergency'] === 'boolean' &&
    typeof e['reason'] === 'string' &&
    (forwarded === '' || isForwardingReason(forwarded)) &&
    typeof forwardedFrom === 'string';
  return isCall
    ? [{ ...(e as Omit<NewEntry, 'forwarded' | 'forwardedFrom'>), forwarded, forwardedFrom }]
    : [];
}
