import type dbus from 'dbus-next';
import type { Logger } from '../log/logger.js';
import { defineMembers, OfonoInterface } from './ofono-interface.js';

type Variant = InstanceType<typeof dbus.Variant>;
type ObjectEntry = [string, Record<string, Variant>];

/** org.ofono.Manager at `/` (docs/api/manager-api.txt). */
export class ManagerInterface extends OfonoInterface {
  constructor(
    private readonly modems: () => ObjectEntry[],
    logger: Logger,
  ) {
    super('org.ofono.Manager', logger);
  }

  protected properties(): object {
    return {};
  }

  GetModems(): ObjectEntry[] {
    return this.guardSync(() => this.modems());
  }

  ModemAdded(path: string, props: Record<string, Variant>): ObjectEntry {
    return [path, props];
  }

  ModemRemoved(path: string): string {
    return path;
  }
}

defineMembers(
  ManagerInterface,
  'org.ofono.Manager',
  { GetModems: { outSignature: 'a(oa{sv})' } },
  { ModemAdded: 'oa{sv}', ModemRemoved: 'o' },
);
