import type { Clock, TimerHandle } from '../core/clock.js';
import { CarphoneError, errorMessage } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import type { WaitingText } from '../history/waiting-texts.js';
import { deliverText, type DeliveryOutcome, type MessageSenderOptions } from '../sip/message-sender.js';
import { readableText, readIncomingText, type ReceivedText } from '../sip/text-message.js';
import { SMS_CONTENT_TYPE } from '../sms/rp.js';
import type { TakenSms } from '../sms/duplicates.js';
import {
  partReferences,
  progressOf,
  SmsRelay,
  type SmsProgress,
  type SmsRoute,
  type SmsSubmission,
} from '../sms/relay.js';
import type { AwaitedReports, SmsStatusReport } from '../sms/status-report.js';
import type { SmsDeliver } from '../sms/tpdu.js';
import type { UserAgent } from '../sip/user-agent.js';

/** An outgoing text's state once nothing more happens to it. */
export type FinalTextState = Exclude<OutgoingText['state'], 'pending'>;

/** A text message the driver sent, as oFono's Message object shows it. */
export interface OutgoingText {
  /** Counts up per line from 1: the Message object's path ends with it. */
  id: number;
  /** The number or SIP user as the driver gave it. */
  to: string;
  text: string;
  /** When the driver sent it, ms since the epoch. */
  at: number;
  /** oFono's states: "pending" while queued or with the network. */
  state: 'pending' | 'sent' | 'failed' | 'cancelled';
  /** Why it failed (the network's final response, that none came, or that it expired); empty otherwise. */
  reason: string;
  /** Sent as SMS asking for status reports: the parts whose report is awaited. */
  reports?: AwaitedReports;
}

/** A text message from the network, with when it arrived. */
export interface IncomingText extends ReceivedText {
  receivedAt: number;
  /** An SMS of class 0 ("flash"): oFono's ImmediateMessage. */
  immediate: boolean;
}

/** A text ready to go: where (the URI the line's domain makes of `to`) and its body on the wire. */
export interface PreparedText {
  to: string;
  uri: string;
  text: string;
  body: string;
  /** Sent as SMS over IP instead (TS 24.341). */
  sms?: SmsRoute;
}

export interface LineMessagesListener {
  received(message: IncomingText): void;
  added(message: OutgoingText): void;
  finished(message: OutgoingText & { state: FinalTextState }): void;
  /** The texts not yet answered changed: what must be kept if carphoned stops now. */
  unanswered(texts: WaitingText[]): void;
  /** The parts of SMS texts held for the rest changed: kept too, they were acknowledged. */
  smsParts(parts: SmsDeliver[]): void;
  /** The SMS centre's report on a part of a text sent earlier (OutgoingText.reports). */
  statusReport(report: SmsStatusReport): void;
  /** The SMS taken lately changed: kept too, so that a copy after a restart is not shown again. */
  smsTaken(taken: TakenSms[]): void;
}

/**
 * How long a text waits for the network before it fails: 24 hours, the validity period oFono asks of
 * the SMS centre by default. A text about being late is no use a day later.
 */
export const TEXT_VALIDITY_MS = 24 * 3600 * 1000;

/**
 * A text whose sending failed in a way that passes (no answer, the network overloaded; see
 * DeliveryOutcome.retryable) goes again, up to SEND_ATTEMPTS times in all while the line stays
 * registered, waiting RETRY_STEP_MS longer after each failure (5, 10, 15 s): oFono's numbers for its
 * SMS queue. A failure because the line went down is not counted: the text waits for the line again.
 */
export const SEND_ATTEMPTS = 4;
export const RETRY_STEP_MS = 5_000;

interface Unanswered {
  message: OutgoingText;
  prepared: PreparedText;
  /** With the network now; otherwise queued for the line, or waiting to be sent again. */
  sent: boolean;
  /** Failures that passed, counted while the line could send. */
  failures: number;
  expiry: TimerHandle;
  /** The wait before it is sent again, after a failure that passes. */
  retry?: TimerHandle;
  /** Its SMS parts, once first sent as SMS: kept so that a part sent again keeps its reference. */
  sms?: SmsSubmission;
}

