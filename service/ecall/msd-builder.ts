import {
  MSD_VERSION,
  PROPULSION_FIELDS,
  splitVin,
  toMilliarcseconds,
  UNKNOWN_POSITION,
  VEHICLE_TYPES,
  type ECallMessage,
  type PropulsionStorage,
  type VehicleType,
} from './msd/msd.js';
import type { Trigger } from './ecall-machine.js';

export interface VehicleIdentity {
  vin: string;
  vehicleType: string;
  propulsion: string[];
}

export interface Fix {
  latitude: number;
  longitude: number;
  /** Course over ground from the receiver, degrees from north. */
  course?: number;
  at: number;
}

/**
 * How old the newest fix may be for the MSD to call the position trustworthy. EN 15722 trusts a
 * position within ±150 m (95 % confidence); a car at 54 km/h covers that in 10 s, so an older fix
 * (the receiver lost the sky in a tunnel, or its antenna in the crash) is sent, but as not trusted.
 */
export const TRUSTED_FIX_AGE_MS = 10_000;

/**
 * Keeps the last positions the car reported, for the MSD's position, direction and the two recent
 * positions (deltas of 100 mas, N1 relative to the current position, N2 relative to N1), and when a
 * fix last came, on the monotonic clock: a standing car's fixes repeat one position and still count.
 */
export class PositionTrack {
  private readonly fixes: Fix[] = [];
  private lastFixAtMs: number | undefined;

  constructor(private readonly clock: { monotonicMs(): number }) {}

  /** Whether a fix came within TRUSTED_FIX_AGE_MS. */
  get fresh(): boolean {
    return (
      this.lastFixAtMs !== undefined && this.clock.monotonicMs() - this.lastFixAtMs <= TRUSTED_FIX_AGE_MS
    );
  }

  add(fix: Fix): void {
    this.lastFixAtMs = this.clock.monotonicMs();
    const last = this.fixes.at(-1);
    if (last && last.latitude === fix.latitude && last.longitude === fix.longitude) {
      return;
    }
    this.fixes.push(fix);
    if (this.fixes.length > 3) {
      this.fixes.shift();
    }
  }

  get current(): Fix | undefined {
    return this.fixes.at(-1);
  }

  recent(): Fix[] {
    return [...this.fixes].reverse();
  }
}

const clampDelta = (mas: number): number => Math.max(-512, Math.min(511, Math.round(mas / 100)));

/** MSD vehicleDirection: 2° steps clockwise from north (0-179), 255 when unknown. */
function direction(from: Fix | undefined, to: Fix | undefined): number {
  if (to?.course !== undefined && Number.isFinite(to.course)) {
    return Math.floor((((to.course % 360) + 360) % 360) / 2);
  }
  if (!from || !to) {
    return 255;
  }
  const dLat = to.latitude - from.latitude;
  const dLon = (to.longitude - from.longitude) * Math.cos((to.latitude * Math.PI) / 180);
  if (dLat === 0 && dLon === 0) {
    return 255;
  }
  const deg = ((Math.atan2(dLon, dLat) * 180) / Math.PI + 360) % 360;
  return Math.floor(deg / 2) % 180;
}

export interface MsdInputs {
  trigger: Trigger;
  messageIdentifier: number;
  identity: VehicleIdentity;
  occupants: number | undefined;
  track: PositionTrack;
  /** Used when the track is empty; reported as not trustworthy. */
  fallback?: { latitude: number; longitude: number };
}

/** The MSD of one eCall, from the configured identity and what the car reports. */
export function buildMsd(i: MsdInputs): ECallMessage {
  const [now, n1, n2] = i.track.recent();
  const position = now ?? (i.fallback ? { ...i.fallback, at: i.trigger.at } : undefined);
  const lat = position ? toMilliarcseconds(position.latitude) : UNKNOWN_POSITION;
  const lon = position ? toMilliarcseconds(position.longitude) : UNKNOWN_POSITION;
  const delta = (
    a: Fix | undefined,
    b: Fix | undefined,
  ): { latitudeDelta: number; longitudeDelta: number } =>
    a && b
      ? {
          latitudeDelta: clampDelta(toMilliarcseconds(b.latitude) - toMilliarcseconds(a.latitude)),
          longitudeDelta: clampDelta(toMilliarcseconds(b.longitude) - toMilliarcseconds(a.longitude)),
        }
      : { latitudeDelta: 0, longitudeDelta: 0 };
  const propulsion: PropulsionStorage = {};
  for (const k of PROPULSION_FIELDS) {
    if (i.identity.propulsion.includes(k)) {
      propulsion[k] = true;
    }
  }
  const vehicleType = (VEHICLE_TYPES as readonly string[]).includes(i.identity.vehicleType)
    ? (i.identity.vehicleType as VehicleType)
    : 'otherVehicleCategory';
  return {
    msdVersion: MSD_VERSION,
    msd: {
      msdStructure: {
        messageIdentifier: i.messageIdentifier,
        control: {
          automaticActivation: i.trigger.activation === 'automatic',
          testCall: i.trigger.test,
          positionCanBeTrusted: now !== undefined && i.track.fresh,
          vehicleType,
        },
        vehicleIdentificationNumber: splitVin(i.identity.vin),
        vehiclePropulsionStorageType: propulsion,
        timestamp: Math.floor(i.trigger.at / 1000),
        vehicleLocation: { positionLatitude: lat, positionLongitude: lon },
        vehicleDirection: direction(n1, now),
        recentVehicleLocationN1: delta(now, n1),
        recentVehicleLocationN2: delta(n1, n2),
        ...(i.occupants !== undefined
          ? { numberOfOccupants: Math.max(0, Math.min(255, Math.round(i.occupants))) }
          : {}),
      },
    },
  };
}
