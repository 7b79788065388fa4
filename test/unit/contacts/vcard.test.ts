import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseVcards, searchContacts, VcardError } from '../../../service/contacts/vcard.js';

const contacts = parseVcards(readFileSync(join(import.meta.dirname, '../../fixtures/contacts.vcf'), 'utf8'));

describe('vCard import', () => {
  it('reads vCard 3.0, 4.0 and 2.1 cards with folded lines, escapes and quoted-printable names', () => {
    expect(contacts.map((c) => c.name)).toEqual([
      'Jürgen Müller',
      'Anna Schmidt, Dr.',
      'Ayşe Özdemir',
      'Pizza Service with a very long name that an address book folded onto a second line',
    ]);
    expect(contacts[0]?.numbers).toEqual([
      { number: '+491701234567', type: 'cell' },
      { number: '+4930987654', type: 'work' },
    ]);
    expect(contacts[1]?.numbers).toEqual([{ number: '+49895550101', type: 'home' }]);
    expect(contacts[2]?.numbers).toEqual([{ number: '01712223334', type: 'cell' }]);
  });

  it('skips cards without a number, and gives stable ids', () => {
    expect(contacts).toHaveLength(4);
    expect(
      parseVcards(readFileSync(join(import.meta.dirname, '../../fixtures/contacts.vcf'), 'utf8')).map(
        (c) => c.id,
      ),
    ).toEqual(contacts.map((c) => c.id));
  });

  it('names the line of a broken file', () => {
    expect(() => parseVcards('BEGIN:VCARD\nFN:x\n')).toThrow(VcardError);
    expect(() => parseVcards('BEGIN:VCARD\nthis is no property\nEND:VCARD\n')).toThrow(/line 2/);
  });

  it('finds contacts by the start of a name, without accents, or by three or more digits', () => {
    expect(searchContacts(contacts, 'jur', 10).map((c) => c.name)).toEqual(['Jürgen Müller']);
    expect(searchContacts(contacts, 'muell', 10)).toEqual([]);
    expect(searchContacts(contacts, 'mül', 10).map((c) => c.name)).toEqual(['Jürgen Müller']);
    expect(searchContacts(contacts, 'ozd', 10).map((c) => c.name)).toEqual(['Ayşe Özdemir']);
    expect(searchContacts(contacts, '555', 10).map((c) => c.name)).toEqual(['Anna Schmidt, Dr.']);
    expect(searchContacts(contacts, '', 2)).toHaveLength(2);
  });
});
