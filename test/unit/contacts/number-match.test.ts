import { describe, expect, it } from 'vitest';
import {
  contactWithNumber,
  dialledForm,
  numberMatch,
  sameNumber,
} from '../../../service/contacts/number-match.js';
import type { Contact } from '../../../service/contacts/vcard.js';

describe("matching a caller's number to the address book", () => {
  it('reads numbers as they are written in address books and shown by networks', () => {
    expect(dialledForm('+49 (0)30 9876-54')).toBe('+4930987654');
    expect(dialledForm('tel:+49-89-555-0101')).toBe('+49895550101');
    expect(dialledForm('0049 170 1234567')).toBe('+491701234567');
    expect(dialledForm('0170 / 123 45 67')).toBe('01701234567');
    expect(dialledForm('*43')).toBe('*43');
    expect(dialledForm('alice')).toBe('');
  });

  it('matches an international caller to a national entry by the last 8 digits', () => {
    expect(sameNumber('+491701234567', '0170 1234567')).toBe(true);
    expect(sameNumber('01701234567', '+49 170 1234567')).toBe(true);
    expect(sameNumber('+491701234567', '0170 1234568')).toBe(false);
  });

  it('does not match two different international numbers that end alike', () => {
    expect(sameNumber('+491701234567', '+441701234567')).toBe(false);
    expect(sameNumber('+491701234567', '0049 170 1234567')).toBe(true);
  });

  it('matches short numbers only exactly', () => {
    expect(sameNumber('2002', '2002')).toBe(true);
    expect(sameNumber('12002', '2002')).toBe(false);
    expect(sameNumber('*43', '*43')).toBe(true);
    expect(sameNumber('alice', 'alice')).toBe(false);
  });

  it('prefers the contact with the very number to one that only ends alike', () => {
    const contacts: Contact[] = [
      { id: 'a', name: 'Loose', numbers: [{ number: '+441701234567', type: 'cell' }] },
      { id: 'b', name: 'Exact', numbers: [{ number: '01701234567', type: 'cell' }] },
      { id: 'c', name: 'Written with 00', numbers: [{ number: '0049 170 1234567', type: 'work' }] },
    ];
    expect(contactWithNumber(contacts, '01701234567')?.name).toBe('Exact');
    // The same number written another way is the very number; only ends alike is the fallback.
    expect(contactWithNumber(contacts, '+491701234567')?.name).toBe('Written with 00');
    expect(contactWithNumber(contacts, '+49 (0)170 1234567')?.name).toBe('Written with 00');
    expect(contactWithNumber(contacts, '+33612345678')).toBeUndefined();
    expect(contactWithNumber(contacts, 'bob')).toBeUndefined();
  });
});

describe("matching a caller's number where the car's country is known", () => {
  it("reads national numbers by the country's plan: the whole number counts, not its end", () => {
    const germany = numberMatch('DE');
    expect(germany('+491701234567', '0170 1234567')).toBe(true);
    expect(germany('030 12345678', '+49 (0)30 1234 5678')).toBe(true);
    // The same 8 digits at the end, another country: the loose rule took one for the other.
    expect(sameNumber('+44 20 1234 5678', '030 12345678')).toBe(true);
    expect(germany('+44 20 1234 5678', '030 12345678')).toBe(false);
    expect(germany('089 1701234567', '0170 1234567')).toBe(false);
  });

  it("keeps each country's own rules: Italy's leading 0, the US's trunk 1", () => {
    expect(numberMatch('IT')('06 1234 5678', '+39 06 12345678')).toBe(true);
    expect(numberMatch('IT')('06 1234 5678', '+39 6 12345678')).toBe(false);
    expect(numberMatch('US')('(202) 555-0143', '+1 202 555 0143')).toBe(true);
    expect(numberMatch('US')('1 202 555 0143', '+12025550143')).toBe(true);
  });

  it('still matches short numbers and service codes only exactly', () => {
    const germany = numberMatch('DE');
    expect(germany('2002', '2002')).toBe(true);
    expect(germany('2002', '+492002')).toBe(false);
    expect(germany('*43', '43')).toBe(false);
    expect(germany('alice', 'alice')).toBe(false);
  });

  it('names no contact for a caller abroad whose number only ends like a national entry', () => {
    const contacts: Contact[] = [
      { id: 'b', name: 'Berlin office', numbers: [{ number: '030 12345678', type: 'work' }] },
    ];
    expect(contactWithNumber(contacts, '+493012345678', numberMatch('DE'))?.name).toBe('Berlin office');
    expect(contactWithNumber(contacts, '+442012345678', numberMatch('DE'))).toBeUndefined();
    // Without the country, the loose rule shows a London caller as the Berlin office.
    expect(contactWithNumber(contacts, '+442012345678')?.name).toBe('Berlin office');
  });
});
