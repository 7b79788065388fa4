import { describe, expect, it } from 'vitest';
import { contactWithNumber, dialledForm, sameNumber } from '../../../service/contacts/number-match.js';
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
