import { describe, expect, it } from 'vitest';
import {
  decodeECallMessage,
  encodeECallMessage,
  MsdError,
  PROPULSION_FIELDS,
  splitVin,
  toMilliarcseconds,
  VEHICLE_TYPES,
  VIN_ALPHABET,
  type ECallMessage,
} from '../../../service/ecall/msd/msd.js';
import { asn1cPerToXer, asn1cXerToPer, parseXer, type XerObject } from '../../harness/asn1c.js';

const sample = (): ECallMessage => ({
  msdVersion: 3,
  msd: {
    msdStructure: {
      messageIdentifier: 1,
      control: {
        automaticActivation: true,
        testCall: false,
        positionCanBeTrusted: true,
        vehicleType: 'passengerVehicleCategoryM1',
      },
      vehicleIdentificationNumber: splitVin('WVWZZZ1KZAW123456'),
      vehiclePropulsionStorageType: { gasolineTankPresent: true, electricEnergyStorage: true },
      timestamp: 1_795_545_600,
      vehicleLocation: {
        positionLatitude: toMilliarcseconds(52.520008),
        positionLongitude: toMilliarcseconds(13.404954),
      },
      vehicleDirection: 45,
      recentVehicleLocationN1: { latitudeDelta: -10, longitudeDelta: 5 },
      recentVehicleLocationN2: { latitudeDelta: 511, longitudeDelta: -512 },
      numberOfOccupants: 2,
    },
    optionalAdditionalData: { oid: '8.1', data: '0102ff' },
  },
});

/** What asn1c's XER shows for our MSD, in the same shape as our JSON. */
function expectedXer(m: ECallMessage): unknown {
  const s = m.msd.msdStructure;
  const str = (n: number): string => String(n);
  return {
    MSDMessage: {
      msdStructure: {
        messageIdentifier: str(s.messageIdentifier),
        control: { ...s.control, vehicleType: s.control.vehicleType },
        vehicleIdentificationNumber: s.vehicleIdentificationNumber,
        vehiclePropulsionStorageType: Object.fromEntries(
          PROPULSION_FIELDS.filter((k) => s.vehiclePropulsionStorageType[k]).map((k) => [k, true]),
        ),
        timestamp: str(s.timestamp),
        vehicleLocation: {
          positionLatitude: str(s.vehicleLocation.positionLatitude),
          positionLongitude: str(s.vehicleLocation.positionLongitude),
        },
        vehicleDirection: str(s.vehicleDirection),
        recentVehicleLocationN1: {
          latitudeDelta: str(s.recentVehicleLocationN1?.latitudeDelta ?? 0),
          longitudeDelta: str(s.recentVehicleLocationN1?.longitudeDelta ?? 0),
        },
        recentVehicleLocationN2: {
          latitudeDelta: str(s.recentVehicleLocationN2?.latitudeDelta ?? 0),
          longitudeDelta: str(s.recentVehicleLocationN2?.longitudeDelta ?? 0),
        },
        ...(s.numberOfOccupants !== undefined ? { numberOfOccupants: str(s.numberOfOccupants) } : {}),
      },
      ...(m.msd.optionalAdditionalData
        ? {
            optionalAdditionalData: {
              oid: m.msd.optionalAdditionalData.oid,
              data: m.msd.optionalAdditionalData.data.toUpperCase().replace(/(..)(?!$)/g, '$1 '),
            },
          }
        : {}),
    },
  };
}

