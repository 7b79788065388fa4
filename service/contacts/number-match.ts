import type { Contact } from './vcard.js';

/**
 * Which contact a caller is: the number the network shows (international, "+49 170 1234567") and the
 * one in the driver's address book (often national, "0170 1234567") must be recognised as one phone
 * without knowing the country's numbering plan. Two numbers are the same where their digits are
 * equal; where not both are international, where their last 8 digits are equal (a loose match on the
 * number's end, as phones do: Android's loose comparison looks at the last 7). Both international and
 * different are different phones, whatever their ends. Numbers of fewer than 8 digits (extensions,
 * service codes) match only exactly.
 */
const LOOSE_MATCH_DIGITS = 8;

/** A number's dialled form: digits, * and #, with "+" for an international one ("00" is one too). */
export function dialledForm(number: string): string {
  const s = number
    .trim()
    .replace(/^tel:/i, '')
    // "+49 (0)30 …": the national trunk 0 in brackets is not dialled from abroad.
    .replace(/\(0\)/g, '');
  const digits = s.replace(/[^0-9*#]/g, '');
  if (s.startsWith('+')) {
    return `+${digits}`;
  }
  return digits.startsWith('00') ? `+${digits.slice(2)}` : digits;
}

export function sameNumber(a: string, b: string): boolean {
  const x = dialledForm(a);
  const y = dialledForm(b);
  if (x === '' || y === '') {
    return false;
  }
  if (x === y) {
    return true;
  }
  if (x.startsWith('+') && y.startsWith('+')) {
    return false;
  }
  const dx = x.replace(/^\+/, '');
  const dy = y.replace(/^\+/, '');
  return (
    /^[0-9]+$/.test(dx) &&
    /^[0-9]+$/.test(dy) &&
    dx.length >= LOOSE_MATCH_DIGITS &&
    dy.length >= LOOSE_MATCH_DIGITS &&
    dx.slice(-LOOSE_MATCH_DIGITS) === dy.slice(-LOOSE_MATCH_DIGITS)
  );
}

/** The contact with `number`: one with the very number first, else the first whose number matches loosely. */
export function contactWithNumber(contacts: readonly Contact[], number: string): Contact | undefined {
  const wanted = dialledForm(number);
  if (wanted === '') {
    return undefined;
  }
  return (
    contacts.find((c) => c.numbers.some((n) => dialledForm(n.number) === wanted)) ??
    contacts.find((c) => c.numbers.some((n) => sameNumber(n.number, number)))
  );
}
