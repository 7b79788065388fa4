import {
  BitReader,
  BitWriter,
  PerError,
  readConstrained,
  readLength,
  writeConstrained,
  writeLength,
} from './bits.js';

/**
 * The eCall Minimum Set of Data in ASN.1 unaligned PER: EN 15722:2020 message format version 3 (module
 * MSDASN1Module, AUTOMATIC TAGS) and EN 15722:2015 version 2. JSON keys are the ASN.1 field names. Every value is validated before
 * encoding: an invalid MSD is an error, never a silently wrong message to a PSAP.
 */
export const MSD_VERSION = 3;

export const VEHICLE_TYPES = [
  'passengerVehicleCategoryM1',
  'busesAndCoachesCategoryM2',
  'busesAndCoachesCategoryM3',
  'lightCommercialVehiclesN1',
  'heavyDutyVehiclesCategoryN2',
  'heavyDutyVehiclesCategoryN3',
  'motorcyclesCategoryL1e',
  'motorcyclesCategoryL2e',
  'motorcyclesCategoryL3e',
  'motorcyclesCategoryL4e',
  'motorcyclesCategoryL5e',
  'motorcyclesCategoryL6e',
  'motorcyclesCategoryL7e',
  'trailersCategoryO',
  'agriVehiclesCategoryR',
  'agriVehiclesCategoryS',
  'agriVehiclesCategoryT',
  'offRoadVehiclesCategoryG',
  'specialPurposeMotorCaravanCategorySA',
  'specialPurposeArmouredVehicleCategorySB',
  'specialPurposeAmbulanceCategorySC',
  'specialPurposeHearseCategorySD',
  'otherVehicleCategory',
] as const;
export type VehicleType = (typeof VEHICLE_TYPES)[number];

/** Version 2's vehicle types (EN 15722:2015): categories M, N and L only, named …Class…. */
export const VEHICLE_TYPES_V2 = [
  'passengerVehicleClassM1',
  'busesAndCoachesClassM2',
  'busesAndCoachesClassM3',
  'lightCommercialVehiclesClassN1',
  'heavyDutyVehiclesClassN2',
  'heavyDutyVehiclesClassN3',
  'motorcyclesClassL1e',
  'motorcyclesClassL2e',
  'motorcyclesClassL3e',
  'motorcyclesClassL4e',
  'motorcyclesClassL5e',
  'motorcyclesClassL6e',
  'motorcyclesClassL7e',
] as const;
export type VehicleTypeV2 = (typeof VEHICLE_TYPES_V2)[number];

/**
 * What differs between the two formats: the vehicle types, whether the two recent positions are
 * OPTIONAL (v2) or mandatory (v3), and the name of the last field.
 */
interface Format {
  vehicleTypes: readonly string[];
  recentOptional: boolean;
  countField: 'numberOfOccupants' | 'numberOfPassengers';
}

const FORMATS: Record<number, Format> = {
  2: { vehicleTypes: VEHICLE_TYPES_V2, recentOptional: true, countField: 'numberOfPassengers' },
  3: { vehicleTypes: VEHICLE_TYPES, recentOptional: false, countField: 'numberOfOccupants' },
};

function formatOf(version: number): Format {
  const f = FORMATS[version];
  if (!f) {
    throw new MsdError('msdVersion', `version ${version}: carphone reads and writes format versions 2 and 3`);
  }
  return f;
}

export const PROPULSION_FIELDS = [
  'gasolineTankPresent',
  'dieselTankPresent',
  'compressedNaturalGas',
  'liquidPropaneGas',
  'electricEnergyStorage',
  'hydrogenStorage',
  'otherStorage',
] as const;
export type PropulsionStorage = Partial<Record<(typeof PROPULSION_FIELDS)[number], boolean>>;

export interface Vin {
  isowmi: string;
  isovds: string;
  isovisModelyear: string;
  isovisSeqPlant: string;
}

