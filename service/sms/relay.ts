import type * as sip from 'sip';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import { deliverText, type DeliveryOutcome, type MessageSenderOptions } from '../sip/message-sender.js';
import type { TextAnswer } from '../sip/text-message.js';
import { Reassembly } from './concatenation.js';
import { RecentDeliveries, type TakenSms } from './duplicates.js';
import {
  PASSING_RP_CAUSES,
  readRpAnswer,
  readRpData,
  rpAck,
  rpDataToNetwork,
  rpError,
  RpError,
  RP_CAUSE,
  SMS_CONTENT_TYPE,
  type RpAnswer,
} from './rp.js';
import { repeatedSubmit, smsSubmit } from './submit.js';
import { readSmsStatusReport, STATUS_REPORT_MTI, type SmsStatusReport } from './status-report.js';
import { readSmsDeliver, SmsError, type SmsDeliver } from './tpdu.js';

/** Where a text goes as SMS over IP (TS 24.341): to `destination`, through the centre at `psi`. */
export interface SmsRoute {
  destination: string;
  /** The service centre's number (RP-Destination Address). */
  serviceCentre: string;
  /** The SIP URI the service centre is reached at. */
  psi: string;
  /** Ask the centre for an SMS-STATUS-REPORT on each part (TP-SRR): oFono's UseDeliveryReports. */
  statusReport: boolean;
}

/** One text on its way as SMS: its parts are built once, so that a part sent again keeps its TP-MR. */
export interface SmsSubmission {
  readonly route: SmsRoute;
  readonly tpdus: readonly Uint8Array[];
  /** Parts the service centre acknowledged (RP-ACK): never sent again. */
  acknowledged: number;
  /** The next part went out before and no RP-ACK came for it: it goes again with TP-RD set. */
  repeat: boolean;
}

/** How far a text sent as SMS got: its parts as first built, and how many the centre acknowledged. */
export interface SmsProgress {
  /** Each part's SMS-SUBMIT, hex: a part sent again after a restart keeps its TP-MR. */
  parts: string[];
  acknowledged: number;
}

export interface SmsRelayListener {
  /** A whole text arrived: every part in, or the wait for the rest over. */
  received(first: SmsDeliver, text: string): void;
  /** The parts held for the rest changed: kept across a restart too, they were acknowledged. */
  heldParts(parts: SmsDeliver[]): void;
  /** The centre's report on an SMS the phone sent (acknowledged after this returns). */
  statusReport(report: SmsStatusReport): void;
  /** The SMS taken lately changed: kept across a restart too, so that a copy is not taken again. */
  taken(taken: TakenSms[]): void;
}

/** How far `submission` got, as a restart finds it. */
export function progressOf(submission: SmsSubmission): SmsProgress {
  return {
    parts: submission.tpdus.map((tpdu) => Buffer.from(tpdu).toString('hex')),
    acknowledged: submission.acknowledged,
  };
}

/** The TP-MR of each part: what the centre's status reports name them by. */
export function partReferences(submission: SmsSubmission): number[] {
  return submission.tpdus.map((tpdu) => tpdu[1] ?? 0);
}

/** How long the service centre has to answer an SMS part with RP-ACK or RP-ERROR. */
const RP_ANSWER_MS = 60_000;

const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

/**
 * A line's end of the SMS relay over IP (TS 24.341): SMS from the service centre, in RP-DATA, are
 * answered with RP-ACK or RP-ERROR and handed on whole; texts the line sends go part by part as
 * SMS-SUBMIT in RP-DATA, each after the centre acknowledged the one before.
 */
