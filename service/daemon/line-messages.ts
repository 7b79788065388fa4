import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import { deliverText, type MessageSenderOptions } from '../sip/message-sender.js';
import { readIncomingText, type ReceivedText } from '../sip/text-message.js';
import type { UserAgent } from '../sip/user-agent.js';

/** A text message the driver sent, as oFono's Message object shows it. */
export interface OutgoingText {
  /** Counts up per line from 1: the Message object's path ends with it. */
  id: number;
  /** The number or SIP user as the driver gave it. */
  to: string;
  text: string;
  /** When it was handed to the line, ms since the epoch. */
  at: number;
  state: 'pending' | 'sent' | 'failed';
  /** Why it failed (the network's final response, or that none came); empty otherwise. */
  reason: string;
}

/** A text message from the network, with when it arrived. */
export interface IncomingText extends ReceivedText {
  receivedAt: number;
}

export interface LineMessagesListener {
  received(message: IncomingText): void;
  added(message: OutgoingText): void;
  finished(message: OutgoingText): void;
}

/**
 * A line's text messages (SIP MESSAGE, RFC 3428): those that arrive through its user agent, and those
 * the driver sends, each pending until the network's answer decides it (service/sip/message-sender.ts).
 */
export class LineMessages {
  private nextId = 1;
  private readonly pendingTexts = new Map<number, OutgoingText>();

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly listener: LineMessagesListener,
  ) {}

  /** Messages sent and not yet answered, oldest first. */
  get pending(): OutgoingText[] {
    return [...this.pendingTexts.values()].map((m) => ({ ...m }));
  }

  /** The line is up: its user agent hands it every MESSAGE, and answers with what this returns. */
  listen(ua: UserAgent): void {
    ua.handleMessages((rq) => {
      const read = readIncomingText(rq);
      if ('status' in read) {
        this.logger.info({ status: read.status, reason: read.reason }, 'text message refused');
        return read;
      }
      this.listener.received({ ...read, receivedAt: this.clock.now() });
      return { status: 200, reason: 'OK' };
    });
  }

  /** Sends `body` (outgoingBody, text-message.ts) to `uri`; the message is pending until answered. */
  send(sender: MessageSenderOptions, to: string, uri: string, text: string, body: string): OutgoingText {
    const message: OutgoingText = {
      id: this.nextId++,
      to,
      text,
      at: this.clock.now(),
      state: 'pending',
      reason: '',
    };
    this.pendingTexts.set(message.id, message);
    this.listener.added({ ...message });
    deliverText(sender, uri, body)
      .then(({ outcome, reason }) => {
        message.state = outcome;
        message.reason = reason;
      })
      .catch((e: unknown) => {
        message.state = 'failed';
        message.reason = errorMessage(e);
      })
      .finally(() => {
        this.pendingTexts.delete(message.id);
        this.logger.info(
          { message: message.id, state: message.state, reason: message.reason },
          'text message',
        );
        this.listener.finished({ ...message });
      });
    return { ...message };
  }
}
