import { randomBytes } from 'node:crypto';
import type * as sip from 'sip';
import type { Clock } from '../core/clock.js';
import { DigestSession, type Credentials } from './digest.js';
import { quotedDisplayName } from './header-text.js';
import type { SipStack } from './stack.js';
import {
  deliveryTransition,
  START_DELIVERY,
  TEXT_PLAIN,
  type DeliveryEffect,
  type DeliveryState,
} from './text-message.js';

export interface MessageSenderOptions {
  /** The line's stack at the time of each send: a line that moved sends its retry from the new one. */
  stack: () => SipStack | undefined;
  clock: Clock;
  aor: string;
  displayName?: string;
  credentials: Credentials | undefined;
  /** The outbound proxy the MESSAGE goes through (a loose route), if any. */
  proxy: string | undefined;
  userAgent: string;
}

export interface DeliveryOutcome {
  outcome: 'sent' | 'failed';
  /** Why it failed: the final response's status and reason, or that none came. */
  reason: string;
  /** A failure that passes (no answer, the network overloaded or down): worth sending again soon. */
  retryable: boolean;
}

/**
 * Longer than a non-INVITE transaction may take (64·T1, RFC 3261 §17.1.2.2) plus one challenge: a
 * message whose answer never comes (its stack closed as the line went down or moved) still ends.
 */
const NO_ANSWER_MS = 70_000;

/**
 * Sends one text message as a SIP MESSAGE outside any dialog (RFC 3428; text/plain unless said
 * otherwise: an SMS relay answer is application/vnd.3gpp.sms), answering a digest challenge
 * from the registrar or proxy (deliveryTransition, text-message.ts), and resolves with its outcome:
 * "sent" once a 2xx says the recipient's side took it.
 */
export function deliverText(
  o: MessageSenderOptions,
  to: string,
  body: string,
  contentType = `${TEXT_PLAIN};charset=UTF-8`,
  headers: Record<string, string> = {},
): Promise<DeliveryOutcome> {
  const digest = new DigestSession(o.credentials);
  const callId = `${randomBytes(10).toString('hex')}@carphone`;
  const fromTag = randomBytes(6).toString('hex');
  let cseq = 1;
  let state: DeliveryState = START_DELIVERY[0];
  return new Promise((resolve) => {
    const timeout = o.clock.setTimeout(
      () => onResponse({ status: 408, reason: 'Request Timeout (no answer)', headers: {} }),
      NO_ANSWER_MS,
    );
    const run = (effects: DeliveryEffect[]): void => {
      for (const effect of effects) {
        if (effect.type === 'send') {
          send(effect.withAuth);
        } else {
          o.clock.clearTimeout(timeout);
          resolve({ outcome: effect.outcome, reason: effect.reason, retryable: effect.retryable });
        }
      }
    };
    const onResponse = (rs: sip.Response): void => {
      const { usable, stale } = digest.take(rs);
      const [next, effects] = deliveryTransition(state, {
        type: 'response',
        status: rs.status,
        reason: rs.reason,
        usableChallenge: usable,
        stale,
      });
      state = next;
      run(effects);
    };
    const send = (withAuth: boolean): void => {
      const rq: sip.Request = {
        method: 'MESSAGE',
        uri: to,
        headers: {
          to: { uri: to, params: {} },
          from: {
            uri: o.aor,
            params: { tag: fromTag },
            ...(o.displayName ? { name: quotedDisplayName(o.displayName) } : {}),
          },
          'call-id': callId,
          cseq: { method: 'MESSAGE', seq: cseq++ },
          'content-type': contentType,
          ...headers,
          date: new Date(o.clock.now()).toUTCString(),
          'max-forwards': 70,
          'user-agent': o.userAgent,
          ...(o.proxy ? { route: [{ uri: o.proxy, params: { lr: null } }] } : {}),
        },
        content: body,
      };
      const auth = withAuth ? digest.answer('MESSAGE', to) : undefined;
      if (auth) {
        rq.headers[auth[0]] = [auth[1]];
      }
      const stack = o.stack();
      if (!stack) {
        onResponse({ status: 503, reason: 'Service Unavailable (the line is down)', headers: {} });
        return;
      }
      stack.send(rq, onResponse);
    };
    run(START_DELIVERY[1]);
  });
}