export interface LocationDelta {
  latitudeDelta: number;
  longitudeDelta: number;
}

export interface MsdStructure {
  messageIdentifier: number;
  control: {
    automaticActivation: boolean;
    testCall: boolean;
    positionCanBeTrusted: boolean;
    /** A VEHICLE_TYPES name in version 3, a VEHICLE_TYPES_V2 name in version 2. */
    vehicleType: VehicleType | VehicleTypeV2;
  };
  vehicleIdentificationNumber: Vin;
  vehiclePropulsionStorageType: PropulsionStorage;
  timestamp: number;
  vehicleLocation: { positionLatitude: number; positionLongitude: number };
  vehicleDirection: number;
  /** Mandatory in version 3, optional in version 2. */
  recentVehicleLocationN1?: LocationDelta;
  recentVehicleLocationN2?: LocationDelta;
  /** Version 3. */
  numberOfOccupants?: number;
  /** Version 2. */
  numberOfPassengers?: number;
}

export interface AdditionalData {
  /** RELATIVE-OID as dotted arcs, e.g. "8.1". */
  oid: string;
  /** Hex. */
  data: string;
}

export interface Msd {
  msdStructure: MsdStructure;
  optionalAdditionalData?: AdditionalData;
}

export interface ECallMessage {
  msdVersion: number;
  msd: Msd;
}

export class MsdError extends Error {
  constructor(
    /** The field, as a JSON path: msd.msdStructure.vehicleIdentificationNumber.isowmi */
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
    this.name = 'MsdError';
  }
}

/** ISO 3779's VIN alphabet: digits and capitals without I, O, Q; 33 characters, 6 bits each. */
export const VIN_ALPHABET = '0123456789ABCDEFGHJKLMNPRSTUVWXYZ';
const VIN_PARTS: [keyof Vin, number][] = [
  ['isowmi', 3],
  ['isovds', 6],
  ['isovisModelyear', 1],
  ['isovisSeqPlant', 7],
];

/** Splits a 17-character VIN into the MSD's four parts. */
export function splitVin(vin: string): Vin {
  const v = vin.trim().toUpperCase();
  if (v.length !== 17) {
    throw new MsdError('vin', `a VIN has 17 characters, "${vin}" has ${v.length}`);
  }
  return {
    isowmi: v.slice(0, 3),
    isovds: v.slice(3, 9),
    isovisModelyear: v.slice(9, 10),
    isovisSeqPlant: v.slice(10),
  };
}

const MAS_LAT = 324_000_000;
const MAS_LON = 648_000_000;
export const UNKNOWN_POSITION = 2_147_483_647;

/** Degrees to milliarcseconds. */
export function toMilliarcseconds(degrees: number): number {
  return Math.round(degrees * 3_600_000);
}

function check(cond: boolean, field: string, problem: string): void {
  if (!cond) {
    throw new MsdError(field, problem);
  }
}

function int(v: unknown, field: string, lb: number, ub: number): number {
  check(
    typeof v === 'number' && Number.isInteger(v) && v >= lb && v <= ub,
    field,
    `must be an integer from ${lb} to ${ub}, got ${JSON.stringify(v)}`,
  );
  return v as number;
}

function bool(v: unknown, field: string): boolean {
  check(typeof v === 'boolean', field, `must be true or false, got ${JSON.stringify(v)}`);
  return v as boolean;
}

