import { CarphoneError, errorMessage } from '../core/errors.js';
import type { CallQuality } from '../media/rtcp/rtcp-state.js';
import { SafeEmitter } from '../core/emitter.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../log/logger.js';
import { ofonoState, type CallEvent, type DisconnectReason, type OfonoCallState } from './call-machine.js';
import type { ForwardingReason } from '../sip/forwarding.js';
import type { DialOptions, EmergencyInvite, IncomingDecision, UaCallInfo } from '../sip/user-agent.js';

/**
 * oFono's call-management rules (doc/voicecallmanager-api.txt, doc/voicecall-api.txt) over the calls of
 * one line: which calls may coexist, what HoldAndAnswer/ReleaseAndAnswer/SwapCalls/HangupAll do, when a
 * waiting call becomes incoming. It drives the line through the CallDriver interface and never sees SIP.
 */
export interface CallDriver {
  dial(uri: string, options?: DialOptions): Promise<UaCallInfo>;
  act(
    id: string,
    event: Extract<
      CallEvent,
      { type: 'user-answer' | 'user-hangup' | 'user-hold' | 'user-resume' | 'user-deflect' }
    >,
  ): void;
  setWaiting(id: string, waiting: boolean): void;
  sendTones(id: string, tones: string): Promise<void>;
  /** Mixes these calls' audio together (the multiparty call); none: no call is mixed with another. */
  setMultiparty(ids: string[]): void;
  /** Hands the held call's far end over to the active call's (explicit call transfer). */
  transfer(heldId: string, activeId: string): Promise<void>;
}

export interface CallProperties {
  LineIdentification: string;
  IncomingLine: string;
  Name: string;
  Multiparty: boolean;
  State: OfonoCallState;
  StartTime?: string;
  Emergency: boolean;
  RemoteHeld: boolean;
  RemoteMultiparty: boolean;
  /** Why the network forwarded the call ('' where it did not): a carphone extension. */
  Forwarded: ForwardingReason | '';
  /** The number the caller called, which forwarded the call to this line: a carphone extension. */
  ForwardedFrom: string;
}

export interface CallRecord {
  /** Driver-level id (the SIP Call-ID). */
  id: string;
  /** 1-based number in the modem's call list; the D-Bus path ends in voicecallNN. */
  index: number;
  direction: 'outgoing' | 'incoming';
  remoteUri: string;
  /** When the call was placed or started ringing. */
  createdAtMs: number;
  /** How long it was connected, once it has ended (monotonic clock: the wall clock may be set meanwhile). */
  talkTimeMs?: number;
  /** When it was first answered on the monotonic clock, for the talk time. */
  answeredAtMonotonicMs?: number;
  props: CallProperties;
  /** The latest media quality (RTCP), once the call has had an RTCP interval. */
  quality?: CallQuality;
}

export type ManagerEvents = {
  added: [CallRecord];
  changed: [CallRecord, (keyof CallProperties)[]];
  'disconnect-reason': [CallRecord, DisconnectReason];
  removed: [CallRecord, DisconnectReason, number | undefined];
  /** A DTMF key the far end sent (RFC 4733). */
  tone: [CallRecord, string];
  /** The network says it forwarded the call (once per call): oFono's Forwarded signal. */
  forwarded: [CallRecord];
  quality: [CallRecord, CallQuality];
};

/** oFono's MAX_VOICE_CALLS. */
const MAX_CALLS = 16;

/** 3GPP TS 22.084 §1.2: a multiparty call has at most five remote parties. */
export const MAX_MULTIPARTY_CALLS = 5;

/** oFono's default list (src/voicecall.c default_en_list); carrier lists come with eCall support. */
export const EMERGENCY_NUMBERS = ['112', '911'];

