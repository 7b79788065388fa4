import { gsm7Septets, packSeptets } from './gsm7.js';
import { SmsError } from './tpdu.js';

/**
 * SMS-SUBMIT, the TPDU that sends a text (3GPP TS 23.040 §9.2.2.2): GSM 7-bit where every character
 * has a code there, UCS-2 otherwise, in several parts with a concatenation header where it is longer
 * than one SMS holds (160 septets or 70 UCS-2 units; 153 and 67 in each part of a longer one).
 */

/** TP-VP, relative format: 24 hours ((167 - 143) × 30 min + 12 h), the validity oFono asks by default. */
const VALIDITY_24_HOURS = 0xa7;
const ESCAPE = 0x1b;

/** An address as TP-DA and RP-DA write it: TON/NPI (international where it has "+"), BCD digits. */
export function bcdAddress(number: string): { digits: number; toa: number; value: number[] } {
  const international = number.startsWith('+');
  const digits = number.replace(/^\+/, '');
  if (!/^[0-9*#]{1,20}$/.test(digits)) {
    throw new SmsError(`"${number}" is not a number an SMS can be sent to`);
  }
  const nibbles = [...digits].map((d) => '0123456789*#'.indexOf(d));
  const value: number[] = [];
  for (let i = 0; i < nibbles.length; i += 2) {
    value.push((nibbles[i] ?? 0) | ((nibbles[i + 1] ?? 0x0f) << 4));
  }
  return { digits: digits.length, toa: international ? 0x91 : 0x81, value };
}

/** Splits `units` into runs of at most `size`, never between the two halves of `pair(i)`. */
function chunks(units: readonly number[], size: number, pairStartsAt: (i: number) => boolean): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < units.length;) {
    let end = Math.min(i + size, units.length);
    if (end < units.length && pairStartsAt(end - 1)) {
      end--;
    }
    out.push(units.slice(i, end));
    i = end;
  }
  return out;
}

/** TP-SRR (TS 23.040 §9.2.3.5): the centre is to send an SMS-STATUS-REPORT once it delivered the part. */
const STATUS_REPORT_REQUEST = 0x20;

/**
 * The TPDUs of `text` to `destination`, one per part; `nextReference` gives each its TP-MR, and
 * `concatenation` is the reference its parts share. With `statusReport`, each part asks for a report.
 */
export function smsSubmit(
  destination: string,
  text: string,
  nextReference: () => number,
  concatenation: number,
  statusReport = false,
): Uint8Array[] {
  const da = bcdAddress(destination);
  const septets = gsm7Septets(text);
  const utf16 = [...Buffer.from(text, 'utf16le').swap16()];
  let parts: { dcs: number; udl: (header: number) => number; ud: (header: number[]) => number[] }[];
  if (septets) {
    const runs = septets.length <= 160 ? [septets] : chunks(septets, 153, (i) => septets[i] === ESCAPE);
    parts = runs.map((run) => ({
      dcs: 0x00,
      // A header of 6 octets is 48 bits: 1 fill bit up to the 7th septet.
      udl: (header) => (header > 0 ? 7 : 0) + run.length,
      ud: (header) => [...header, ...packSeptets(run, header.length > 0 ? 1 : 0)],
    }));
  } else {
    const units: number[] = [];
    for (let i = 0; i < utf16.length; i += 2) {
      units.push(((utf16[i] ?? 0) << 8) | (utf16[i + 1] ?? 0));
    }
    const high = (i: number): boolean => (units[i] ?? 0) >= 0xd800 && (units[i] ?? 0) <= 0xdbff;
    const runs = units.length <= 70 ? [units] : chunks(units, 67, high);
    parts = runs.map((run) => ({
      dcs: 0x08,
      udl: (header) => header + run.length * 2,
      ud: (header) => [...header, ...run.flatMap((u) => [u >> 8, u & 0xff])],
    }));
  }
  if (parts.length > 255) {
    throw new SmsError('the text is longer than 255 SMS');
  }
  return parts.map((part, i) => {
    const header = parts.length > 1 ? [0x05, 0x00, 0x03, concatenation & 0xff, parts.length, i + 1] : [];
    return Uint8Array.from([
      0x01 | 0x10 | (statusReport ? STATUS_REPORT_REQUEST : 0) | (header.length > 0 ? 0x40 : 0),
      nextReference() & 0xff,
      da.digits,
      da.toa,
      ...da.value,
      0x00,
      part.dcs,
      VALIDITY_24_HOURS,
      part.udl(header.length),
      ...part.ud(header),
    ]);
  });
}

/** TP-RD (TS 23.040 §9.2.3.25): set on an SMS-SUBMIT sent again, so that the centre drops a duplicate. */
const REJECT_DUPLICATES = 0x04;

/**
 * The same SMS-SUBMIT, marked as sent again: after no answer or a passing RP-ERROR the phone repeats
 * it with the same TP-MR and TP-RD set (TS 23.040 §9.2.3.6), so that a centre that did take the first
 * one does not deliver the text twice.
 */
export function repeatedSubmit(tpdu: Uint8Array): Uint8Array {
  const repeated = Uint8Array.from(tpdu);
  repeated[0] = (repeated[0] ?? 0) | REJECT_DUPLICATES;
  return repeated;
}