/**
 * A line's text messages (SIP MESSAGE, RFC 3428, or SMS over IP): those that arrive through its user
 * agent, and those the driver sends. A text sent while the line cannot send (`sender` gives none: it
 * is not registered) waits, in order, until it can (or until it is cancelled, or expires); one with the
 * network stays pending until the network answers it, and is sent again after a failure that passes.
 * Both kinds are kept across a restart by the listener (unanswered).
 */
export class LineMessages {
  private nextId = 1;
  private readonly texts = new Map<number, Unanswered>();
  private readonly smsRelay: SmsRelay;

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** How texts go out now; none while the line cannot send. */
    private readonly sender: () => MessageSenderOptions | undefined,
    private readonly listener: LineMessagesListener,
  ) {
    this.smsRelay = new SmsRelay(clock, logger, {
      received: (sms, text) =>
        this.listener.received({
          text: readableText(text),
          sender: sms.originator,
          lineIdentification: sms.originator,
          name: '',
          sentAt: sms.sentAt,
          receivedAt: this.clock.now(),
          immediate: sms.immediate,
        }),
      heldParts: (parts) => this.listener.smsParts(parts),
      statusReport: (report) => this.listener.statusReport(report),
      taken: (taken) => this.listener.smsTaken(taken),
    });
  }

  /** What a previous run's SMS relay left: parts held for the rest, and the SMS it took lately. */
  restoreSms(parts: SmsDeliver[], taken: readonly TakenSms[]): void {
    this.smsRelay.restore(parts, taken);
  }

  /** Texts not yet answered: waiting for the line, or with the network; oldest first. */
  get pending(): OutgoingText[] {
    return [...this.texts.values()].map((t) => ({ ...t.message }));
  }

  /**
   * The line is up: its user agent hands it every MESSAGE, and answers with what this returns. An SMS
   * relayed over IP is answered at the relay layer too (service/sms/relay.ts).
   */
  listen(ua: UserAgent): void {
    ua.handleMessages((rq) => {
      const type = String(rq.headers['content-type'] ?? '')
        .split(';')[0]
        ?.trim()
        .toLowerCase();
      if (type === SMS_CONTENT_TYPE) {
        return this.smsRelay.take(rq, this.sender());
      }
      const read = readIncomingText(rq);
      if ('status' in read) {
        this.logger.info({ status: read.status, reason: read.reason }, 'text message refused');
        return read;
      }
      this.listener.received({ ...read, receivedAt: this.clock.now(), immediate: false });
      return { status: 200, reason: 'OK' };
    });
  }

  /**
   * A text to send: at once where the line can send now, otherwise queued until `sendWaiting`. `at`
   * is when the driver sent it; earlier than now for one a restart brought back, which may come with
   * how far it had got as SMS (`smsProgress`).
   */
  submit(prepared: PreparedText, at = this.clock.now(), smsProgress?: SmsProgress): OutgoingText {
    const message: OutgoingText = {
      id: this.nextId++,
      to: prepared.to,
      text: prepared.text,
      at,
      state: 'pending',
      reason: '',
    };
    // Clamped: `at` is wall time from another run, and a head unit's wall clock jumps at boot.
    const left = Math.min(TEXT_VALIDITY_MS, Math.max(0, at + TEXT_VALIDITY_MS - this.clock.now()));
    const expiry = this.clock.setTimeout(() => this.expire(message.id), left);
    const entry: Unanswered = { message, prepared, sent: false, failures: 0, expiry };
    if (prepared.sms && smsProgress) {
      entry.sms = this.smsRelay.resume(prepared.sms, smsProgress);
    }
    this.texts.set(message.id, entry);
    this.listener.added({ ...message });
    // Kept before it goes, so that a stop right after sending it still finds it.
    this.saveUnanswered();
    this.send(entry);
    return { ...message };
  }

  /** The line can send now (registered): the texts not with the network go, oldest first. */
  sendWaiting(): void {
    for (const entry of this.texts.values()) {
      this.send(entry);
    }
  }

  /**
   * oFono's Message.Cancel: only a text not with the network, of which the network has taken nothing
   * (no SMS part acknowledged); one with the network cannot be called back.
   */
  cancel(id: number): void {
    const entry = this.texts.get(id);
    if (!entry || entry.sent || (entry.sms?.acknowledged ?? 0) > 0) {
      throw new CarphoneError('ACCESS_DENIED', 'the message has already gone to the network');
    }
    this.finish(entry, 'cancelled', 'cancelled');
  }

  /** Sends `entry` if it is not with the network already and the line can send now. */
  private send(entry: Unanswered): void {
    const sender = entry.sent ? undefined : this.sender();
    if (!sender) {
      return;
    }
    entry.sent = true;
    this.clock.clearTimeout(entry.retry);
    delete entry.retry;
    this.deliver(entry, sender)
      .then((result) => this.settle(entry, result))
      .catch((e: unknown) => this.finish(entry, 'failed', errorMessage(e)));
  }

  private deliver(entry: Unanswered, sender: MessageSenderOptions): Promise<DeliveryOutcome> {
    const { sms, uri, body, text } = entry.prepared;
    if (!sms) {
      return deliverText(sender, uri, body);
    }
    if (!entry.sms) {
      entry.sms = this.smsRelay.prepare(sms, text);
      // Kept before its first part goes: a restart sends that part again with the same TP-MR.
      this.saveUnanswered();
    }
    return this.smsRelay.send(sender, entry.sms, () => this.saveUnanswered());
  }

  /** The network's answer: sent, failed for good, or failed in a way that passes and so tried again. */
  private settle(entry: Unanswered, result: DeliveryOutcome): void {
    if (result.outcome === 'sent' || !result.retryable) {
      this.finish(entry, result.outcome, result.reason);
      return;
    }
    if (!this.texts.has(entry.message.id)) {
      return;
    }
    entry.sent = false;
    if (!this.sender()) {
      this.logger.info({ message: entry.message.id, reason: result.reason }, 'text waits for the line');
      return;
    }
    entry.failures += 1;
    if (entry.failures >= SEND_ATTEMPTS) {
      this.finish(entry, 'failed', result.reason);
      return;
    }
    const wait = entry.failures * RETRY_STEP_MS;
    this.logger.info({ message: entry.message.id, reason: result.reason, wait }, 'text sent again soon');
    entry.retry = this.clock.setTimeout(() => {
      delete entry.retry;
      this.send(entry);
    }, wait);
  }

  private expire(id: number): void {
    const entry = this.texts.get(id);
    if (entry && !entry.sent) {
      this.finish(entry, 'failed', 'not sent within 24 h: no network');
    }
  }

  private finish(entry: Unanswered, state: FinalTextState, reason: string): void {
    if (!this.texts.delete(entry.message.id)) {
      return;
    }
    this.clock.clearTimeout(entry.expiry);
    this.clock.clearTimeout(entry.retry);
    entry.message.state = state;
    entry.message.reason = reason;
    if (state === 'sent' && entry.sms?.route.statusReport) {
      entry.message.reports = {
        recipient: entry.sms.route.destination,
        references: partReferences(entry.sms),
      };
    }
    this.logger.info({ message: entry.message.id, state, reason }, 'text message');
    this.saveUnanswered();
    this.listener.finished({ ...entry.message, state });
  }

  private saveUnanswered(): void {
    this.listener.unanswered(
      [...this.texts.values()].map(({ message: m, sms }) => ({
        to: m.to,
        text: m.text,
        at: m.at,
        ...(sms ? { sms: progressOf(sms) } : {}),
      })),
    );
  }
}