/** oFono formats StartTime with strftime "%Y-%m-%dT%H:%M:%S%z". */
export function formatStartTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T${p(d.getUTCHours())}:${p(
    d.getUTCMinutes(),
  )}:${p(d.getUTCSeconds())}+0000`;
}

export class CallManager {
  readonly events: SafeEmitter<ManagerEvents>;
  private readonly records = new Map<string, CallRecord>();
  private nextIndex = 1;
  private driver: CallDriver | undefined;
  /** The number as the user dialled it, for the call the driver is about to add. */
  private dialling: string | undefined;
  /** eCalls: the occupants cannot end them; only the PSAP can. */
  private readonly locked = new Set<string>();

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.events = new SafeEmitter((e, ev) => logger.error({ err: errorMessage(e), ev }, 'listener failed'));
  }

  attach(driver: CallDriver): void {
    this.driver = driver;
  }

  calls(): CallRecord[] {
    return [...this.records.values()].sort((a, b) => a.index - b.index);
  }

  /** The calls not yet disconnected. */
  liveCalls(): CallRecord[] {
    return this.calls().filter((c) => c.props.State !== 'disconnected');
  }

  get(id: string): CallRecord | undefined {
    return this.records.get(id);
  }

  private inState(...states: OfonoCallState[]): CallRecord[] {
    return this.calls().filter((c) => states.includes(c.props.State));
  }

  private requireDriver(): CallDriver {
    if (!this.driver) {
      throw new CarphoneError('NOT_AVAILABLE', 'the line is not available');
    }
    return this.driver;
  }

  /** Policy for a new incoming call, asked by the driver before it rings. */
  decideIncoming(): IncomingDecision {
    const live = this.liveCalls();
    if (live.length >= MAX_CALLS || this.inState('incoming', 'waiting', 'dialing', 'alerting').length > 0) {
      return 'busy';
    }
    return live.length > 0 ? 'waiting' : 'incoming';
  }

  async dial(
    number: string,
    targetUri: string,
    options: Pick<DialOptions, 'hideIdentity' | 'transfer'> = {},
  ): Promise<CallRecord> {
    const driver = this.requireDriver();
    const refusal = this.dialRefusal();
    if (refusal) {
      throw new CarphoneError('FAILED', refusal);
    }
    // As oFono does, an active call goes on hold when a new one is dialled.
    this.hold(this.inState('active'));
    this.dialling = number;
    let info: UaCallInfo;
    try {
      info = await driver.dial(targetUri, options);
    } finally {
      this.dialling = undefined;
    }
    const rec = this.records.get(info.id);
    if (!rec) {
      throw new CarphoneError('FAILED', 'call ended during setup');
    }
    return rec;
  }

  /** Why no call can be dialled now, if it cannot (oFono's rules for Dial). */
  private dialRefusal(): string | undefined {
    if (this.inState('incoming', 'waiting').length > 0) {
      return 'cannot dial while a call is incoming or waiting';
    }
    if (this.inState('dialing', 'alerting').length > 0) {
      return 'another call is already being dialled';
    }
    if (this.inState('active').length > 0 && this.inState('held').length > 0) {
      return 'there is already an active and a held call';
    }
    if (this.records.size >= MAX_CALLS) {
      return 'too many calls';
    }
    return undefined;
  }

  /**
   * Why the far end of a call may not transfer it now (REFER), if it may not: the new call is dialled
   * as the driver's would be, and an eCall stays with its PSAP.
   */
  transferRefusal(id: string): string | undefined {
    if (this.locked.has(id)) {
      return 'an eCall is not transferred from the vehicle';
    }
    return this.dialRefusal();
  }

  /**
   * Places an eCall: every other call is released first (an eCall takes precedence), and the new call
   * is locked against Hangup.
   */
  async dialEmergency(label: string, uri: string, emergency: EmergencyInvite): Promise<CallRecord> {
    const driver = this.requireDriver();
    for (const c of this.calls()) {
      if (!this.locked.has(c.id) && c.props.State !== 'disconnected') {
        driver.act(c.id, { type: 'user-hangup' });
      }
    }
    this.dialling = label;
    let info: UaCallInfo;
    try {
      info = await driver.dial(uri, { emergency });
    } finally {
      this.dialling = undefined;
    }
    const rec = this.records.get(info.id);
    if (!rec) {
      throw new CarphoneError('FAILED', 'the eCall ended during setup');
    }
    this.locked.add(rec.id);
    if (!rec.props.Emergency) {
      rec.props.Emergency = true;
      this.events.emit('changed', rec, ['Emergency']);
    }
    return rec;
  }

  isLocked(id: string): boolean {
    return this.locked.has(id);
  }

  private refuseLocked(id: string): void {
    if (this.locked.has(id)) {
      throw new CarphoneError(
        'NOT_ALLOWED',
        'an emergency call cannot be hung up from the vehicle; only the emergency centre can end it',
      );
    }
  }

  answer(id: string): void {
    const rec = this.records.get(id);
    if (rec?.props.State !== 'incoming') {
      throw new CarphoneError('FAILED', 'only an incoming call can be answered');
    }
    this.requireDriver().act(id, { type: 'user-answer' });
  }

  /** oFono's Deflect: a ringing (incoming or waiting) call is sent on to `targetUri` instead. */
  deflect(id: string, targetUri: string): void {
    const state = this.records.get(id)?.props.State;
    if (state !== 'incoming' && state !== 'waiting') {
      throw new CarphoneError('FAILED', 'only an incoming or waiting call can be deflected');
    }
    this.requireDriver().act(id, { type: 'user-deflect', target: targetUri });
  }

  hangup(id: string): void {
    const rec = this.records.get(id);
    if (!rec || rec.props.State === 'disconnected') {
      throw new CarphoneError('FAILED', 'the call is already disconnected');
    }
    this.refuseLocked(id);
    this.requireDriver().act(id, { type: 'user-hangup' });
  }

  /** oFono's SendTones: the keys go to the active call. */
  async sendTones(tones: string): Promise<void> {
    const active = this.inState('active')[0];
    if (!active) {
      throw new CarphoneError('FAILED', 'there is no active call to send tones on');
    }
    await this.requireDriver().sendTones(active.id, tones);
  }

  onTone(id: string, digit: string): void {
    const rec = this.records.get(id);
    if (rec) {
      this.events.emit('tone', rec, digit);
    }
  }

  onQuality(id: string, quality: CallQuality): void {
    const rec = this.records.get(id);
    if (rec) {
      rec.quality = quality;
      this.events.emit('quality', rec, quality);
    }
  }

  /** Releases every call except waiting ones (oFono HangupAll). */
  hangupAll(): void {
    const driver = this.requireDriver();
    const all = this.calls();
    if (all.some((c) => this.locked.has(c.id))) {
      throw new CarphoneError(
        'NOT_ALLOWED',
        'an emergency call is in progress; only the emergency centre can end it',
      );
    }
    for (const c of all) {
      if (c.props.State !== 'waiting' && c.props.State !== 'disconnected') {
        driver.act(c.id, { type: 'user-hangup' });
      }
    }
  }

  holdAndAnswer(): void {
    const driver = this.requireDriver();
    const waiting = this.inState('waiting', 'incoming')[0];
    if (!waiting) {
      throw new CarphoneError('FAILED', 'there is no waiting call to answer');
    }
    if (this.inState('active').length > 0 && this.inState('held').length > 0) {
      throw new CarphoneError('FAILED', 'there is already an active and a held call');
    }
    this.hold(this.inState('active'));
    driver.setWaiting(waiting.id, false);
    driver.act(waiting.id, { type: 'user-answer' });
  }

  releaseAndAnswer(): void {
    const driver = this.requireDriver();
    this.inState('active').forEach((c) => this.refuseLocked(c.id));
    const waiting = this.inState('waiting', 'incoming')[0];
    if (!waiting) {
      throw new CarphoneError('FAILED', 'there is no waiting call to answer');
    }
    for (const c of this.inState('active')) {
      driver.act(c.id, { type: 'user-hangup' });
    }
    driver.setWaiting(waiting.id, false);
    driver.act(waiting.id, { type: 'user-answer' });
  }

  releaseAndSwap(): void {
    const driver = this.requireDriver();
    this.inState('active').forEach((c) => this.refuseLocked(c.id));
    const held = this.inState('held');
    if (held.length === 0) {
      throw new CarphoneError('FAILED', 'there is no held call');
    }
    for (const c of this.inState('active')) {
      driver.act(c.id, { type: 'user-hangup' });
    }
    for (const c of held) {
      driver.act(c.id, { type: 'user-resume' });
    }
  }

  swapCalls(): void {
    const driver = this.requireDriver();
    const active = this.inState('active');
    const held = this.inState('held');
    if (active.length === 0 && held.length === 0) {
      throw new CarphoneError('FAILED', 'there is no active or held call');
    }
    this.hold(active);
    for (const c of held) {
      driver.act(c.id, { type: 'user-resume' });
    }
  }

  /** The calls joined in the multiparty call, in call-list order; none while there is none. */
  multipartyCalls(): CallRecord[] {
    return this.calls().filter((c) => c.props.Multiparty);
  }

  /**
   * oFono's CreateMultiparty (GSM's CHLD=3): joins the active and the held calls, either of which may
   * already be a multiparty call, into one, all of it active. Held calls are resumed by re-INVITE.
   */
  createMultiparty(): CallRecord[] {
    const driver = this.requireDriver();
    const active = this.inState('active');
    const held = this.inState('held');
    if (active.length === 0 || held.length === 0) {
      throw new CarphoneError('FAILED', 'a multiparty call joins an active call and a held one');
    }
    const joined = [...active, ...held];
    if (joined.some((c) => this.locked.has(c.id))) {
      throw new CarphoneError('NOT_ALLOWED', 'an emergency call cannot be joined with other calls');
    }
    if (joined.length > MAX_MULTIPARTY_CALLS) {
      throw new CarphoneError(
        'FAILED',
        `a multiparty call has at most ${MAX_MULTIPARTY_CALLS} other parties (3GPP TS 22.084)`,
      );
    }
    for (const c of held) {
      driver.act(c.id, { type: 'user-resume' });
    }
    this.setMultiparty(joined.map((c) => c.id));
    return this.multipartyCalls();
  }

  /**
   * oFono's Transfer (explicit call transfer, GSM's CHLD=4): the active and the held call's far ends
   * are connected to each other, and both calls leave this line.
   */
  async transfer(): Promise<void> {
    const driver = this.requireDriver();
    const [active, ...moreActive] = this.inState('active');
    const [held, ...moreHeld] = this.inState('held');
    if (!active || !held || moreActive.length > 0 || moreHeld.length > 0) {
      throw new CarphoneError('FAILED', 'a transfer connects one active call with one held call');
    }
    if (this.locked.has(active.id) || this.locked.has(held.id)) {
      throw new CarphoneError('NOT_ALLOWED', 'an emergency call cannot be transferred');
    }
    await driver.transfer(held.id, active.id);
  }

  /** oFono's HangupMultiparty: releases every call of the multiparty call. */
  hangupMultiparty(): void {
    const driver = this.requireDriver();
    const members = this.multipartyCalls();
    if (members.length === 0) {
      throw new CarphoneError('FAILED', 'there is no multiparty call');
    }
    for (const c of members) {
      driver.act(c.id, { type: 'user-hangup' });
    }
  }

  /**
   * oFono's PrivateChat (GSM's CHLD=2X): the chosen call leaves the active multiparty call and stays
   * active; the others are held, still together where two or more are left. Returns the calls still
   * in the multiparty call.
   */
  privateChat(id: string): CallRecord[] {
    const chosen = this.records.get(id);
    if (!chosen?.props.Multiparty) {
      throw new CarphoneError('NOT_FOUND', 'the call is not part of a multiparty call');
    }
    if (this.inState('held').length > 0) {
      throw new CarphoneError('FAILED', 'a private chat needs an active multiparty call and no held call');
    }
    const others = this.multipartyCalls().filter((c) => c.id !== id);
    this.setMultiparty(others.map((c) => c.id));
    this.hold(others);
    return this.multipartyCalls();
  }

  /**
   * Puts calls on hold. The members of a multiparty call are held on the head unit only and go on
   * talking with each other, as a network holds a GSM multiparty call (3GPP TS 22.084 §1.3.2); any other
   * call is held by re-INVITE.
   */
  private hold(calls: CallRecord[]): void {
    const driver = this.requireDriver();
    for (const c of calls) {
      driver.act(c.id, { type: 'user-hold', bridged: c.props.Multiparty });
    }
  }

  /** One call on its own is no multiparty call: fewer than two ids leave none. */
  private setMultiparty(ids: string[]): void {
    const members =
      ids.length >= 2
        ? this.calls()
            .filter((c) => ids.includes(c.id))
            .map((c) => c.id)
        : [];
    const leftHeld: CallRecord[] = [];
    for (const rec of this.calls()) {
      const joined = members.includes(rec.id);
      if (rec.props.Multiparty !== joined) {
        rec.props.Multiparty = joined;
        this.events.emit('changed', rec, ['Multiparty']);
        if (!joined && rec.props.State === 'held') {
          leftHeld.push(rec);
        }
      }
    }
    this.driver?.setMultiparty(members);
    // Held with the multiparty call, a call left on its own would hear nobody: it is held by re-INVITE
    // now, as any call on its own is.
    if (this.driver) {
      this.hold(leftHeld);
    }
  }

  // ---- driver notifications ----

  onCallAdded(info: UaCallInfo): void {
    const state = ofonoState(info.phase);
    const dialled = info.direction === 'outgoing' ? this.dialling : undefined;
    const rec: CallRecord = {
      id: info.id,
      index: this.nextIndex++,
      direction: info.direction,
      remoteUri: info.remoteUri,
      createdAtMs: this.clock.now(),
      props: {
        LineIdentification: dialled ?? info.lineIdentification,
        IncomingLine: info.incomingLine ?? '',
        Name: info.name,
        Multiparty: false,
        State: state,
        Emergency: dialled !== undefined && EMERGENCY_NUMBERS.includes(dialled),
        RemoteHeld: false,
        RemoteMultiparty: false,
        Forwarded: info.forwarding?.reason ?? '',
        ForwardedFrom: info.forwarding?.from ?? '',
      },
    };
    this.records.set(info.id, rec);
    this.events.emit('added', rec);
    if (info.forwarding) {
      this.events.emit('forwarded', rec);
    }
  }

  onCallChanged(info: UaCallInfo): void {
    const rec = this.records.get(info.id);
    if (!rec) {
      return;
    }
    const changed: (keyof CallProperties)[] = [];
    const state = ofonoState(info.phase);
    if (state !== rec.props.State) {
      rec.props.State = state;
      changed.push('State');
      if (state === 'active' && rec.props.StartTime === undefined) {
        rec.answeredAtMonotonicMs = this.clock.monotonicMs();
        rec.props.StartTime = formatStartTime(this.clock.now());
        changed.push('StartTime');
      }
    }
    const remoteHeld = info.phase.phase === 'confirmed' && info.phase.remoteHold;
    if (remoteHeld !== rec.props.RemoteHeld) {
      rec.props.RemoteHeld = remoteHeld;
      changed.push('RemoteHeld');
    }
    // Said once: the first answer that says the call was forwarded.
    const forwarding = rec.props.Forwarded === '' ? info.forwarding : undefined;
    if (forwarding) {
      rec.props.Forwarded = forwarding.reason;
      changed.push('Forwarded');
      if (forwarding.from !== rec.props.ForwardedFrom) {
        rec.props.ForwardedFrom = forwarding.from;
        changed.push('ForwardedFrom');
      }
    }
    if (changed.length > 0) {
      this.events.emit('changed', rec, changed);
    }
    if (forwarding) {
      this.events.emit('forwarded', rec);
    }
  }

  onCallEnded(info: UaCallInfo, reason: DisconnectReason, status: number | undefined): void {
    const rec = this.records.get(info.id);
    if (!rec) {
      return;
    }
    if (rec.answeredAtMonotonicMs !== undefined) {
      rec.talkTimeMs = this.clock.monotonicMs() - rec.answeredAtMonotonicMs;
    }
    // oFono emits DisconnectReason before the State change to disconnected, then CallRemoved.
    this.events.emit('disconnect-reason', rec, reason);
    rec.props.State = 'disconnected';
    this.events.emit('changed', rec, ['State']);
    this.records.delete(info.id);
    this.locked.delete(info.id);
    if (rec.props.Multiparty) {
      // The call is gone from the list already, so one member left on its own is a call of its own again.
      this.setMultiparty(this.multipartyCalls().map((c) => c.id));
    }
    this.events.emit('removed', rec, reason, status);
    this.logger.info({ call: rec.index, reason, status }, 'call ended');
    // The only active call is gone: a waiting call now rings as incoming.
    if (this.inState('active', 'held', 'dialing', 'alerting').length === 0) {
      for (const w of this.inState('waiting')) {
        this.driver?.setWaiting(w.id, false);
      }
    }
  }
}
