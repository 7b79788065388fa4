import { randomBytes } from 'node:crypto';
import type * as sip from 'sip';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../log/logger.js';
import { DigestSession, type Credentials } from './digest.js';
import {
  defaultPolicy,
  transition,
  type RegistrationEffect,
  type RegistrationEvent,
  type RegistrationState,
  type RegistrationStatus,
} from './registration.js';
import { localFailure, type SipStack } from './stack.js';
import { actionFor, judgeKeepAlive, keepAliveDelayMs, publicAddress } from './keep-alive.js';
import { MachineRunner } from './machine-runner.js';

export interface RegistrarClientOptions {
  stack: SipStack;
  clock: Clock;
  logger: Logger;
  registrar: string;
  aor: string;
  contact: string;
  credentials: Credentials | undefined;
  expires: number;
  /** An OPTIONS to the registrar this often while registered (keep-alive.ts); 0: none. */
  keepAliveSeconds: number;
  userAgent: string;
  onStatus: (status: RegistrationStatus, reason: string) => void;
}

function grantedExpires(rs: sip.Response, contact: string): number | undefined {
  const contacts = Array.isArray(rs.headers.contact) ? rs.headers.contact : [];
  const mine = contacts.find((c) => c.uri === contact) ?? (contacts.length === 1 ? contacts[0] : undefined);
  const fromContact = Number(mine?.params.expires);
  if (Number.isFinite(fromContact) && fromContact >= 0) {
    return fromContact;
  }
  const header = Number(rs.headers.expires);
  return Number.isFinite(header) && header >= 0 ? header : undefined;
}

/** Runs the registration machine for one account against its registrar. */
export class RegistrarClient extends MachineRunner<RegistrationState, RegistrationEvent, RegistrationEffect> {
  private readonly callId = `${randomBytes(10).toString('hex')}@carphone`;
  private readonly fromTag = randomBytes(6).toString('hex');
  private cseq = 1;
  private readonly digest: DigestSession;
  private keepAliveTimer: TimerHandle | undefined;
  /** Where the registrar saw our last successful REGISTER come from (its Via's received/rport). */
  private registeredFrom: string | undefined;
  /** The registrar has answered a keep-alive: from then on its silence means the flow is lost. */
  private keepAliveAnswered = false;
  private toldOptionsUnanswered = false;
  /** The stack and Contact the bindings are for, until the line's address changes (moveTo). */
  private stack: SipStack;
  private contact: string;
  /**
   * Contacts of addresses the line had before: each next REGISTER removes their bindings (expires=0,
   * RFC 3261 §10.2.2) until one is answered, so no call is forked to an address that is gone.
   */
  private formerContacts: string[] = [];
  status: RegistrationStatus = 'unregistered';
  reason = '';

  /** Where the registrar sees us (our NAT's public address and port), while registered; else empty. */
  get publicAddress(): string {
    return this.status === 'registered' ? (this.registeredFrom ?? '') : '';
  }

  constructor(private readonly o: RegistrarClientOptions) {
    const policy = { ...defaultPolicy, requestedExpires: o.expires };
    super({ kind: 'idle' }, o.clock, (state, event) => transition(policy, state, event));
    this.digest = new DigestSession(o.credentials);
    this.stack = o.stack;
    this.contact = o.contact;
  }

  /** The line's address changed: registers `contact` through `stack` now, in place of the old one. */
  moveTo(stack: SipStack, contact: string): void {
    if (contact !== this.contact) {
      this.formerContacts.push(this.contact);
    }
    this.stack = stack;
    this.contact = contact;
    this.dispatch({ type: 'moved' });
  }

  start(): void {
    this.dispatch({ type: 'start' });
  }

  /** The system was suspended: register afresh now (registration.ts, 'woke-up'). */
  wokeUp(): void {
    this.dispatch({ type: 'woke-up' });
  }

  /** Un-REGISTERs (expires 0); resolves when the registrar answered or after `timeoutMs`. */
  stop(timeoutMs = 2000): Promise<void> {
    return this.stopWithin({ type: 'stop' }, timeoutMs);
  }

  protected override run(effect: RegistrationEffect): void {
    switch (effect.type) {
      case 'send-register':
        this.sendRegister(effect.expires, effect.withAuth);
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
        this.stopKeepAlive();
        break;
      case 'status':
        if (effect.status === 'registered') {
          this.scheduleKeepAlive();
        } else {
          this.stopKeepAlive();
        }
        this.status = effect.status;
        this.reason = effect.reason;
        this.o.logger.info({ status: effect.status, reason: effect.reason }, 'registration');
        this.o.onStatus(effect.status, effect.reason);
        break;
    }
  }

