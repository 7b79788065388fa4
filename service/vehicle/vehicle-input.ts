import type { Clock, TimerHandle } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import { SafeEmitter } from '../core/emitter.js';
import type { Logger } from '../log/logger.js';
import type { CanFrame } from '../../can/frame.js';
import { decodeMessage, type DecodedSignal } from '../../can/dbc/codec.js';
import { messageKey, type MessageDef } from '../../can/dbc/model.js';
import {
  checkFrame,
  checkNoData,
  defaultSm,
  initialReceiverState,
  type E2eReceiverConfig,
  type E2eReceiverState,
  type E2eResult,
} from '../../can/e2e/receiver.js';
import type { E2eConfig } from '../../can/e2e/profiles.js';
import type { CanTransport } from '../../can/transport/transport.js';
import { BUTTON_NAMES, type ButtonName, type Condition } from './bindings-schema.js';
import type { LoadedBindings } from './bindings-load.js';
import { buttonTransition, type ButtonState, type Press } from './button-machine.js';
import { armed, crashTransition, type CrashState, type CrashTrigger } from './crash-machine.js';

export interface VehicleState {
  ignition: 'on' | 'off' | 'unknown';
  speedKmh: number | undefined;
  occupants: number | undefined;
  propulsion: string | undefined;
  latitude: number | undefined;
  longitude: number | undefined;
  /** Whether the crash message arrives and can be trusted: false is an eCall malfunction to show. */
  crashSensing: boolean;
}

export type EmergencyKind = 'automatic' | 'manual';

export interface EmergencyDetails {
  message: string;
  frames: number;
  /** The decoded crash signals at the trigger, for the MSD and the log. */
  signals: Record<string, number>;
}

export type VehicleEvents = {
  button: [ButtonName, Press];
  emergency: [EmergencyKind, EmergencyDetails];
  state: [VehicleState];
  status: [string, E2eResult];
  error: [string];
};

interface Watched {
  def: MessageDef;
  receiver: E2eReceiverConfig;
  state: E2eReceiverState;
  lastRxAt: number | undefined;
  lastCheckAt: number;
  values: Map<string, DecodedSignal> | undefined;
  lastResult: E2eResult | undefined;
}

const TICK_MS = 20;

function toE2e(cfg: LoadedBindings['bindings']['messages'][string]['e2e']): E2eConfig {
  return cfg === 'none' ? { profile: 'none' } : cfg;
}

/**
 * Hears the car: frames from a transport go through E2E checking and DBC decoding, then through the
 * button, crash and SOS machines; what comes out are events (keys pressed, emergency triggers, vehicle
 * state). The only timer is a 20 ms tick for message timeouts and long presses.
 */
export class VehicleInput {
  readonly events: SafeEmitter<VehicleEvents>;
  private readonly watched = new Map<string, Watched>();
  private readonly buttons = new Map<ButtonName, ButtonState>();
  private sos: ButtonState = { kind: 'released' };
  private crash: CrashState = armed;
  private timer: TimerHandle | undefined;
  private stateValue: VehicleState = {
    ignition: 'unknown',
    speedKmh: undefined,
    occupants: undefined,
    propulsion: undefined,
    latitude: undefined,
    longitude: undefined,
    crashSensing: false,
  };
  framesSeen = 0;

  constructor(
    private readonly loaded: LoadedBindings,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.events = new SafeEmitter((e, ev) =>
      logger.error({ err: errorMessage(e), ev }, 'vehicle listener failed'),
    );
    const start = clock.monotonicMs();
    for (const [name, m] of Object.entries(loaded.bindings.messages)) {
      const def = loaded.db.messages.get(name);
      if (!def) {
        continue;
      }
      this.watched.set(messageKey(def.id, def.extended), {
        def,
        receiver: { ...defaultSm, e2e: toE2e(m.e2e), length: def.length, maxDeltaCounter: m.maxDeltaCounter },
        state: initialReceiverState,
        lastRxAt: undefined,
        lastCheckAt: start,
        values: undefined,
        lastResult: undefined,
      });
    }
    for (const b of BUTTON_NAMES) {
      this.buttons.set(b, { kind: 'released' });
    }
  }

  get state(): VehicleState {
    return this.stateValue;
  }

