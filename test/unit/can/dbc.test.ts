import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, bitPositions } from '../../../can/dbc/codec.js';
import { DbcSyntaxError, loadDbc, parseDbc } from '../../../can/dbc/parse.js';
import { messageKey, type Database, type MessageDef } from '../../../can/dbc/model.js';

const REPO = join(import.meta.dirname, '../../..');
const SHARED = join(REPO, '../shared/data/dbc');
const reference = loadDbc(join(REPO, 'can/dbc/carphone-reference.dbc'));

function msg(db: Database, name: string): MessageDef {
  const m = db.messages.get(name);
  if (!m) {
    throw new Error(`no message ${name}`);
  }
  return m;
}

const bytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex.replace(/\s/g, ''), 'hex'));
const values = (m: MessageDef, hex: string): Record<string, number> =>
  Object.fromEntries([...decodeMessage(m, bytes(hex))].map(([k, v]) => [k, v.value]));

describe('DBC decoding against hand-computed frames', () => {
  it('Motorola unsigned: VehicleSpeed 15|16@0+ (0.01) from bytes 1..2 = 27 10 is 100.00 km/h', () => {
    expect(values(msg(reference, 'CP_VehicleState'), '02 27 10 04 00 00 00 00')).toMatchObject({
      VehicleSpeed: 100,
      Ignition: 2,
      Propulsion: 4,
    });
  });

  it('Motorola signed across a byte boundary: OutsideTemp 39|10@0- (0.5)', () => {
    // -1 raw = 11 1111 1111: all of byte 4, then bits 7..6 of byte 5.
    expect(values(msg(reference, 'CP_VehicleState'), '00 00 00 00 FF C0 00 00').OutsideTemp).toBe(-0.5);
    // -40 raw = 11 1101 1000 → byte 4 = 1111 0110, byte 5 bits 7..6 = 00.
    expect(values(msg(reference, 'CP_VehicleState'), '00 00 00 00 F6 00 00 00').OutsideTemp).toBe(-20);
    // +170 raw = 00 1010 1010 → byte 4 = 0010 1010, byte 5 = 10xx xxxx; the low 6 bits of byte 5 are not ours.
    expect(values(msg(reference, 'CP_VehicleState'), '00 00 00 00 2A BF 00 00').OutsideTemp).toBe(85);
  });

  it('walks Motorola bits MSB first through the sawtooth numbering', () => {
    expect(bitPositions({ startBit: 39, length: 10, byteOrder: 'motorola' })).toEqual([
      39, 38, 37, 36, 35, 34, 33, 32, 47, 46,
    ]);
    expect(bitPositions({ startBit: 4, length: 3, byteOrder: 'intel' })).toEqual([6, 5, 4]);
  });

  it('Intel signed 32-bit with a 1e-7 factor, on an extended identifier', () => {
    const pos = msg(reference, 'CP_Position');
    expect(pos).toMatchObject({ id: 0x18fef1fe, extended: true });
    // 48.1372000 deg = 481372000 = 0x1CB12760, little endian 60 27 B1 1C; -11.5 deg = -115000000 = 0xF9253D40 → 40 3D 25 F9.
    const v = values(pos, '60 27 B1 1C 40 3D 25 F9');
    expect(v.Latitude).toBeCloseTo(48.1372, 7);
    expect(v.Longitude).toBeCloseTo(-11.5, 7);
    expect(reference.byId.get(messageKey(0x18fef1fe, true))?.name).toBe('CP_Position');
  });

  it('decodes only the multiplexed signals the multiplexer selects', () => {
    const diag = msg(reference, 'CP_Diagnostics');
    const one = decodeMessage(diag, bytes('01 A0 32 00 00 00 00 00'));
    expect(one.get('BatteryVoltage')?.value).toBeCloseTo(12.96, 3);
    expect(one.has('Odometer')).toBe(false);
    const two = decodeMessage(diag, bytes('02 40 E2 01 00 00 00 00'));
    expect(two.get('Odometer')?.value).toBe(123456);
    expect(two.has('BatteryVoltage')).toBe(false);
  });

  it('gives value-table labels and flags values outside [min|max]', () => {
    const d = decodeMessage(msg(reference, 'CP_VehicleState'), bytes('03 00 00 07 00 00 00 00'));
    expect(d.get('Ignition')?.label).toBe('Start');
    expect(d.get('Propulsion')?.label).toBe('Unknown');
    const crash = decodeMessage(msg(reference, 'CP_Crash'), bytes('00 00 00 00 0F 00 00 00'));
    expect(crash.get('SeatsOccupied')).toMatchObject({ value: 15, outOfRange: true });
  });

  it('encodes what it decodes', () => {
    const m = msg(reference, 'CP_VehicleState');
    const data = encodeMessage(m, { VehicleSpeed: 87.65, OutsideTemp: -7.5, Ignition: 2 });
    expect(values(m, Buffer.from(data).toString('hex'))).toMatchObject({
      VehicleSpeed: 87.65,
      OutsideTemp: -7.5,
      Ignition: 2,
    });
  });
});

