import type { Clock, TimerHandle } from '../core/clock.js';
import { CarphoneError, errorMessage } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import type { WaitingText } from '../history/waiting-texts.js';
import { deliverText, type DeliveryOutcome, type MessageSenderOptions } from '../sip/message-sender.js';
import { readableText, readIncomingText, type ReceivedText, type TextAnswer } from '../sip/text-message.js';
import { Reassembly } from '../sms/concatenation.js';
import {
  readRpAnswer,
  readRpData,
  rpAck,
  rpDataToNetwork,
  rpError,
  RpError,
  RP_CAUSE,
  SMS_CONTENT_TYPE,
  type RpAnswer,
} from '../sms/rp.js';
import { smsSubmit } from '../sms/submit.js';
import { readSmsDeliver, SmsError, type SmsDeliver } from '../sms/tpdu.js';
import type * as sip from 'sip';
import type { UserAgent } from '../sip/user-agent.js';

/** A text message the driver sent, as oFono's Message object shows it. */
/** An outgoing text's state once nothing more happens to it. */
export type FinalTextState = Exclude<OutgoingText['state'], 'pending'>;

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
  /** Sent as SMS over IP instead (TS 24.341): to `destination`, through the centre at `psi`. */
  sms?: { destination: string; serviceCentre: string; psi: string };
}

/** How long the service centre has to answer an SMS part with RP-ACK or RP-ERROR. */
const RP_ANSWER_MS = 60_000;

export interface LineMessagesListener {
  received(message: IncomingText): void;
  added(message: OutgoingText): void;
  finished(message: OutgoingText & { state: FinalTextState }): void;
  /** The texts not yet answered changed: what must be kept if carphoned stops now. */
  unanswered(texts: WaitingText[]): void;
  /** The parts of SMS texts held for the rest changed: kept too, they were acknowledged. */
  smsParts(parts: SmsDeliver[]): void;
}

/**
 * How long a text waits for the network before it fails: 24 hours, the validity period oFono asks of
 * the SMS centre by default. A text about being late is no use a day later.
 */
export const TEXT_VALIDITY_MS = 24 * 3600 * 1000;

interface Unanswered {
  message: OutgoingText;
  prepared: PreparedText;
  /** With the network (a MESSAGE sent), or still queued for want of a registration. */
  sent: boolean;
  expiry: TimerHandle;
}

/**
 * A line's text messages (SIP MESSAGE, RFC 3428): those that arrive through its user agent, and those
 * the driver sends. A text sent while the line is not registered waits, in order, until it is (or until
 * it is cancelled, or expires); one with the network stays pending until the network answers it
 * (service/sip/message-sender.ts). Both kinds are kept across a restart by the listener (unanswered).
 */