  async attach(transport: CanTransport): Promise<void> {
    await transport.start(
      (f) => this.onFrame(f),
      (e) => this.events.emit('error', e.message),
    );
    this.scheduleTick();
  }

  private scheduleTick(): void {
    this.timer = this.clock.setTimeout(() => {
      this.tick();
      this.scheduleTick();
    }, TICK_MS);
  }

  stop(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Time passes: messages that stopped arriving go invalid, held keys become long presses. */
  tick(now = this.clock.monotonicMs()): void {
    for (const w of this.watched.values()) {
      const timeout = this.loaded.bindings.messages[w.def.name]?.timeoutMs ?? 1000;
      if (now - Math.max(w.lastRxAt ?? -Infinity, w.lastCheckAt) >= timeout) {
        w.lastCheckAt = now;
        const [state, result] = checkNoData(w.receiver, w.state);
        w.state = state;
        w.lastResult = result;
        if (w.values) {
          w.values = undefined;
          this.logger.warn({ message: w.def.name }, 'CAN message timed out: its signals are invalid');
        }
        this.events.emit('status', w.def.name, result);
        this.invalidate(w.def.name);
      }
    }
    for (const name of BUTTON_NAMES) {
      this.stepButton(name, { type: 'tick', at: now });
    }
    this.stepSos({ type: 'tick', at: now });
    this.updateState();
  }

  /** One frame from the bus. Public so that tests and the benchmark can feed frames directly. */
  onFrame(frame: CanFrame): void {
    this.framesSeen++;
    const w = this.watched.get(messageKey(frame.id, frame.extended));
    if (!w || frame.rtr) {
      return;
    }
    const now = this.clock.monotonicMs();
    w.lastRxAt = now;
    const [state, result] = checkFrame(w.receiver, w.state, frame.data);
    w.state = state;
    w.lastResult = result;
    if (result.status !== 'OK') {
      this.events.emit('status', w.def.name, result);
    }
    if (!result.usable) {
      this.feedCrash(w.def.name, result.status === 'REPEATED' ? 'repeat' : 'unusable', undefined, now);
      this.updateState();
      return;
    }
    const values = decodeMessage(w.def, frame.data);
    w.values = values;
    this.feedCrash(w.def.name, 'usable', values, now);
    const b = this.loaded.bindings;
    for (const name of BUTTON_NAMES) {
      const cond = b.buttons[name];
      if (cond && this.messageOf(cond) === w.def.name) {
        this.stepButton(name, { type: 'sample', held: this.holds(cond, values), at: now });
      }
    }
    if (b.sos && this.messageOf(b.sos) === w.def.name) {
      this.stepSos({
        type: 'sample',
        held: this.holds({ signal: b.sos.signal, equals: b.sos.equals }, values),
        at: now,
      });
    }
    this.updateState();
  }

  private messageOf(c: { signal: string }): string {
    return c.signal.split('.')[0] ?? '';
  }

  private holds(c: Condition, values: Map<string, DecodedSignal> | undefined): boolean {
    const v = values?.get(c.signal.split('.')[1] ?? '');
    if (!v || v.outOfRange) {
      return false;
    }
    return c.equals !== undefined ? v.value === c.equals : v.value >= (c.atLeast ?? Infinity);
  }

  private valuesOf(message: string): Map<string, DecodedSignal> | undefined {
    const def = this.loaded.db.messages.get(message);
    return def ? this.watched.get(messageKey(def.id, def.extended))?.values : undefined;
  }

  private feedCrash(
    message: string,
    kind: 'usable' | 'unusable' | 'repeat',
    values: Map<string, DecodedSignal> | undefined,
    at: number,
  ): void {
    const c = this.loaded.bindings.crash;
    if (!c || !c.triggers.some((t) => this.messageOf(t) === message)) {
      return;
    }
    const own = c.triggers.filter((t) => this.messageOf(t) === message);
    const isCrash =
      kind === 'usable' &&
      own.some((t) => this.holds(t, values)) &&
      !c.inhibitors.some((i) =>
        this.holds(i, this.messageOf(i) === message ? values : this.valuesOf(this.messageOf(i))),
      );
    const [next, triggers] = crashTransition(
      c,
      this.crash,
      kind === 'repeat'
        ? { type: 'repeat' }
        : { type: 'frame', message, usable: kind === 'usable', crash: isCrash, at },
    );
    this.crash = next;
    triggers.forEach((t) => this.emitCrash(t, values));
  }

  private emitCrash(t: CrashTrigger, values: Map<string, DecodedSignal> | undefined): void {
    const signals = Object.fromEntries([...(values ?? [])].map(([k, v]) => [k, v.value]));
    this.logger.warn(
      { message: t.message, frames: t.frames, signals },
      'crash confirmed: automatic eCall trigger',
    );
    this.events.emit('emergency', 'automatic', { message: t.message, frames: t.frames, signals });
  }

  private invalidate(message: string): void {
    const c = this.loaded.bindings.crash;
    if (c?.triggers.some((t) => this.messageOf(t) === message)) {
      this.crash = crashTransition(c, this.crash, { type: 'invalid', message })[0];
    }
    for (const name of BUTTON_NAMES) {
      const cond = this.loaded.bindings.buttons[name];
      if (cond && this.messageOf(cond) === message) {
        this.stepButton(name, { type: 'invalid' });
      }
    }
    const sos = this.loaded.bindings.sos;
    if (sos && this.messageOf(sos) === message) {
      this.stepSos({ type: 'invalid' });
    }
  }

  private stepButton(name: ButtonName, e: Parameters<typeof buttonTransition>[2]): void {
    const [next, presses] = buttonTransition(
      this.loaded.bindings.buttons.longPressMs,
      this.buttons.get(name) ?? { kind: 'released' },
      e,
    );
    this.buttons.set(name, next);
    presses.forEach((p) => this.events.emit('button', name, p));
  }

  private stepSos(e: Parameters<typeof buttonTransition>[2]): void {
    const sos = this.loaded.bindings.sos;
    if (!sos) {
      return;
    }
    // The SOS key acts once it has been held for holdMs: its "long press" is the trigger; a short one is nothing.
    const [next, presses] = buttonTransition(sos.holdMs, this.sos, e);
    this.sos = next;
    if (presses.includes('long')) {
      this.logger.warn({ holdMs: sos.holdMs }, 'SOS button held: manual eCall trigger');
      this.events.emit('emergency', 'manual', { message: this.messageOf(sos), frames: 0, signals: {} });
    }
  }

  private signalValue(ref: string | undefined): DecodedSignal | undefined {
    if (!ref) {
      return undefined;
    }
    const [m = '', s = ''] = ref.split('.');
    return this.valuesOf(m)?.get(s);
  }

  private updateState(): void {
    const v = this.loaded.bindings.vehicle;
    const usable = (ref: string | undefined): number | undefined => {
      const d = this.signalValue(ref);
      return d && !d.outOfRange ? d.value : undefined;
    };
    let occupants: number | undefined;
    if (typeof v.occupants === 'string') {
      occupants = usable(v.occupants);
    } else if (v.occupants) {
      const known = v.occupants.filter((c) => this.signalValue(c.signal) !== undefined);
      occupants =
        known.length > 0
          ? v.occupants.filter((c) => this.holds(c, this.valuesOf(this.messageOf(c)))).length
          : undefined;
    }
    const crashMessages = new Set((this.loaded.bindings.crash?.triggers ?? []).map((t) => this.messageOf(t)));
    const crashSensing =
      crashMessages.size > 0 &&
      [...crashMessages].every((m) => {
        const def = this.loaded.db.messages.get(m);
        const w = def ? this.watched.get(messageKey(def.id, def.extended)) : undefined;
        return w?.lastResult?.sm === 'VALID';
      });
    const ign = v.ignition ? this.signalValue(v.ignition.signal) : undefined;
    const next: VehicleState = {
      ignition:
        ign === undefined || !v.ignition
          ? 'unknown'
          : this.holds(v.ignition, this.valuesOf(this.messageOf(v.ignition)))
            ? 'on'
            : 'off',
      speedKmh: usable(v.speed),
      occupants,
      propulsion:
        this.signalValue(v.propulsion)?.label ??
        (usable(v.propulsion) !== undefined ? String(usable(v.propulsion)) : undefined),
      latitude: usable(v.latitude),
      longitude: usable(v.longitude),
      crashSensing,
    };
    const changed = (Object.keys(next) as (keyof VehicleState)[]).some((k) => next[k] !== this.stateValue[k]);
    if (changed) {
      this.stateValue = next;
      this.events.emit('state', next);
    }
  }
}
