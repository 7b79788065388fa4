import dbus from 'dbus-next';
import type { Logger } from '../log/logger.js';
import { toDBusError } from './errors.js';
import { toDict, variant } from './properties.js';

type Variant = InstanceType<typeof dbus.Variant>;
type MethodSpec = { inSignature?: string; outSignature?: string };

/** Every member's input signature, by interface: lets the bus answer a wrong call with InvalidArguments. */
export const IN_SIGNATURES = new Map<string, Map<string, string>>();

/**
 * The shape every oFono interface shares: GetProperties → a{sv} and the PropertyChanged(sv) signal,
 * with handlers that map carphone's errors to org.ofono.Error.* once (service/dbus/errors.ts).
 */
export abstract class OfonoInterface extends dbus.interface.Interface {
  constructor(
    readonly interfaceName: string,
    protected readonly logger: Logger,
  ) {
    super(interfaceName);
  }

  protected abstract properties(): object;

  GetProperties(): Record<string, Variant> {
    return toDict(this.properties());
  }

  PropertyChanged(name: string, value: Variant): [string, Variant] {
    return [name, value];
  }

  emitChanged(name: string, value: unknown): void {
    this.PropertyChanged(name, variant(name, value));
  }

  /** Runs a handler body and turns any failure into a D-Bus error with an oFono name. */
  protected async guard<T>(fn: () => T | Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw toDBusError(e, this.logger);
    }
  }

  protected guardSync<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw toDBusError(e, this.logger);
    }
  }
}

/** Declares an oFono interface's members (always with GetProperties and PropertyChanged). */
export function defineMembers(
  cls: Pick<typeof dbus.interface.Interface, 'configureMembers'>,
  name: string,
  methods: Record<string, MethodSpec>,
  signals: Record<string, string> = {},
): void {
  const allMethods: Record<string, MethodSpec> = { GetProperties: { outSignature: 'a{sv}' }, ...methods };
  cls.configureMembers({
    methods: allMethods,
    signals: Object.fromEntries(
      Object.entries({ PropertyChanged: 'sv', ...signals }).map(([k, signature]) => [k, { signature }]),
    ),
  });
  IN_SIGNATURES.set(
    name,
    new Map(Object.entries(allMethods).map(([k, spec]) => [k, spec.inSignature ?? ''])),
  );
}