export class LineMessages {
  private nextId = 1;
  private readonly texts = new Map<number, Unanswered>();
  private readonly smsParts: Reassembly;
  /** References of the SMS the line sends: TP-MR, RP-MR, and the concatenation reference. */
  private tpReference = 0;
  private rpReference = 0;
  private concatenationReference = 0;
  /** Who waits for the service centre's RP answer, by RP-MR. */
  private readonly rpWaiters = new Map<number, (answer: RpAnswer | undefined) => void>();

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly listener: LineMessagesListener,
  ) {
    this.smsParts = new Reassembly(
      clock,
      (sms, text) =>
        this.listener.received({
          text: readableText(text),
          sender: sms.originator,
          lineIdentification: sms.originator,
          name: '',
          sentAt: sms.sentAt,
          receivedAt: this.clock.now(),
          immediate: sms.immediate,
        }),
      (parts) => this.listener.smsParts(parts),
    );
  }

  /** Parts of SMS texts a previous run acknowledged and held: held again for the rest. */
  restoreSmsParts(parts: SmsDeliver[]): void {
    this.smsParts.restore(parts);
  }

  /** Texts not yet answered: waiting for the line, or with the network; oldest first. */
  get pending(): OutgoingText[] {
    return [...this.texts.values()].map((t) => ({ ...t.message }));
  }

  /**
   * The line is up: its user agent hands it every MESSAGE, and answers with what this returns. An SMS
   * relayed over IP (TS 24.341) is answered at the relay layer too, in a MESSAGE sent through `reply`.
   */
  listen(ua: UserAgent, reply: () => MessageSenderOptions | undefined): void {
    ua.handleMessages((rq) => {
      const type = String(rq.headers['content-type'] ?? '')
        .split(';')[0]
        ?.trim()
        .toLowerCase();
      if (type === SMS_CONTENT_TYPE) {
        return this.takeSms(rq, reply());
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
   * An SMS in RP-DATA (TS 24.341 §5.3.2.4): its text handed on (whole, once every part is in) before
   * RP-ACK goes back to the service centre, which then counts it delivered; one the phone cannot read
   * gets RP-ERROR with the reason, so that the centre does not retry it for ever. The SIP MESSAGE
   * itself is taken (200) either way: it arrived.
   */
  private takeSms(rq: sip.Request, sender: MessageSenderOptions | undefined): TextAnswer {
    const body = Uint8Array.from(Buffer.from(rq.content ?? '', 'latin1'));
    const rpAnswer = readRpAnswer(body);
    if (rpAnswer) {
      // The service centre's answer to an SMS the line sent: taken, and never answered itself.
      this.rpWaiters.get(rpAnswer.reference)?.(rpAnswer);
      return { status: 200, reason: 'OK' };
    }
    let answer: Uint8Array;
    try {
      const rp = readRpData(body);
      try {
        this.smsParts.add(readSmsDeliver(rp.tpdu));
        answer = rpAck(rp.reference);
      } catch (e) {
        if (!(e instanceof SmsError)) {
          throw e;
        }
        this.logger.warn({ err: e.message }, 'SMS not readable: RP-ERROR');
        answer = rpError(rp.reference, RP_CAUSE.semanticallyIncorrect);
      }
    } catch (e) {
      if (!(e instanceof RpError) || e.reference === undefined) {
        return { status: 400, reason: `Bad Request (${e instanceof Error ? e.message : 'no RP-DATA'})` };
      }
      this.logger.warn({ err: e.message }, 'SMS relay message not readable: RP-ERROR');
      answer = rpError(e.reference, e.rpCause);
    }
    this.answerServiceCentre(rq, answer, sender);
    return { status: 200, reason: 'OK' };
  }

  /** The relay answer, to the service centre that sent the SMS (its asserted identity, else its From). */
  private answerServiceCentre(
    rq: sip.Request,
    answer: Uint8Array,
    sender: MessageSenderOptions | undefined,
  ): void {
    const pai = rq.headers['p-asserted-identity'];
    const asserted = /<([^>]+)>/.exec(typeof pai === 'string' ? pai : '')?.[1];
    const to = asserted ?? rq.headers.from?.uri;
    if (!sender || !to) {
      this.logger.warn({ to }, 'SMS relay answer not sent: the line cannot send now');
      return;
    }
    const inReplyTo = rq.headers['call-id'] ?? '';
    deliverText(sender, to, Buffer.from(answer).toString('latin1'), SMS_CONTENT_TYPE, {
      'in-reply-to': inReplyTo,
    })
      .then(({ outcome, reason }) => {
        if (outcome !== 'sent') {
          this.logger.warn({ to, reason }, 'SMS relay answer refused');
        }
      })
      .catch((e: unknown) => this.logger.warn({ err: errorMessage(e) }, 'SMS relay answer not sent'));
  }

  /**
   * A text to send: at once through `sender` where the line can send now, otherwise queued until
   * `sendWaiting`. `at` is when the driver sent it (earlier than now for one a restart brought back).
   */
  submit(
    prepared: PreparedText,
    sender: MessageSenderOptions | undefined,
    at = this.clock.now(),
  ): OutgoingText {
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
    const entry: Unanswered = { message, prepared, sent: false, expiry };
    this.texts.set(message.id, entry);
    this.listener.added({ ...message });
    if (sender) {
      this.send(entry, sender);
    }
    this.saveUnanswered();
    return { ...message };
  }

  /** The line can send now (registered): the queued texts go, oldest first. */
  sendWaiting(sender: MessageSenderOptions): void {
    for (const entry of this.texts.values()) {
      if (!entry.sent) {
        this.send(entry, sender);
      }
    }
  }

  /** oFono's Message.Cancel: only a text still queued; one with the network cannot be called back. */
  cancel(id: number): void {
    const entry = this.texts.get(id);
    if (!entry || entry.sent) {
      throw new CarphoneError('ACCESS_DENIED', 'the message has already gone to the network');
    }
    this.finish(entry, 'cancelled', 'cancelled');
  }

  private send(entry: Unanswered, sender: MessageSenderOptions): void {
    entry.sent = true;
    const { sms, uri, body, text } = entry.prepared;
    (sms ? this.deliverSms(sender, sms, text) : deliverText(sender, uri, body))
      .then(({ outcome, reason }) => this.finish(entry, outcome, reason))
      .catch((e: unknown) => this.finish(entry, 'failed', errorMessage(e)));
  }

  /**
   * A text as SMS over IP (TS 24.341 §5.3.1): each part an SMS-SUBMIT in RP-DATA, in a MESSAGE to the
   * service centre; the next part goes once its RP-ACK came. Sent when every part was acknowledged.
   */
  private async deliverSms(
    sender: MessageSenderOptions,
    sms: NonNullable<PreparedText['sms']>,
    text: string,
  ): Promise<DeliveryOutcome> {
    const tpdus = smsSubmit(sms.destination, text, () => this.tpReference++, this.concatenationReference++);
    for (const tpdu of tpdus) {
      const reference = this.rpReference++ & 0xff;
      const answered = this.rpAnswer(reference);
      const rp = Buffer.from(rpDataToNetwork(reference, sms.serviceCentre, tpdu)).toString('latin1');
      const sent = await deliverText(sender, sms.psi, rp, SMS_CONTENT_TYPE);
      if (sent.outcome !== 'sent') {
        this.rpWaiters.get(reference)?.(undefined);
        return sent;
      }
      const answer = await answered;
      if (!answer) {
        return { outcome: 'failed', reason: 'no RP-ACK from the service centre' };
      }
      if (answer.kind === 'error') {
        return { outcome: 'failed', reason: `RP-ERROR cause ${answer.cause}` };
      }
    }
    return { outcome: 'sent', reason: '' };
  }

  /** The service centre's answer to RP-MR `reference`; none if it does not come within RP_ANSWER_MS. */
  private rpAnswer(reference: number): Promise<RpAnswer | undefined> {
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => done(undefined), RP_ANSWER_MS);
      const done = (answer: RpAnswer | undefined): void => {
        this.clock.clearTimeout(timer);
        this.rpWaiters.delete(reference);
        resolve(answer);
      };
      this.rpWaiters.set(reference, done);
    });
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
    entry.message.state = state;
    entry.message.reason = reason;
    this.logger.info({ message: entry.message.id, state, reason }, 'text message');
    this.saveUnanswered();
    this.listener.finished({ ...entry.message, state });
  }

  private saveUnanswered(): void {
    this.listener.unanswered(
      [...this.texts.values()].map(({ message: m }) => ({ to: m.to, text: m.text, at: m.at })),
    );
  }
}
