import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import type { Contact } from './vcard.js';

/**
 * Which contact a caller is: the number the network shows (international, "+49 170 1234567") and the
 * one in the driver's address book (often national, "0170 1234567") must be recognised as one phone.
 * Where the head unit knows its country (config contacts.country), a national number is read by that
 * country's numbering plan (libphonenumber's metadata: the trunk prefix, Italy's kept 0, the US's 1)
 * into its international form, and two numbers are the same where those are equal. Where it does not,
 * two numbers are the same where their digits are equal, or, where not both are international, where
 * their last 8 digits are equal (a loose match on the number's end, as phones do: Android's loose
 * comparison looks at the last 7); both international and different are different phones, whatever
 * their ends. Either way numbers of fewer than 8 digits (extensions, service codes) match only
 * exactly.
 */
const LOOSE_MATCH_DIGITS = 8;

/** Whether two numbers are one phone. */
export type NumberMatch = (a: string, b: string) => boolean;

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

/** A dialled form that may be compared by more than its very digits: 8 digits or more, no * or #. */
const longNumber = (dialled: string): boolean =>
  /^\+?[0-9]+$/.test(dialled) && dialled.replace(/^\+/, '').length >= LOOSE_MATCH_DIGITS;

/** Numbers whose dialled forms are equal, or, both long, are one phone by `samePhone`. */
function matching(samePhone: (x: string, y: string) => boolean): NumberMatch {
  return (a, b) => {
    const x = dialledForm(a);
    const y = dialledForm(b);
    if (x === '' || y === '') {
      return false;
    }
    return x === y || (longNumber(x) && longNumber(y) && samePhone(x, y));
  };
}

/** The loose match, for a head unit that does not know its country. */
export const sameNumber: NumberMatch = matching(
  (x, y) =>
    !(x.startsWith('+') && y.startsWith('+')) &&
    x.slice(-LOOSE_MATCH_DIGITS) === y.slice(-LOOSE_MATCH_DIGITS),
);

/** How numbers are matched in `country` (ISO 3166 alpha-2), or loosely where it is not known. */
export function numberMatch(country: CountryCode | undefined): NumberMatch {
  if (!country) {
    return sameNumber;
  }
  const international = (dialled: string): string | undefined => {
    if (dialled.startsWith('+')) {
      return dialled;
    }
    const parsed = parsePhoneNumberFromString(dialled, country);
    return parsed?.isPossible() ? parsed.number : undefined;
  };
  return matching((x, y) => {
    const ix = international(x);
    return ix !== undefined && ix === international(y);
  });
}

/** The contact with `number`: one with the very number first, else the first whose number matches. */
export function contactWithNumber(
  contacts: readonly Contact[],
  number: string,
  same: NumberMatch = sameNumber,
): Contact | undefined {
  const wanted = dialledForm(number);
  if (wanted === '') {
    return undefined;
  }
  return (
    contacts.find((c) => c.numbers.some((n) => dialledForm(n.number) === wanted)) ??
    contacts.find((c) => c.numbers.some((n) => same(n.number, number)))
  );
}
