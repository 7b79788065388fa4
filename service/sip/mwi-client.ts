import { randomBytes } from 'node:crypto';
import type * as sip from 'sip';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import { DigestSession, type Credentials } from './digest.js';
import { MESSAGE_SUMMARY_TYPE, parseMessageSummary, type MessageSummary } from './message-summary.js';
import { printable } from './header-text.js';
import { MachineRunner } from './machine-runner.js';
import type { SipStack } from './stack.js';
import {
  parseSubscriptionState,
  transition,
  type SubscriptionEffect,
  type SubscriptionEvent,
  type SubscriptionPolicy,
  type SubscriptionState,
  type SubscriptionStatus,
} from './subscription.js';

export const MESSAGE_SUMMARY_EVENT = 'message-summary';

export interface MwiClientOptions {
  stack: SipStack;
  clock: Clock;
  logger: Logger;
  /** Where to SUBSCRIBE: the line's own AOR (RFC 3842 §3.2) or a voicemail server's URI. */
  target: string;
  aor: string;
  contact: string;
  credentials: Credentials | undefined;
  /** The outbound proxy the subscription's first request goes through, if any. */
  proxy: string | undefined;
  expires: number;
  userAgent: string;
  onSummary: (summary: MessageSummary) => void;
  onStatus: (status: SubscriptionStatus, reason: string) => void;
}

interface Dialog {
  callId: string;
  fromTag: string;
  remoteTag?: string;
  remoteTarget: string;
  routeSet: sip.NameAddr[];
}

/**
 * Voicemail indication for one line (RFC 3842): runs the SUBSCRIBE machine (subscription.ts) against
 * the server, and takes the message-summary NOTIFYs the user agent hands it: those of its own
 * subscription and unsolicited ones (servers that send MWI to every registered line without a
 * subscription, as many do).
 */
export class MwiClient extends MachineRunner<SubscriptionState, SubscriptionEvent, SubscriptionEffect> {
  private dialog: Dialog;
  private cseq = 1;
  private readonly digest: DigestSession;
  status: SubscriptionStatus = 'unsubscribed';
  reason = '';

  constructor(private readonly o: MwiClientOptions) {
    const policy: SubscriptionPolicy = {
      requestedExpires: o.expires,
      backoffBaseMs: 1000,
      backoffMaxMs: 300_000,
    };
    super({ kind: 'idle' }, o.clock, (state, event) => transition(policy, state, event));
    this.digest = new DigestSession(o.credentials);
    this.dialog = this.newDialog();
  }

  start(): void {
    this.dispatch({ type: 'start' });
  }

  /** Ends the subscription (expires 0); resolves when the server answered or after `timeoutMs`. */
  stop(timeoutMs = 2000): Promise<void> {
    return this.stopWithin({ type: 'stop' }, timeoutMs);
  }

  /**
   * A NOTIFY of the message-summary event: reports its summary and returns the status to answer it
   * with (200; 400 for a body that is not a message summary; 481 for a subscription not ours).
   */
  takeNotify(rq: sip.Request): { status: number; reason: string } {
    const ours =
      rq.headers['call-id'] === this.dialog.callId && rq.headers.to?.params.tag === this.dialog.fromTag;
    if (!ours && rq.headers.to?.params.tag !== undefined) {
      return { status: 481, reason: 'Subscription Does Not Exist' };
    }
    let summary: MessageSummary | undefined;
    const body = rq.content ?? '';
    if (body.trim() !== '') {
      const type = String(rq.headers['content-type'] ?? '')
        .split(';')[0]
        ?.trim()
        .toLowerCase();
      if (type !== MESSAGE_SUMMARY_TYPE) {
        return { status: 415, reason: 'Unsupported Media Type' };
      }
      try {
        summary = parseMessageSummary(body);
      } catch (e) {
        this.o.logger.warn({ err: errorMessage(e) }, 'message summary not understood');
        // The reason phrase quotes the body: printable only, so that it cannot end the status line.
        return { status: 400, reason: `Bad Request (${printable(errorMessage(e)).slice(0, 120)})` };
      }
    }
    if (ours) {
      const notified = parseSubscriptionState(
        typeof rq.headers['subscription-state'] === 'string' ? rq.headers['subscription-state'] : undefined,
      );
      if (!notified) {
        return { status: 400, reason: 'Bad Request (no Subscription-State)' };
      }
      const from = rq.headers.from?.params.tag;
      if (typeof from === 'string' && this.dialog.remoteTag === undefined) {
        this.dialog.remoteTag = from;
      }
      const contact = Array.isArray(rq.headers.contact) ? rq.headers.contact[0] : undefined;
      if (contact) {
        this.dialog.remoteTarget = contact.uri;
      }
      // After the answer has gone: a new subscription's SUBSCRIBE must not overtake it.
      this.o.clock.setTimeout(() => this.dispatch({ type: 'notify', ...notified }), 0);
    }
    if (summary) {
      this.o.onSummary(summary);
    }
    return { status: 200, reason: 'OK' };
  }