describe('MSD (EN 15722 v3) against asn1c, an independent UPER codec', () => {
  it('asn1c decodes our encoding to the same fields, and its own encoding of them is ours bit for bit', () => {
    const m = sample();
    const bytes = encodeECallMessage(m);
    expect(bytes[0]).toBe(3); // msdVersion readable without decoding the MSD
    const outer = parseXer(asn1cPerToXer('ECallMessage', bytes));
    expect((outer.ECallMessage as Record<string, unknown>).msdVersion).toBe('3');
    const inner = bytes.subarray(2);
    expect(bytes[1]).toBe(inner.length);
    const xer = asn1cPerToXer('MSDMessage', inner);
    expect(parseXer(xer)).toEqual(expectedXer(m));
    expect(Buffer.from(asn1cXerToPer('MSDMessage', xer)).toString('hex')).toBe(
      Buffer.from(inner).toString('hex'),
    );
  });

  it('agrees with asn1c bit for bit on 150 random valid MSDs, and decodes each back to itself', () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const vinPart = (len: number): string =>
      Array.from({ length: len }, () => VIN_ALPHABET[rnd(33)]).join('');
    for (let i = 0; i < 150; i++) {
      const m: ECallMessage = {
        msdVersion: 3,
        msd: {
          msdStructure: {
            messageIdentifier: rnd(256),
            control: {
              automaticActivation: rnd(2) === 1,
              testCall: rnd(2) === 1,
              positionCanBeTrusted: rnd(2) === 1,
              vehicleType: VEHICLE_TYPES[rnd(VEHICLE_TYPES.length)] ?? 'otherVehicleCategory',
            },
            vehicleIdentificationNumber: {
              isowmi: vinPart(3),
              isovds: vinPart(6),
              isovisModelyear: vinPart(1),
              isovisSeqPlant: vinPart(7),
            },
            vehiclePropulsionStorageType: Object.fromEntries(PROPULSION_FIELDS.map((k) => [k, rnd(3) === 0])),
            timestamp: rnd(2 ** 31) * 2 + rnd(2),
            vehicleLocation: {
              positionLatitude: rnd(648_000_001) - 324_000_000,
              positionLongitude: rnd(1_296_000_001) - 648_000_000,
            },
            vehicleDirection: rnd(10) === 0 ? 255 : rnd(180),
            recentVehicleLocationN1: { latitudeDelta: rnd(1024) - 512, longitudeDelta: rnd(1024) - 512 },
            recentVehicleLocationN2: { latitudeDelta: rnd(1024) - 512, longitudeDelta: rnd(1024) - 512 },
            ...(rnd(2) === 0 ? { numberOfOccupants: rnd(256) } : {}),
          },
          ...(rnd(4) === 0
            ? {
                optionalAdditionalData: {
                  oid: `${rnd(200)}.${rnd(20000)}`,
                  data: Buffer.from([rnd(256), rnd(256)]).toString('hex'),
                },
              }
            : {}),
        },
      };
      const bytes = encodeECallMessage(m);
      const inner = bytes.subarray(2);
      const xer = asn1cPerToXer('MSDMessage', inner);
      expect(parseXer(xer)).toEqual(expectedXer(m));
      expect(Buffer.from(asn1cXerToPer('MSDMessage', xer)).toString('hex')).toBe(
        Buffer.from(inner).toString('hex'),
      );
      const back = decodeECallMessage(bytes);
      expect(back.msd.msdStructure).toEqual({
        ...m.msd.msdStructure,
        vehiclePropulsionStorageType: Object.fromEntries(
          PROPULSION_FIELDS.map((k) => [k, m.msd.msdStructure.vehiclePropulsionStorageType[k] === true]),
        ),
      });
      expect(back.msd.optionalAdditionalData).toEqual(m.msd.optionalAdditionalData);
    }
  });

  it('decodes what asn1c encodes from a hand-written XER document', () => {
    const xer = `<MSDMessage><msdStructure><messageIdentifier>7</messageIdentifier><control><automaticActivation><false/></automaticActivation><testCall><true/></testCall><positionCanBeTrusted><false/></positionCanBeTrusted><vehicleType><motorcyclesCategoryL3e/></vehicleType></control><vehicleIdentificationNumber><isowmi>1HG</isowmi><isovds>CM8263</isovds><isovisModelyear>3</isovisModelyear><isovisSeqPlant>A004352</isovisSeqPlant></vehicleIdentificationNumber><vehiclePropulsionStorageType><dieselTankPresent><true/></dieselTankPresent></vehiclePropulsionStorageType><timestamp>0</timestamp><vehicleLocation><positionLatitude>2147483647</positionLatitude><positionLongitude>2147483647</positionLongitude></vehicleLocation><vehicleDirection>255</vehicleDirection><recentVehicleLocationN1><latitudeDelta>0</latitudeDelta><longitudeDelta>0</longitudeDelta></recentVehicleLocationN1><recentVehicleLocationN2><latitudeDelta>-1</latitudeDelta><longitudeDelta>1</longitudeDelta></recentVehicleLocationN2></msdStructure></MSDMessage>`;
    const inner = asn1cXerToPer('MSDMessage', xer);
    const bytes = Uint8Array.from([3, inner.length, ...inner]);
    const m = decodeECallMessage(bytes).msd.msdStructure;
    expect(m).toMatchObject({
      messageIdentifier: 7,
      control: {
        automaticActivation: false,
        testCall: true,
        positionCanBeTrusted: false,
        vehicleType: 'motorcyclesCategoryL3e',
      },
      vehicleIdentificationNumber: {
        isowmi: '1HG',
        isovds: 'CM8263',
        isovisModelyear: '3',
        isovisSeqPlant: 'A004352',
      },
      vehiclePropulsionStorageType: { dieselTankPresent: true, gasolineTankPresent: false },
      vehicleLocation: { positionLatitude: 2147483647, positionLongitude: 2147483647 },
      vehicleDirection: 255,
      recentVehicleLocationN2: { latitudeDelta: -1, longitudeDelta: 1 },
    });
    expect(m.numberOfOccupants).toBeUndefined();
  });
});