/** Checks every field against EN 15722's rules; throws MsdError naming the first bad one. */
export function validateMsd(m: ECallMessage): void {
  int(m.msdVersion, 'msdVersion', 2, 3);
  const format = formatOf(m.msdVersion);
  const s = m.msd?.msdStructure;
  check(typeof s === 'object' && s !== null, 'msd.msdStructure', 'is missing');
  const p = 'msd.msdStructure';
  int(s.messageIdentifier, `${p}.messageIdentifier`, 0, 255);
  bool(s.control?.automaticActivation, `${p}.control.automaticActivation`);
  bool(s.control?.testCall, `${p}.control.testCall`);
  bool(s.control?.positionCanBeTrusted, `${p}.control.positionCanBeTrusted`);
  check(
    format.vehicleTypes.includes(s.control?.vehicleType),
    `${p}.control.vehicleType`,
    `must be one of ${format.vehicleTypes.join(', ')} (format version ${m.msdVersion})`,
  );
  for (const [k, len] of VIN_PARTS) {
    const v = s.vehicleIdentificationNumber?.[k];
    check(
      typeof v === 'string' && v.length === len,
      `${p}.vehicleIdentificationNumber.${k}`,
      `must be ${len} characters`,
    );
    for (const ch of v) {
      check(
        VIN_ALPHABET.includes(ch),
        `${p}.vehicleIdentificationNumber.${k}`,
        `"${ch}" is not allowed in a VIN (0-9, A-Z without I, O, Q)`,
      );
    }
  }
  for (const [k, v] of Object.entries(s.vehiclePropulsionStorageType ?? {})) {
    check(
      (PROPULSION_FIELDS as readonly string[]).includes(k),
      `${p}.vehiclePropulsionStorageType.${k}`,
      'is not a propulsion storage type',
    );
    bool(v, `${p}.vehiclePropulsionStorageType.${k}`);
  }
  int(s.timestamp, `${p}.timestamp`, 0, 4_294_967_295);
  const lat = int(
    s.vehicleLocation?.positionLatitude,
    `${p}.vehicleLocation.positionLatitude`,
    -(2 ** 31),
    2 ** 31 - 1,
  );
  const lon = int(
    s.vehicleLocation?.positionLongitude,
    `${p}.vehicleLocation.positionLongitude`,
    -(2 ** 31),
    2 ** 31 - 1,
  );
  check(
    lat === UNKNOWN_POSITION || Math.abs(lat) <= MAS_LAT,
    `${p}.vehicleLocation.positionLatitude`,
    `must be within ±${MAS_LAT} mas (±90°) or ${UNKNOWN_POSITION} (unknown)`,
  );
  check(
    lon === UNKNOWN_POSITION || Math.abs(lon) <= MAS_LON,
    `${p}.vehicleLocation.positionLongitude`,
    `must be within ±${MAS_LON} mas (±180°) or ${UNKNOWN_POSITION} (unknown)`,
  );
  const dir = int(s.vehicleDirection, `${p}.vehicleDirection`, 0, 255);
  check(dir <= 179 || dir === 255, `${p}.vehicleDirection`, 'must be 0-179 (2° steps) or 255 (unknown)');
  for (const k of ['recentVehicleLocationN1', 'recentVehicleLocationN2'] as const) {
    if (s[k] === undefined && format.recentOptional) {
      continue;
    }
    int(s[k]?.latitudeDelta, `${p}.${k}.latitudeDelta`, -512, 511);
    int(s[k]?.longitudeDelta, `${p}.${k}.longitudeDelta`, -512, 511);
  }
  const other = format.countField === 'numberOfOccupants' ? 'numberOfPassengers' : 'numberOfOccupants';
  check(
    s[other] === undefined,
    `${p}.${other}`,
    `is not a field of format version ${m.msdVersion} (it has ${format.countField})`,
  );
  const count = s[format.countField];
  if (count !== undefined) {
    int(count, `${p}.${format.countField}`, 0, 255);
  }
  const a = m.msd.optionalAdditionalData;
  if (a) {
    check(/^\d+(\.\d+)*$/.test(a.oid), 'msd.optionalAdditionalData.oid', 'must be dotted arcs such as 8.1');
    check(/^([0-9a-fA-F]{2})*$/.test(a.data), 'msd.optionalAdditionalData.data', 'must be hex');
  }
}

