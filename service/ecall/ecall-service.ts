import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomically } from '../core/atomic-file.js';
import {
  capabilitiesBlock,
  ControlError,
  parseControl,
  unsupportedAck,
  type ControlRequest,
} from './control.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { CarphoneError, errorMessage } from '../core/errors.js';
import { SafeEmitter } from '../core/emitter.js';
import type { Logger } from '../log/logger.js';
import type { CallRecord } from '../calls/manager.js';
import type { Line } from '../daemon/line.js';
import { encodeECallMessage, type ECallMessage } from './msd/msd.js';
import { buildMsd, PositionTrack, type VehicleIdentity } from './msd-builder.js';
import {
  stateName,
  transition,
  type EcallEffect,
  type EcallEvent,
  type EcallPolicy,
  type EcallState,
  type Trigger,
} from './ecall-machine.js';

export interface EcallConfig {
  psap: string;
  testPsap?: string;
  identity: VehicleIdentity;
  callbackMs: number;
  redialIntervalsMs: number[];
  statePath?: string;
  fallbackPosition?: { latitude: number; longitude: number };
}

/** RFC 8147 §4: the service URNs of NG eCall. Test calls: see docs/ecall-handling.txt. */
export function ecallUrn(t: Trigger): string {
  return `urn:service:${t.test ? 'test.' : ''}sos.ecall.${t.activation}`;
}

export type EcallEvents = { changed: [EcallState] };

interface Persisted {
  state: EcallState;
}

/**
 * Runs the eCall machine against one line: places the RFC 8147 INVITE with a fresh MSD, follows the
 * call, reacts to the PSAP's control blocks, redials, keeps the callback window, and writes its state
 * to disk after every change so that a restarted daemon resumes an eCall in progress.
 */
export class EcallService {
  readonly events: SafeEmitter<EcallEvents>;
  readonly track: PositionTrack;
  /**
   * The car's position as its bus reports it at this moment, where it does: current as long as its
   * message keeps coming, whether the car moves or not (the vehicle input invalidates it when the
   * message stops). Taken into the track when an MSD is made.
   */
  currentPosition: (() => { latitude: number; longitude: number } | undefined) | undefined;
  occupants: number | undefined;
  private state: EcallState = { kind: 'idle' };
  private readonly policy: EcallPolicy;
  private callId: string | undefined;
  private timers: TimerHandle[] = [];
  private lastMsd: ECallMessage | undefined;
  private placing: ((rec: CallRecord | undefined) => void)[] = [];

  constructor(
    private readonly line: Line,
    private readonly cfg: EcallConfig,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.events = new SafeEmitter((e) => logger.error({ err: errorMessage(e) }, 'ecall listener failed'));
    this.track = new PositionTrack(clock);
    this.policy = { redialIntervalsMs: cfg.redialIntervalsMs, callbackMs: cfg.callbackMs };
    line.emergencyDial = async () => {
      const rec = await this.trigger({ activation: 'manual', test: false, at: clock.now() });
      if (!rec) {
        throw new CarphoneError(
          'FAILED',
          'the emergency call could not be placed; carphoned keeps redialling',
        );
      }
      return rec;
    };
    line.emergencyCallbackExpected = () => this.state.kind === 'callback';
    // The PSAP's callback may come from where its eCalls went, not through the line's own proxy.
    line.emergencyPeers = [cfg.psap, ...(cfg.testPsap ? [cfg.testPsap] : [])];
    line.manager.events.on('changed', (rec, keys) => {
      if (rec.id === this.callId && keys.includes('State') && rec.props.State === 'active') {
        this.dispatch({ type: 'answered' });
      }
    });
    line.manager.events.on('added', (rec) => {
      if (rec.direction === 'incoming' && (rec.props.State === 'incoming' || rec.props.State === 'waiting')) {
        this.dispatch({ type: 'incoming-call' });
      }
    });
    line.manager.events.on('removed', (rec, reason, status) => {
      if (rec.id === this.callId) {
        this.callId = undefined;
        // Only the PSAP's BYE of an answered call is a clear-down; anything else is a failure to redial.
        const clearDown = reason === 'remote' && status === undefined && this.state.kind === 'active';
        this.dispatch(
          clearDown
            ? { type: 'cleared-by-psap', now: this.clock.now() }
            : { type: 'call-failed', reason: `${reason}${status ? ` (${status})` : ''}` },
        );
      } else if (this.state.kind === 'callback') {
        this.dispatch({ type: 'callback-ended', now: this.clock.now() });
      }
    });
  }

  get current(): EcallState {
    return this.state;
  }

  get stateName(): string {
    return stateName(this.state);
  }

  get msd(): ECallMessage | undefined {
    return this.lastMsd;
  }

  /** Resumes a persisted eCall (after a crash of the daemon). Call once the line is up. */
  resume(): void {
    const path = this.cfg.statePath;
    if (!path || !existsSync(path)) {
      return;
    }
    try {
      const saved = JSON.parse(readFileSync(path, 'utf8')) as Persisted;
      this.state = saved.state;
      this.logger.warn({ state: stateName(saved.state) }, 'resuming the eCall state found on disk');
      this.dispatch({ type: 'resume', now: this.clock.now() });
    } catch (e) {
      this.logger.error({ err: errorMessage(e), path }, 'eCall state file unreadable; starting idle');
    }
  }

  /** Starts an eCall. Resolves with the call once the INVITE is out (undefined if none could be placed). */
  trigger(t: Trigger): Promise<CallRecord | undefined> {
    const wait = new Promise<CallRecord | undefined>((resolve) => this.placing.push(resolve));
    const before = this.state;
    this.dispatch({ type: 'trigger', trigger: t });
    if (this.state === before) {
      // Already in an eCall: answer with its call.
      const rec = this.callId ? this.line.manager.get(this.callId) : undefined;
      this.settlePlacing(rec);
    }
    return wait;
  }