describe('MSD validation: an invalid value is an error, never a wrong MSD', () => {
  const bad = (patch: (m: ECallMessage) => void): string => {
    const m = sample();
    patch(m);
    try {
      encodeECallMessage(m);
    } catch (e) {
      if (e instanceof MsdError) {
        return e.field;
      }
      throw e;
    }
    throw new Error('accepted');
  };
  const s = 'msd.msdStructure';

  it('refuses VIN letters ISO 3779 excludes and wrong lengths', () => {
    expect(bad((m) => (m.msd.msdStructure.vehicleIdentificationNumber.isovds = 'ZZZ1KI'))).toBe(
      `${s}.vehicleIdentificationNumber.isovds`,
    );
    expect(bad((m) => (m.msd.msdStructure.vehicleIdentificationNumber.isowmi = 'wvw'))).toBe(
      `${s}.vehicleIdentificationNumber.isowmi`,
    );
    expect(bad((m) => (m.msd.msdStructure.vehicleIdentificationNumber.isovisSeqPlant = '12345'))).toBe(
      `${s}.vehicleIdentificationNumber.isovisSeqPlant`,
    );
    expect(() => splitVin('WVWZZZ1KZAW12345')).toThrow(/17 characters/);
  });

  it('refuses positions off the globe, directions that are not 2° steps, deltas out of range', () => {
    expect(bad((m) => (m.msd.msdStructure.vehicleLocation.positionLatitude = 324_000_001))).toBe(
      `${s}.vehicleLocation.positionLatitude`,
    );
    expect(bad((m) => (m.msd.msdStructure.vehicleLocation.positionLongitude = -648_000_001))).toBe(
      `${s}.vehicleLocation.positionLongitude`,
    );
    expect(bad((m) => (m.msd.msdStructure.vehicleDirection = 180))).toBe(`${s}.vehicleDirection`);
    expect(
      bad((m) => ((m.msd.msdStructure.recentVehicleLocationN1 ?? { latitudeDelta: 0 }).latitudeDelta = 512)),
    ).toBe(`${s}.recentVehicleLocationN1.latitudeDelta`);
    expect(bad((m) => (m.msd.msdStructure.numberOfOccupants = 256))).toBe(`${s}.numberOfOccupants`);
    expect(bad((m) => (m.msd.msdStructure.timestamp = -1))).toBe(`${s}.timestamp`);
  });

  it('refuses an unknown vehicle type, propulsion type or message version', () => {
    expect(bad((m) => ((m.msd.msdStructure.control as { vehicleType: string }).vehicleType = 'tank'))).toBe(
      `${s}.control.vehicleType`,
    );
    expect(
      bad((m) => ((m.msd.msdStructure.vehiclePropulsionStorageType as Record<string, boolean>).steam = true)),
    ).toBe(`${s}.vehiclePropulsionStorageType.steam`);
    expect(bad((m) => (m.msdVersion = 4))).toBe('msdVersion');
    // A version 3 vehicle type in a version 2 MSD is refused too.
    expect(bad((m) => (m.msdVersion = 2))).toBe(`${s}.control.vehicleType`);
  });

  it('refuses to decode truncated or foreign data', () => {
    const bytes = encodeECallMessage(sample());
    expect(() => decodeECallMessage(bytes.subarray(0, 10))).toThrow(/ends early/);
    expect(() => decodeECallMessage(Uint8Array.from([4, 0]))).toThrow(/version 4/);
  });
});