function encodeRelativeOid(oid: string): Uint8Array {
  const out: number[] = [];
  for (const arc of oid.split('.').map(Number)) {
    const septets: number[] = [];
    let v = arc;
    do {
      septets.unshift(v % 128);
      v = Math.floor(v / 128);
    } while (v > 0);
    septets.forEach((s, i) => out.push(i < septets.length - 1 ? s | 0x80 : s));
  }
  return Uint8Array.from(out);
}

function decodeRelativeOid(bytes: Uint8Array): string {
  const arcs: number[] = [];
  let v = 0;
  for (const b of bytes) {
    v = v * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(v);
      v = 0;
    }
  }
  return arcs.join('.');
}

function encodeMsdMessage(msd: Msd, format: Format): Uint8Array {
  const w = new BitWriter();
  const s = msd.msdStructure;
  const count = s[format.countField];
  w.bit(false); // MSDMessage extension bit: no extensions
  w.bit(msd.optionalAdditionalData !== undefined);
  w.bit(false); // MSDStructure extension bit
  if (format.recentOptional) {
    w.bit(s.recentVehicleLocationN1 !== undefined);
    w.bit(s.recentVehicleLocationN2 !== undefined);
  }
  w.bit(count !== undefined);
  writeConstrained(w, s.messageIdentifier, 0, 255);
  w.bit(s.control.automaticActivation);
  w.bit(s.control.testCall);
  w.bit(s.control.positionCanBeTrusted);
  w.bit(false); // VehicleType extension bit
  writeConstrained(w, format.vehicleTypes.indexOf(s.control.vehicleType), 0, format.vehicleTypes.length - 1);
  for (const [k] of VIN_PARTS) {
    for (const ch of s.vehicleIdentificationNumber[k]) {
      writeConstrained(w, VIN_ALPHABET.indexOf(ch), 0, VIN_ALPHABET.length - 1);
    }
  }
  // BOOLEAN DEFAULT FALSE: a canonical encoder leaves out every value equal to its default.
  const prop = s.vehiclePropulsionStorageType;
  w.bit(false); // VehiclePropulsionStorageType extension bit
  for (const k of PROPULSION_FIELDS) {
    w.bit(prop[k] === true);
  }
  for (const k of PROPULSION_FIELDS) {
    if (prop[k] === true) {
      w.bit(true);
    }
  }
  writeConstrained(w, s.timestamp, 0, 4_294_967_295);
  writeConstrained(w, s.vehicleLocation.positionLatitude, -(2 ** 31), 2 ** 31 - 1);
  writeConstrained(w, s.vehicleLocation.positionLongitude, -(2 ** 31), 2 ** 31 - 1);
  writeConstrained(w, s.vehicleDirection, 0, 255); // INTEGER(0..179 | 255): effective range 0..255
  for (const d of [s.recentVehicleLocationN1, s.recentVehicleLocationN2]) {
    if (d) {
      writeConstrained(w, d.latitudeDelta, -512, 511);
      writeConstrained(w, d.longitudeDelta, -512, 511);
    }
  }
  if (count !== undefined) {
    writeConstrained(w, count, 0, 255);
  }
  const a = msd.optionalAdditionalData;
  if (a) {
    const oid = encodeRelativeOid(a.oid);
    writeLength(w, oid.length);
    w.bytesOf(oid);
    const data = Uint8Array.from(Buffer.from(a.data, 'hex'));
    writeLength(w, data.length);
    w.bytesOf(data);
  }
  return w.toBytes();
}

/** Encodes an ECallMessage (msdVersion + the MSD as a contained octet string) to UPER bytes. */
export function encodeECallMessage(m: ECallMessage): Uint8Array {
  validateMsd(m);
  const inner = encodeMsdMessage(m.msd, formatOf(m.msdVersion));
  const w = new BitWriter();
  writeConstrained(w, m.msdVersion, 0, 255);
  writeLength(w, inner.length);
  w.bytesOf(inner);
  return w.toBytes();
}

