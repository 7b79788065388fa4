import type { Clock } from '../core/clock.js';
import { packageFile } from '../core/package-files.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import type { Line } from '../daemon/line.js';
import { loadBindings, type LoadedBindings } from './bindings-load.js';
import { parseCanSource } from './can-source.js';
import { keyAction } from './call-keys.js';
import {
  VehicleInput,
  type EmergencyDetails,
  type EmergencyKind,
  type VehicleState,
} from './vehicle-input.js';
import type { ButtonName } from './bindings-schema.js';
import type { Press } from './button-machine.js';

export const REFERENCE_BINDINGS = packageFile('can/bindings/carphone-reference.yaml');

export interface VehicleConfig {
  can: string;
  bindings?: string;
  dbc?: string;
}

/** The CAN source and the bindings, read and checked before the daemon starts anything. */
export interface PreparedVehicle {
  transport: ReturnType<typeof parseCanSource>;
  bindings: LoadedBindings;
}

/** Reads what the vehicle section names; ConfigError for a source, bindings file or DBC it cannot use. */
export function prepareVehicle(cfg: VehicleConfig): PreparedVehicle {
  return {
    transport: parseCanSource(cfg.can),
    bindings: loadBindings(cfg.bindings ?? REFERENCE_BINDINGS, cfg.dbc),
  };
}

export interface VehicleHooks {
  button(name: ButtonName, press: Press): void;
  emergency(kind: EmergencyKind, details: EmergencyDetails): void;
  hmi(request: string): void;
  state(s: VehicleState): void;
  sourceError(message: string): void;
}

/**
 * The car side of carphoned: a CAN source, the bindings, the vehicle input, and what the keys do to
 * the first line's calls. A source that cannot be opened is reported (SourceError) and the daemon
 * carries on with its other duties.
 */
export class VehicleService {
  readonly description: string;
  readonly input: VehicleInput;
  private readonly transport;
  error = '';

  constructor(
    prepared: PreparedVehicle,
    private readonly lines: Line[],
    clock: Clock,
    private readonly logger: Logger,
  ) {
    this.transport = prepared.transport;
    this.description = this.transport.description;
    this.input = new VehicleInput(prepared.bindings, clock, logger.child({ part: 'vehicle' }));
  }

  async start(hooks: VehicleHooks): Promise<void> {
    this.input.events.on('button', (name, press) => {
      hooks.button(name, press);
      this.act(name, press, hooks);
    });
    this.input.events.on('emergency', (kind, details) => hooks.emergency(kind, details));
    this.input.events.on('state', (s) => hooks.state(s));
    this.input.events.on('error', (e) => this.logger.warn({ err: e }, 'CAN input'));
    try {
      await this.input.attach(this.transport);
      this.logger.info({ source: this.description }, 'CAN input started');
    } catch (e) {
      this.error = errorMessage(e);
      this.logger.error({ err: this.error }, 'CAN input unavailable; carphoned carries on without it');
      hooks.sourceError(this.error);
    }
  }

  private act(name: ButtonName, press: Press, hooks: VehicleHooks): void {
    const line = this.lines.find((l) => l.powered);
    if (!line) {
      return;
    }
    const calls = line.manager.calls().map((c) => ({ id: c.id, state: c.props.State }));
    const action = keyAction(name, press, calls);
    this.logger.info({ key: name, press, action: action.type }, 'steering-wheel key');
    try {
      switch (action.type) {
        case 'answer':
          line.manager.answer(action.call);
          break;
        case 'hold-and-answer':
          line.manager.holdAndAnswer();
          break;
        case 'hangup':
          line.manager.hangup(action.call);
          break;
        case 'volume':
          line.setVolume({ SpeakerVolume: line.volume.SpeakerVolume + action.delta });
          break;
        case 'toggle-mute':
          line.setVolume({ Muted: !line.volume.Muted });
          break;
        case 'hmi':
          hooks.hmi(action.request);
          break;
        case 'none':
          break;
      }
    } catch (e) {
      this.logger.warn({ key: name, err: errorMessage(e) }, 'steering-wheel key action failed');
    }
  }

  async stop(): Promise<void> {
    this.input.stop();
    await this.transport.stop();
  }
}
