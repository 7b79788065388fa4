import dbus from 'dbus-next';
import type { Logger } from '../log/logger.js';
import { CarphoneError } from '../core/errors.js';
import { searchContacts, type Contact } from '../contacts/vcard.js';
import { contactWithNumber, type NumberMatch } from '../contacts/number-match.js';
import type { CallHistory } from '../history/call-history.js';
import { invalidArgs } from './errors.js';
import { dbusString, stringVariant } from './properties.js';
import { defineMembers, OfonoInterface } from './ofono-interface.js';

type Variant = InstanceType<typeof dbus.Variant>;

/** org.carphone.Contacts at /contacts: the imported address book and favourites (docs/api/contacts-api.txt). */
export class ContactsInterface extends OfonoInterface {
  constructor(
    private readonly contacts: Contact[],
    private readonly store: CallHistory,
    private readonly source: string,
    private readonly same: NumberMatch,
    logger: Logger,
  ) {
    super('org.carphone.Contacts', logger);
  }

  protected properties(): object {
    return { Source: this.source, Count: this.contacts.length };
  }

  private dict(c: Contact, favourites: Set<string>): Record<string, Variant> {
    return {
      Id: stringVariant(c.id),
      Name: stringVariant(c.name),
      Numbers: new dbus.Variant(
        'aa{ss}',
        c.numbers.map((n) => ({ Number: dbusString(n.number), Type: dbusString(n.type) })),
      ),
      Favourite: new dbus.Variant('b', favourites.has(c.id)),
    };
  }

  Search(query: string, limit: number): Record<string, Variant>[] {
    return this.guardSync(() => {
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
        throw invalidArgs('limit must be 1-500');
      }
      const favs = this.store.favourites();
      return searchContacts(this.contacts, query.slice(0, 64), limit).map((c) => this.dict(c, favs));
    });
  }

  /** Who a caller or a text's sender is in the address book (contacts/number-match.ts). */
  Lookup(number: string): Record<string, Variant> {
    return this.guardSync(() => {
      const contact = contactWithNumber(this.contacts, number.slice(0, 128), this.same);
      if (!contact) {
        throw new CarphoneError('NOT_FOUND', 'no contact has this number');
      }
      return this.dict(contact, this.store.favourites());
    });
  }

  GetFavourites(): Record<string, Variant>[] {
    return this.guardSync(() => {
      const favs = this.store.favourites();
      return this.contacts.filter((c) => favs.has(c.id)).map((c) => this.dict(c, favs));
    });
  }

  SetFavourite(id: string, favourite: boolean): void {
    this.guardSync(() => {
      if (!this.contacts.some((c) => c.id === id)) {
        throw new CarphoneError('NOT_FOUND', `no contact ${id}`);
      }
      this.store.setFavourite(id, favourite);
    });
  }
}

defineMembers(ContactsInterface, 'org.carphone.Contacts', {
  Search: { inSignature: 'su', outSignature: 'aa{sv}' },
  Lookup: { inSignature: 's', outSignature: 'a{sv}' },
  GetFavourites: { outSignature: 'aa{sv}' },
  SetFavourite: { inSignature: 'sb' },
});
