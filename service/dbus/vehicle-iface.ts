import dbus from 'dbus-next';
import type { Logger } from '../log/logger.js';
import type { VehicleState } from '../vehicle/vehicle-input.js';
import { defineMembers, OfonoInterface } from './ofono-interface.js';

type Variant = InstanceType<typeof dbus.Variant>;

export interface VehicleModel {
  source: string;
  sourceError: string;
  state: VehicleState | undefined;
}

/** org.carphone.Vehicle at /vehicle: what carphoned hears from the car (docs/api/vehicle-api.txt). */
export class VehicleInterface extends OfonoInterface {
  constructor(
    private readonly model: VehicleModel,
    logger: Logger,
  ) {
    super('org.carphone.Vehicle', logger);
  }

  protected properties(): object {
    const s = this.model.state;
    return {
      Source: this.model.source,
      SourceError: this.model.sourceError,
      Ignition: s?.ignition ?? 'unknown',
      CrashSensing: s?.crashSensing ?? false,
      Speed: s?.speedKmh,
      Occupants: s?.occupants,
      Propulsion: s?.propulsion,
      Latitude: s?.latitude,
      Longitude: s?.longitude,
    };
  }

  Button(name: string, press: string): [string, string] {
    return [name, press];
  }

  EmergencyTrigger(kind: string, details: Record<string, Variant>): [string, Record<string, Variant>] {
    return [kind, details];
  }

  HmiRequest(request: string): string {
    return request;
  }
}

defineMembers(
  VehicleInterface,
  'org.carphone.Vehicle',
  {},
  { Button: 'ss', EmergencyTrigger: 'sa{sv}', HmiRequest: 's' },
);