  private newDialog(): Dialog {
    return {
      callId: `${randomBytes(10).toString('hex')}@carphone`,
      fromTag: randomBytes(6).toString('hex'),
      remoteTarget: this.o.target,
      routeSet: this.o.proxy ? [{ uri: this.o.proxy, params: { lr: null } }] : [],
    };
  }

  protected override run(effect: SubscriptionEffect): void {
    switch (effect.type) {
      case 'send-subscribe':
        if (effect.newDialog) {
          this.dialog = this.newDialog();
          this.digest.forget();
        }
        this.sendSubscribe(effect.expires, effect.withAuth);
        break;
      case 'set-timer': {
        this.setTimer(
          effect.timer === 'refresh' ? { type: 'refresh-due' } : { type: 'retry-due' },
          effect.ms,
        );
        break;
      }
      case 'clear-timers':
        this.clearTimers();
        break;
      case 'status':
        this.status = effect.status;
        this.reason = effect.reason;
        this.o.logger.info({ status: effect.status, reason: effect.reason }, 'voicemail subscription');
        this.o.onStatus(effect.status, effect.reason);
        break;
    }
  }

  private sendSubscribe(expires: number, withAuth: boolean): void {
    const d = this.dialog;
    const rq: sip.Request = {
      method: 'SUBSCRIBE',
      uri: d.remoteTag === undefined ? this.o.target : d.remoteTarget,
      headers: {
        to: { uri: this.o.target, params: d.remoteTag === undefined ? {} : { tag: d.remoteTag } },
        from: { uri: this.o.aor, params: { tag: d.fromTag } },
        'call-id': d.callId,
        cseq: { method: 'SUBSCRIBE', seq: this.cseq++ },
        contact: [{ uri: this.o.contact, params: {} }],
        event: MESSAGE_SUMMARY_EVENT,
        accept: MESSAGE_SUMMARY_TYPE,
        expires,
        'max-forwards': 70,
        'user-agent': this.o.userAgent,
        ...(d.routeSet.length > 0
          ? { route: d.routeSet.map((r) => ({ ...r, params: { ...r.params } })) }
          : {}),
      },
    };
    const auth = withAuth ? this.digest.answer('SUBSCRIBE', rq.uri) : undefined;
    if (auth) {
      rq.headers[auth[0]] = [auth[1]];
    }
    this.o.stack.send(rq, (rs) => this.onResponse(rq, rs));
  }

  private onResponse(rq: sip.Request, rs: sip.Response): void {
    if (rs.status < 200 || rq.headers['call-id'] !== this.dialog.callId) {
      return;
    }
    const { usable: usableChallenge, stale } = this.digest.take(rs);
    if (rs.status >= 200 && rs.status < 300) {
      this.learnDialog(rs);
    }
    const granted = Number(rs.headers.expires);
    this.dispatch({
      type: 'response',
      status: rs.status,
      usableChallenge,
      stale,
      ...(rs.headers.expires !== undefined && Number.isFinite(granted) ? { grantedExpires: granted } : {}),
    });
  }

  /** The dialog as the 2xx makes it (RFC 6665 §4.1.2.1): the server's tag, target and route set. */
  private learnDialog(rs: sip.Response): void {
    const tag = rs.headers.to?.params.tag;
    if (typeof tag === 'string') {
      this.dialog.remoteTag = tag;
    }
    const contact = Array.isArray(rs.headers.contact) ? rs.headers.contact[0] : undefined;
    if (contact) {
      this.dialog.remoteTarget = contact.uri;
    }
    const rr = rs.headers['record-route'];
    if (Array.isArray(rr)) {
      this.dialog.routeSet = [...rr].reverse();
    }
  }
}