function decodeMsdMessage(bytes: Uint8Array, format: Format): Msd {
  const r = new BitReader(bytes);
  if (r.bit()) {
    throw new PerError('MSDMessage carries extensions this decoder does not know');
  }
  const hasAdditional = r.bit();
  if (r.bit()) {
    throw new PerError('MSDStructure carries extensions this decoder does not know');
  }
  const hasN1 = format.recentOptional ? r.bit() : true;
  const hasN2 = format.recentOptional ? r.bit() : true;
  const hasCount = r.bit();
  const messageIdentifier = readConstrained(r, 0, 255);
  const automaticActivation = r.bit();
  const testCall = r.bit();
  const positionCanBeTrusted = r.bit();
  if (r.bit()) {
    throw new PerError('vehicleType is an extension value this decoder does not know');
  }
  const vt = format.vehicleTypes[readConstrained(r, 0, format.vehicleTypes.length - 1)] as
    MsdStructure['control']['vehicleType'] | undefined;
  if (!vt) {
    throw new PerError('vehicleType index out of range');
  }
  const vin: Record<string, string> = {};
  for (const [k, len] of VIN_PARTS) {
    let s = '';
    for (let i = 0; i < len; i++) {
      const ch = VIN_ALPHABET[readConstrained(r, 0, VIN_ALPHABET.length - 1)];
      if (ch === undefined) {
        throw new PerError('VIN character index out of range');
      }
      s += ch;
    }
    vin[k] = s;
  }
  if (r.bit()) {
    throw new PerError('vehiclePropulsionStorageType carries extensions this decoder does not know');
  }
  const present = PROPULSION_FIELDS.map(() => r.bit());
  const prop: PropulsionStorage = {};
  PROPULSION_FIELDS.forEach((k, i) => {
    prop[k] = present[i] ? r.bit() : false;
  });
  const timestamp = readConstrained(r, 0, 4_294_967_295);
  const positionLatitude = readConstrained(r, -(2 ** 31), 2 ** 31 - 1);
  const positionLongitude = readConstrained(r, -(2 ** 31), 2 ** 31 - 1);
  const vehicleDirection = readConstrained(r, 0, 255);
  const delta = (): LocationDelta => ({
    latitudeDelta: readConstrained(r, -512, 511),
    longitudeDelta: readConstrained(r, -512, 511),
  });
  const n1 = hasN1 ? delta() : undefined;
  const n2 = hasN2 ? delta() : undefined;
  const structure: MsdStructure = {
    messageIdentifier,
    control: { automaticActivation, testCall, positionCanBeTrusted, vehicleType: vt },
    vehicleIdentificationNumber: vin as unknown as Vin,
    vehiclePropulsionStorageType: prop,
    timestamp,
    vehicleLocation: { positionLatitude, positionLongitude },
    vehicleDirection,
    ...(n1 ? { recentVehicleLocationN1: n1 } : {}),
    ...(n2 ? { recentVehicleLocationN2: n2 } : {}),
    ...(hasCount ? { [format.countField]: readConstrained(r, 0, 255) } : {}),
  };
  const msd: Msd = { msdStructure: structure };
  if (hasAdditional) {
    const oid = decodeRelativeOid(r.bytes(readLength(r)));
    const data = Buffer.from(r.bytes(readLength(r))).toString('hex');
    msd.optionalAdditionalData = { oid, data };
  }
  return msd;
}

/** Decodes UPER bytes of an ECallMessage; throws PerError (malformed) or MsdError (wrong version). */
export function decodeECallMessage(bytes: Uint8Array): ECallMessage {
  const r = new BitReader(bytes);
  const msdVersion = readConstrained(r, 0, 255);
  const format = formatOf(msdVersion);
  const inner = r.bytes(readLength(r));
  return { msdVersion, msd: decodeMsdMessage(inner, format) };
}