  private sendRegister(expires: number, withAuth: boolean): void {
    const rq: sip.Request = {
      method: 'REGISTER',
      uri: this.o.registrar,
      headers: {
        to: { uri: this.o.aor, params: {} },
        from: { uri: this.o.aor, params: { tag: this.fromTag } },
        'call-id': this.callId,
        cseq: { method: 'REGISTER', seq: this.cseq++ },
        contact: [
          { uri: this.contact, params: {} },
          ...this.formerContacts.map((uri) => ({ uri, params: { expires: '0' } })),
        ],
        expires,
        'max-forwards': 70,
        'user-agent': this.o.userAgent,
        allow: 'INVITE, ACK, BYE, CANCEL, OPTIONS, INFO',
      },
    };
    const auth = withAuth ? this.digest.answer('REGISTER', this.o.registrar) : undefined;
    if (auth) {
      rq.headers[auth[0]] = [auth[1]];
    }
    this.stack.send(rq, (rs) => this.onResponse(rs));
  }

  private onResponse(rs: sip.Response): void {
    if (rs.status < 200) {
      return;
    }
    const { usable: usableChallenge, stale } = this.digest.take(rs);
    if (rs.status >= 200 && rs.status < 300) {
      this.registeredFrom = publicAddress(rs);
      this.formerContacts = [];
    }
    const granted = grantedExpires(rs, this.contact);
    const failure = localFailure(rs.reason);
    this.dispatch({
      type: 'response',
      status: rs.status,
      usableChallenge,
      stale,
      ...(failure ? { localFailure: failure } : {}),
      ...(granted !== undefined ? { grantedExpires: granted } : {}),
    });
  }

  private scheduleKeepAlive(): void {
    this.stopKeepAlive();
    if (this.o.keepAliveSeconds <= 0) {
      return;
    }
    this.keepAliveTimer = this.o.clock.setTimeout(
      () => this.sendKeepAlive(),
      keepAliveDelayMs(this.o.keepAliveSeconds, Math.random),
    );
  }

  private stopKeepAlive(): void {
    if (this.keepAliveTimer !== undefined) {
      this.o.clock.clearTimeout(this.keepAliveTimer);
      this.keepAliveTimer = undefined;
    }
  }

  private sendKeepAlive(): void {
    this.keepAliveTimer = undefined;
    const rq: sip.Request = {
      method: 'OPTIONS',
      uri: this.o.registrar,
      headers: {
        to: { uri: this.o.registrar, params: {} },
        from: { uri: this.o.aor, params: { tag: randomBytes(6).toString('hex') } },
        'call-id': `${randomBytes(10).toString('hex')}@carphone`,
        cseq: { method: 'OPTIONS', seq: 1 },
        'max-forwards': 70,
        'user-agent': this.o.userAgent,
      },
    };
    this.stack.send(rq, (rs) => {
      if (rs.status < 200 || this.status !== 'registered') {
        return;
      }
      const verdict = judgeKeepAlive(rs, this.registeredFrom);
      const action = actionFor(verdict, this.keepAliveAnswered);
      this.keepAliveAnswered ||= verdict.kind !== 'lost';
      if (verdict.kind === 'rebound') {
        this.o.logger.info(
          { from: verdict.from, to: verdict.to },
          'the network maps us to a new public address: registering again',
        );
      } else if (verdict.kind === 'lost' && action === 'none' && !this.toldOptionsUnanswered) {
        this.toldOptionsUnanswered = true;
        this.o.logger.info(
          'the registrar answers no OPTIONS: keep-alives still hold the NAT open, a lost flow shows at the next refresh',
        );
      } else if (verdict.kind === 'lost' && action !== 'none') {
        this.o.logger.warn(
          { why: verdict.why },
          'the registrar did not answer a keep-alive: registering again',
        );
      }
      if (action === 'none') {
        this.scheduleKeepAlive();
        return;
      }
      // Not from within this callback: where the connection just failed, the sip package drops it from
      // its pool only once the socket has closed, and a REGISTER sent now would go down the dead one.
      this.keepAliveTimer = this.o.clock.setTimeout(() => {
        this.keepAliveTimer = undefined;
        this.dispatch({ type: action === 'refresh' ? 'rebound' : 'flow-lost' });
      }, 0);
    });
  }
}