describe('real DBC files from opendbc', () => {
  const vw = loadDbc(join(SHARED, 'vw_meb_common.dbc'));
  const hyundai = loadDbc(join(SHARED, 'hyundai_2015_ccan.dbc'));

  it('reads VW MEB Airbag_01 frames as their E2E counter and crash bits', () => {
    const airbag = msg(vw, 'Airbag_01');
    expect(airbag).toMatchObject({ id: 0x40, length: 8 });
    expect(values(airbag, '6002210000000000')).toMatchObject({
      Airbag_01_CRC: 0x60,
      Airbag_01_BZ: 2,
      AB_Front_Crash: 1,
      AB_Crash_Int: 1,
      AB_Heck_Crash: 0,
    });
  });

  it('reads the VW MFL_01 Hook key with its label', () => {
    const d = decodeMessage(msg(vw, 'MFL_01'), bytes('01 1C 00 01 00 00 00 00'));
    expect(d.get('MFL_Tastencode_1')).toMatchObject({ value: 28, label: 'Hook' });
    expect(d.get('MFL_Eventcode_1')?.value).toBe(1);
  });

  it('reads the Hyundai steering-wheel call switch and the airbag crash bit', () => {
    expect(values(msg(hyundai, 'GW_SWRC_PE'), '00 04 00 00 00 00 00 00')).toMatchObject({
      C_BTPhoneCallSW: 1,
      C_BTPhoneHangUpSW: 0,
    });
    expect(values(msg(hyundai, 'ACU13'), '01 00 00 00 00 00 00 00').CF_Acu_CshAct).toBe(1);
    expect(msg(hyundai, 'ACU11').id).toBe(0x5a0);
  });

  it('parses every message of both files', () => {
    expect(vw.messages.size).toBeGreaterThan(100);
    expect(hyundai.messages.size).toBeGreaterThan(50);
  });
});

describe('DBC syntax errors', () => {
  it('names the line of a malformed signal', () => {
    const text =
      'VERSION ""\n\nBO_ 100 M: 8 X\n SG_ A : 0|8@1+ (1,0) [0|255] "" X\n SG_ B : 8|8@2+ (1,0) [0|1] "" X\n';
    expect(() => parseDbc(text, 'bad.dbc')).toThrow(DbcSyntaxError);
    expect(() => parseDbc(text, 'bad.dbc')).toThrow(/^bad\.dbc:5: malformed signal definition/);
  });

  it('names the line of a signal outside any message, a bad id and a signal past the frame end', () => {
    expect(() => parseDbc('BU_: X\n SG_ A : 0|8@1+ (1,0) [0|1] "" X\n')).toThrow(
      /DBC:2: signal outside a message/,
    );
    expect(() => parseDbc('BO_ 4294967295 M: 8 X\n')).toThrow(/DBC:1: identifier 4294967295 is out of range/);
    expect(parseDbc('BO_ 316495015 M: 8 X\n').messages.get('M')).toMatchObject({
      id: 316495015,
      extended: true,
    });
    expect(() => parseDbc('BO_ 10 M: 2 X\n SG_ A : 12|8@1+ (1,0) [0|1] "" X\n')).toThrow(
      /DBC:2: signal A does not fit in 2 bytes/,
    );
  });

  it('accepts comments and value tables that span lines and hold any bytes', () => {
    const db = parseDbc(
      'BO_ 10 M: 1 X\n SG_ A : 0|2@1+ (1,0) [0|3] "" X\n\nCM_ SG_ 10 A "two\nlines";\nVAL_ 10 A 0 "verf\u00c3\u00bcgbar" 1 "x" ;\n',
    );
    expect(db.messages.get('M')?.signals.get('A')?.comment).toBe('two\nlines');
    expect(db.messages.get('M')?.signals.get('A')?.values.get(0)).toBe('verf\u00c3\u00bcgbar');
  });
});

describe('CAN FD messages', () => {
  it('decodes signals anywhere in a 64-byte frame', () => {
    const db = parseDbc(
      'BO_ 291 FD_Status: 64 X\n SG_ Head : 0|8@1+ (1,0) [0|255] "" X\n SG_ Tail : 504|8@1+ (1,0) [0|255] "" X\n SG_ TailBE : 495|16@0+ (1,0) [0|65535] "" X\n',
    );
    const m = db.messages.get('FD_Status');
    expect(m?.length).toBe(64);
    const data = new Uint8Array(64);
    data[0] = 0x11;
    data[61] = 0xab;
    data[62] = 0xcd;
    data[63] = 0x7e;
    const d = decodeMessage(m as MessageDef, data);
    expect(d.get('Head')?.value).toBe(0x11);
    expect(d.get('Tail')?.value).toBe(0x7e);
    expect(d.get('TailBE')?.value).toBe(0xabcd);
  });
});
