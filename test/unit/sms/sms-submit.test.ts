import { describe, expect, it } from 'vitest';
import { gsm7Septets, packSeptets } from '../../../service/sms/gsm7.js';
import { bcdAddress, smsSubmit } from '../../../service/sms/submit.js';
import { SmsError } from '../../../service/sms/tpdu.js';

const counter = (start = 1): (() => number) => {
  let n = start;
  return () => n++;
};

/** The fields of an SMS-SUBMIT, read by byte offsets here, apart from carphone's code. */
function fields(tpdu: Uint8Array): {
  first: number;
  mr: number;
  da: string;
  dcs: number;
  vp: number;
  udl: number;
  ud: string;
} {
  const b = [...tpdu];
  const daOctets = Math.ceil((b[2] ?? 0) / 2);
  const at = 4 + daOctets;
  return {
    first: b[0] ?? -1,
    mr: b[1] ?? -1,
    da: Buffer.from(b.slice(2, at)).toString('hex'),
    dcs: b[at + 1] ?? -1,
    vp: b[at + 2] ?? -1,
    udl: b[at + 3] ?? -1,
    ud: Buffer.from(b.slice(at + 4)).toString('hex'),
  };
}

describe('an SMS-SUBMIT (3GPP TS 23.040)', () => {
  it('packs GSM 7-bit text as the published "hellohello" example does', () => {
    const septets = gsm7Septets('hellohello') ?? [];
    expect(Buffer.from(packSeptets(septets)).toString('hex').toUpperCase()).toBe('E8329BFD4697D9EC37');
  });

  it('writes one SMS for a short text: TP-MR, the international destination, 7-bit, 24 h validity', () => {
    const [tpdu, more] = smsSubmit('+4917012345678', 'On my way.', counter(7), 0);
    expect(more).toBeUndefined();
    expect(fields(tpdu ?? new Uint8Array())).toEqual({
      first: 0x11,
      mr: 7,
      da: '0d91947110325476f8',
      dcs: 0x00,
      vp: 0xa7,
      udl: 10,
      ud: Buffer.from(packSeptets(gsm7Septets('On my way.') ?? [])).toString('hex'),
    });
  });

  it('writes the extension table behind ESC, and UCS-2 where a character has no 7-bit code', () => {
    expect(gsm7Septets('5€')).toEqual([0x35, 0x1b, 0x65]);
    expect(gsm7Septets('Straße 渋滞')).toBeUndefined();
    const [tpdu] = smsSubmit('0301234', 'Stau 渋滞', counter(), 0);
    const f = fields(tpdu ?? new Uint8Array());
    expect(f).toMatchObject({ first: 0x11, da: '0781301032f4', dcs: 0x08, udl: 14 });
    expect(Buffer.from(f.ud, 'hex').swap16().toString('utf16le')).toBe('Stau 渋滞');
  });

  it('splits a long 7-bit text into parts of 153 septets with a concatenation header, never inside an ESC pair', () => {
    const text = `${'a'.repeat(152)}€${'b'.repeat(10)}`;
    const tpdus = smsSubmit('+4917012345678', text, counter(1), 0x42);
    expect(tpdus).toHaveLength(2);
    const [one, two] = tpdus.map((t) => fields(t));
    expect(one).toMatchObject({ first: 0x51, mr: 1, udl: 7 + 152 });
    expect(two).toMatchObject({ first: 0x51, mr: 2, udl: 7 + 12 });
    expect(one?.ud.slice(0, 12)).toBe('050003420201');
    expect(two?.ud.slice(0, 12)).toBe('050003420202');
  });

  it('splits a long UCS-2 text into parts of 67 units, never inside a surrogate pair', () => {
    const text = `${'渋'.repeat(66)}🚗${'滞'.repeat(5)}`;
    const [one, two] = smsSubmit('+4917012345678', text, counter(), 1).map((t) => fields(t));
    expect(one).toMatchObject({ dcs: 0x08, udl: 6 + 66 * 2 });
    expect(two).toMatchObject({ dcs: 0x08, udl: 6 + 7 * 2 });
  });

  it('refuses a destination that is no number', () => {
    expect(() => bcdAddress('sip:bob@example.com')).toThrow(SmsError);
    expect(bcdAddress('+49*1#')).toEqual({ digits: 5, toa: 0x91, value: [0x94, 0x1a, 0xfb] });
  });
});