  /**
   * A control block from the PSAP (RFC 8147 §9.1): an acknowledged MSD, a request for a fresh one, and
   * requests this vehicle cannot carry out, which are answered with an <ack> saying so.
   */
  onControl(callId: string, xml: string, ref?: string): void {
    if (callId !== this.callId) {
      return;
    }
    let block;
    try {
      block = parseControl(xml);
    } catch (e) {
      if (!(e instanceof ControlError)) {
        throw e;
      }
      this.logger.warn({ err: e.message }, 'control block from the PSAP ignored');
      return;
    }
    if (block.acks.some((a) => a.received)) {
      this.dispatch({ type: 'acknowledged' });
    }
    const isMsdRequest = (r: ControlRequest): boolean =>
      r.action === 'send-data' && (r.datatype ?? '').toLowerCase() === 'ecall.msd';
    if (block.requests.some(isMsdRequest)) {
      this.dispatch({ type: 'msd-requested' });
    }
    const unsupported = block.requests.filter((r) => !isMsdRequest(r));
    if (unsupported.length > 0) {
      this.logger.warn(
        { actions: unsupported.map((r) => r.action) },
        'PSAP requests this vehicle cannot carry out',
      );
      try {
        this.line.userAgent?.sendControlInfo(callId, unsupportedAck(ref, unsupported));
      } catch (e) {
        this.logger.error({ err: errorMessage(e) }, 'control INFO not sent');
      }
    }
  }

  private dispatch(e: EcallEvent): void {
    const [next, effects] = transition(this.policy, this.state, e);
    this.state = next;
    if (effects.some((f) => f.type === 'changed')) {
      this.persist();
    }
    for (const effect of effects) {
      this.run(effect);
    }
  }

  private persist(): void {
    const path = this.cfg.statePath;
    if (!path) {
      return;
    }
    try {
      writeFileAtomically(path, JSON.stringify({ state: this.state } satisfies Persisted));
    } catch (e) {
      this.logger.error({ err: errorMessage(e), path }, 'cannot persist the eCall state');
    }
  }

  private settlePlacing(rec: CallRecord | undefined): void {
    const waiters = this.placing;
    this.placing = [];
    waiters.forEach((w) => w(rec));
  }

  private makeMsd(trigger: Trigger, msdId: number): Uint8Array {
    const now = this.currentPosition?.();
    if (now) {
      this.track.add({ ...now, at: this.clock.now() });
    }
    this.lastMsd = buildMsd({
      trigger,
      messageIdentifier: msdId,
      identity: this.cfg.identity,
      occupants: this.occupants,
      track: this.track,
      ...(this.cfg.fallbackPosition ? { fallback: this.cfg.fallbackPosition } : {}),
    });
    return encodeECallMessage(this.lastMsd);
  }

  private run(effect: EcallEffect): void {
    switch (effect.type) {
      case 'changed':
        this.logger.info({ state: this.stateName }, 'eCall');
        this.events.emit('changed', this.state);
        break;
      case 'release-other-calls':
        break; // done by dialEmergency, which releases every other call before it dials
      case 'place-call': {
        const t = effect.trigger;
        const route = t.test ? (this.cfg.testPsap ?? this.cfg.psap) : this.cfg.psap;
        let msd: Uint8Array;
        try {
          msd = this.makeMsd(t, effect.msdId);
        } catch (e) {
          this.logger.error({ err: errorMessage(e) }, 'cannot build the MSD');
          this.settlePlacing(undefined);
          return;
        }
        const urn = ecallUrn(t);
        this.logger.warn({ urn, route, attempt: effect.attempt, msdId: effect.msdId }, 'placing eCall');
        this.line.manager
          .dialEmergency(t.test ? 'test eCall' : '112', urn, {
            urn,
            route,
            msd,
            control: capabilitiesBlock(),
          })
          .then((rec) => {
            this.callId = rec.id;
            this.settlePlacing(rec);
          })
          .catch((e: unknown) => {
            this.logger.error({ err: errorMessage(e) }, 'eCall INVITE not placed');
            this.settlePlacing(undefined);
            this.dispatch({ type: 'call-failed', reason: errorMessage(e) });
          });
        break;
      }
      case 'send-msd': {
        const s = this.state;
        if (this.callId && (s.kind === 'active' || s.kind === 'calling')) {
          try {
            this.line.userAgent?.sendMsdInfo(this.callId, this.makeMsd(s.trigger, effect.msdId));
          } catch (e) {
            this.logger.error({ err: errorMessage(e) }, 'MSD INFO not sent');
          }
        }
        break;
      }
      case 'set-timer': {
        const event: EcallEvent =
          effect.timer === 'redial'
            ? { type: 'redial-due' }
            : { type: 'callback-expired', until: effect.until };
        this.timers.push(this.clock.setTimeout(() => this.dispatch(event), effect.ms));
        break;
      }
      case 'answer-incoming': {
        const incoming = this.line.manager
          .calls()
          .find((c) => c.props.State === 'incoming' || c.props.State === 'waiting');
        if (incoming) {
          this.logger.warn(
            { from: incoming.props.LineIdentification },
            'callback period: answering automatically',
          );
          if (incoming.props.State === 'waiting') {
            this.line.manager.holdAndAnswer();
          } else {
            this.line.manager.answer(incoming.id);
          }
        }
        break;
      }
    }
  }

  stop(): void {
    this.timers.forEach((t) => this.clock.clearTimeout(t));
    this.timers = [];
  }
}