export class SmsRelay {
  private readonly reassembly: Reassembly;
  private readonly recent: RecentDeliveries;
  /** References of the SMS the line sends: TP-MR, RP-MR, and the concatenation reference. */
  private tpReference = 0;
  private rpReference = 0;
  private concatenationReference = 0;
  /** Who waits for the service centre's RP answer, by RP-MR. */
  private readonly rpWaiters = new Map<number, (answer: RpAnswer | undefined) => void>();

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly listener: SmsRelayListener,
  ) {
    this.recent = new RecentDeliveries(clock, (taken) => listener.taken(taken));
    this.reassembly = new Reassembly(
      clock,
      (first, text) => listener.received(first, text),
      (parts) => listener.heldParts(parts),
    );
  }

  /**
   * What a previous run left: the parts of texts it acknowledged and held, held again for the rest;
   * the SMS it took lately, remembered again.
   */
  restore(parts: SmsDeliver[], taken: readonly TakenSms[]): void {
    this.reassembly.restore(parts);
    this.recent.restore(taken);
  }

  /**
   * A MESSAGE carrying an RP message. RP-DATA (TS 24.341 §5.3.2.4): its SMS-DELIVER is handed on (its
   * text whole, once every part is in), or its SMS-STATUS-REPORT, before RP-ACK goes back to the
   * service centre, which then counts it delivered; one the phone cannot read gets RP-ERROR with the
   * reason, so that the centre does not retry it for ever. One the centre sends again (our RP-ACK lost)
   * is acknowledged again and not taken twice (duplicates.ts). RP-ACK or RP-ERROR: the centre's answer
   * to an SMS the line sent. The SIP MESSAGE itself is taken (200) either way: it arrived.
   */
  take(rq: sip.Request, sender: MessageSenderOptions | undefined): TextAnswer {
    const body = Uint8Array.from(Buffer.from(rq.content ?? '', 'latin1'));
    const rpAnswer = readRpAnswer(body);
    if (rpAnswer) {
      this.rpWaiters.get(rpAnswer.reference)?.(rpAnswer);
      return { status: 200, reason: 'OK' };
    }
    let answer: Uint8Array;
    try {
      const rp = readRpData(body);
      try {
        const isReport = ((rp.tpdu[0] ?? 0) & 0x03) === STATUS_REPORT_MTI;
        const report = isReport ? readSmsStatusReport(rp.tpdu) : undefined;
        const sms = isReport ? undefined : readSmsDeliver(rp.tpdu);
        if (this.recent.takenBefore(rp.tpdu)) {
          // Sent again: our RP-ACK did not reach the centre. Acknowledged again, not taken again.
          this.logger.info('SMS taken before: acknowledged again');
        } else {
          if (report) {
            this.listener.statusReport(report);
          } else if (sms) {
            this.reassembly.add(sms);
          }
          // Only once handed on: one that could not be is taken when the centre sends it again.
          this.recent.remember(rp.tpdu);
        }
        answer = rpAck(rp.reference);
      } catch (e) {
        if (!(e instanceof SmsError)) {
          throw e;
        }
        this.logger.warn({ err: e.message }, 'SMS not readable: RP-ERROR');
        answer = rpError(rp.reference, RP_CAUSE.semanticallyIncorrect);
      }
    } catch (e) {
      if (!(e instanceof SmsError)) {
        // Ours, not the centre's (the message history could not be written): it sends the SMS again.
        this.logger.error({ err: errorMessage(e) }, 'SMS not taken');
        return { status: 500, reason: 'Server Internal Error' };
      }
      if (!(e instanceof RpError) || e.reference === undefined) {
        return { status: 400, reason: `Bad Request (${e.message})` };
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
    deliverText(sender, to, latin1(answer), SMS_CONTENT_TYPE, { 'in-reply-to': rq.headers['call-id'] ?? '' })
      .then(({ outcome, reason }) => {
        if (outcome !== 'sent') {
          this.logger.warn({ to, reason }, 'SMS relay answer refused');
        }
      })
      .catch((e: unknown) => this.logger.warn({ err: errorMessage(e) }, 'SMS relay answer not sent'));
  }

  /**
   * A text a previous run had begun to send: its parts as that run built them, the first one not
   * acknowledged sent again with TP-RD, since it may have reached the centre before the run ended.
   * This run's own references go on after the restored ones.
   */
  resume(route: SmsRoute, progress: SmsProgress): SmsSubmission {
    const tpdus = progress.parts.map((hex) => Uint8Array.from(Buffer.from(hex, 'hex')));
    for (const tpdu of tpdus) {
      this.tpReference = Math.max(this.tpReference, (tpdu[1] ?? 0) + 1);
    }
    return { route, tpdus, acknowledged: Math.min(progress.acknowledged, tpdus.length), repeat: true };
  }

  /** `text` as the SMS-SUBMITs that carry it, not yet sent. Throws SmsError for a destination no SMS reaches. */
  prepare(route: SmsRoute, text: string): SmsSubmission {
    const tpdus = smsSubmit(
      route.destination,
      text,
      () => this.tpReference++,
      this.concatenationReference++,
      route.statusReport,
    );
    return { route, tpdus, acknowledged: 0, repeat: false };
  }

  /**
   * Sends the parts of `submission` not yet acknowledged (TS 24.341 §5.3.1), each in a MESSAGE to the
   * service centre, the next once its RP-ACK came (`acknowledged` is told, for the progress to be
   * kept): "sent" when every part was acknowledged. A failure may be retried by calling this again:
   * it carries on from the part that failed, sent again with TP-RD set (TS 23.040 §9.2.3.6).
   */
  async send(
    sender: MessageSenderOptions,
    submission: SmsSubmission,
    acknowledged: () => void = () => undefined,
  ): Promise<DeliveryOutcome> {
    const { route } = submission;
    for (const [part, tpdu] of submission.tpdus.entries()) {
      if (part < submission.acknowledged) {
        continue;
      }
      const reference = this.rpReference++ & 0xff;
      const answered = this.rpAnswer(reference);
      const rp = rpDataToNetwork(
        reference,
        route.serviceCentre,
        submission.repeat ? repeatedSubmit(tpdu) : tpdu,
      );
      submission.repeat = true;
      const sent = await deliverText(sender, route.psi, latin1(rp), SMS_CONTENT_TYPE);
      if (sent.outcome !== 'sent') {
        this.rpWaiters.get(reference)?.(undefined);
        return sent;
      }
      const answer = await answered;
      if (!answer) {
        return { outcome: 'failed', reason: 'no RP-ACK from the service centre', retryable: true };
      }
      if (answer.kind === 'error') {
        const retryable = PASSING_RP_CAUSES.includes(answer.cause);
        return { outcome: 'failed', reason: `RP-ERROR cause ${answer.cause}`, retryable };
      }
      submission.acknowledged += 1;
      submission.repeat = false;
      acknowledged();
    }
    return { outcome: 'sent', reason: '', retryable: false };
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
}