describe('MSD format version 2 (EN 15722:2015)', () => {
  // A published example MSD (ECALLEXAMPLE02023), as it circulates in eCall test tools with its field-by-field
  // decode; its encoder writes all seven propulsion booleans explicitly, as some v2 encoders do.
  const published = '02251C0680E30A51439E2955D43800800837F80C9FD707F09A94BDD30E55E080000001FFFFE040';
  const bytes = Uint8Array.from(Buffer.from(published, 'hex'));

  it('decodes the published example MSD to the fields published with it', () => {
    const m = decodeECallMessage(bytes);
    expect(m.msdVersion).toBe(2);
    expect(m.msd.msdStructure).toEqual({
      messageIdentifier: 1,
      control: {
        automaticActivation: true,
        testCall: false,
        positionCanBeTrusted: true,
        vehicleType: 'passengerVehicleClassM1',
      },
      vehicleIdentificationNumber: {
        isowmi: 'ECA',
        isovds: 'LLEXAM',
        isovisModelyear: 'P',
        isovisSeqPlant: 'LE02023',
      },
      vehiclePropulsionStorageType: Object.fromEntries(
        PROPULSION_FIELDS.map((k) => [k, k === 'gasolineTankPresent']),
      ),
      timestamp: 1694414911,
      vehicleLocation: { positionLatitude: 81044974, positionLongitude: 410169092 },
      vehicleDirection: 0,
      recentVehicleLocationN1: { latitudeDelta: -512, longitudeDelta: -512 },
      recentVehicleLocationN2: { latitudeDelta: 511, longitudeDelta: 511 },
      numberOfPassengers: 2,
    });
  });

  it("asn1c (v2 module) reads the published example and carphone's canonical re-encoding of it as the same MSD", () => {
    const ours = encodeECallMessage(decodeECallMessage(bytes));
    expect(ours[0]).toBe(2);
    // The published encoding carries FALSE defaults explicitly, ours leaves them out: compare without them.
    const withoutDefaults = (x: XerObject): XerObject => {
      const s = (x.MSDMessage as XerObject).msdStructure as XerObject;
      s.vehiclePropulsionStorageType = Object.fromEntries(
        Object.entries(s.vehiclePropulsionStorageType as XerObject).filter(([, v]) => v !== false),
      );
      return x;
    };
    const theirs = withoutDefaults(parseXer(asn1cPerToXer('MSDMessage', bytes.subarray(2), 2)));
    const mine = withoutDefaults(parseXer(asn1cPerToXer('MSDMessage', ours.subarray(2), 2)));
    expect(mine).toEqual(theirs);
    expect(theirs).toMatchObject({
      MSDMessage: {
        msdStructure: { numberOfPassengers: '2', vehicleIdentificationNumber: { isowmi: 'ECA' } },
      },
    });
    // The canonical encoding leaves out the six FALSE propulsion defaults: 12 bits shorter, one octet less.
    expect(ours.length).toBe(bytes.length - 1);
    expect(
      Buffer.from(asn1cXerToPer('MSDMessage', asn1cPerToXer('MSDMessage', ours.subarray(2), 2), 2)).toString(
        'hex',
      ),
    ).toBe(Buffer.from(ours.subarray(2)).toString('hex'));
  });

  it('leaves out the optional recent positions of version 2 when unknown, and refuses v3 fields in it', () => {
    const m = decodeECallMessage(bytes);
    delete m.msd.msdStructure.recentVehicleLocationN1;
    delete m.msd.msdStructure.recentVehicleLocationN2;
    const again = decodeECallMessage(encodeECallMessage(m));
    expect(again.msd.msdStructure.recentVehicleLocationN1).toBeUndefined();
    expect(again.msd.msdStructure.numberOfPassengers).toBe(2);
    m.msd.msdStructure.numberOfOccupants = 1;
    expect(() => encodeECallMessage(m)).toThrow(/numberOfOccupants: is not a field of format version 2/);
  });
});
