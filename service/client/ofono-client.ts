import dbus from 'dbus-next';
import { busConnection, type Bus } from '../dbus/dbus-next-address.js';

type Message = InstanceType<typeof dbus.Message>;
type Variant = InstanceType<typeof dbus.Variant>;

export type Props = Record<string, unknown>;

export interface SignalRecord {
  path: string;
  interface: string;
  member: string;
  args: unknown[];
}

/** Unwraps D-Bus variants (recursively through dicts and arrays) into plain values. */
export function plain(v: unknown): unknown {
  if (v instanceof dbus.Variant) {
    return plain((v as Variant).value);
  }
  if (Array.isArray(v)) {
    return v.map(plain);
  }
  if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

export class OfonoClientError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = 'OfonoClientError';
  }
}

/**
 * A small oFono client over dbus-next: method calls by (path, interface, member) with errors as typed
 * exceptions, and every signal from the service recorded in order. carphonectl, the HMI bridge and the
 * tests use it; it knows nothing of carphone's internals, only the D-Bus API.
 */
export class OfonoClient {
  readonly signals: SignalRecord[] = [];
  private readonly listeners = new Set<(s: SignalRecord) => void>();
  private senderUnique: string | undefined;

  private constructor(
    readonly bus: Bus,
    readonly service: string,
  ) {}

  static async connect(address: string, service: string): Promise<OfonoClient> {
    const bus = busConnection(address);
    await new Promise<void>((resolve, reject) => {
      bus.once('connect', () => resolve());
      bus.once('error', (e: unknown) => reject(e instanceof Error ? e : new Error(String(e))));
    });
    bus.on('error', () => undefined);
    const client = new OfonoClient(bus, service);
    await client.subscribe();
    return client;
  }

  private async subscribe(): Promise<void> {
    await this.callRaw(
      'org.freedesktop.DBus',
      '/org/freedesktop/DBus',
      'org.freedesktop.DBus',
      'AddMatch',
      's',
      [`type='signal',sender='${this.service}'`],
    );
    this.senderUnique = await this.owner();
    this.bus.on('message', (msg: Message) => {
      if (msg.type !== dbus.MessageType.SIGNAL || !msg.interface || !msg.member) {
        return;
      }
      if (msg.sender !== this.senderUnique && msg.sender !== this.service) {
        return;
      }
      const s: SignalRecord = {
        path: msg.path,
        interface: msg.interface,
        member: msg.member,
        args: plain(msg.body) as unknown[],
      };
      this.signals.push(s);
      this.listeners.forEach((l) => l(s));
    });
  }

  /** The service's unique name: signals carry it, not the well-known name. Re-read after a restart. */
  async owner(): Promise<string | undefined> {
    try {
      const [name] = (await this.callRaw(
        'org.freedesktop.DBus',
        '/org/freedesktop/DBus',
        'org.freedesktop.DBus',
        'GetNameOwner',
        's',
        [this.service],
      )) as [string];
      this.senderUnique = name;
      return name;
    } catch {
      return undefined;
    }
  }

  onSignal(listener: (s: SignalRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async callRaw(
    dest: string,
    path: string,
    iface: string,
    member: string,
    signature: string,
    body: unknown[],
  ): Promise<unknown[]> {
    const msg = new dbus.Message({ destination: dest, path, interface: iface, member, signature, body });
    let reply: Message | null;
    try {
      reply = await this.bus.call(msg);
    } catch (e) {
      if (e instanceof dbus.DBusError) {
        throw new OfonoClientError(e.type, e.text);
      }
      throw e;
    }
    return (reply?.body ?? []) as unknown[];
  }

  async call(
    path: string,
    iface: string,
    member: string,
    signature = '',
    args: unknown[] = [],
  ): Promise<unknown> {
    const body = await this.callRaw(this.service, path, iface, member, signature, args);
    return plain(body.length === 1 ? body[0] : body);
  }

  async modems(): Promise<[string, Props][]> {
    return (await this.call('/', 'org.ofono.Manager', 'GetModems')) as [string, Props][];
  }

  async properties(path: string, iface: string): Promise<Props> {
    return (await this.call(path, iface, 'GetProperties')) as Props;
  }

  async setProperty(
    path: string,
    iface: string,
    name: string,
    signature: string,
    value: unknown,
  ): Promise<void> {
    await this.call(path, iface, 'SetProperty', 'sv', [name, new dbus.Variant(signature, value)]);
  }

  async calls(modem: string): Promise<[string, Props][]> {
    return (await this.call(modem, 'org.ofono.VoiceCallManager', 'GetCalls')) as [string, Props][];
  }

  async dial(modem: string, number: string, hide = ''): Promise<string> {
    return (await this.call(modem, 'org.ofono.VoiceCallManager', 'Dial', 'ss', [number, hide])) as string;
  }

  async manager(modem: string, member: string): Promise<void> {
    await this.call(modem, 'org.ofono.VoiceCallManager', member);
  }

  /** CreateMultiparty: the calls in the multiparty call afterwards. */
  async createMultiparty(modem: string): Promise<string[]> {
    return (await this.call(modem, 'org.ofono.VoiceCallManager', 'CreateMultiparty')) as string[];
  }

  /** PrivateChat with one call of the multiparty call: the calls still in it afterwards. */
  async privateChat(modem: string, call: string): Promise<string[]> {
    return (await this.call(modem, 'org.ofono.VoiceCallManager', 'PrivateChat', 'o', [call])) as string[];
  }

  /**
   * SendMessage, then waits for the network's answer: "sent", or "failed" with its reason (from the
   * message history's entry, which is recorded before the Message object's final State is signalled).
   */
  async sendMessage(
    modem: string,
    to: string,
    text: string,
    timeoutMs = 80_000,
  ): Promise<{ path: string; state: string; reason: string }> {
    const since = this.signals.length;
    const path = (await this.call(modem, 'org.ofono.MessageManager', 'SendMessage', 'ss', [
      to,
      text,
    ])) as string;
    const final = await this.waitForSignal(
      (s) =>
        s.path === path &&
        s.member === 'PropertyChanged' &&
        s.args[0] === 'State' &&
        (s.args[1] === 'sent' || s.args[1] === 'failed' || s.args[1] === 'cancelled'),
      timeoutMs,
      since,
    );
    const entry = this.signals
      .slice(since)
      .map((s) =>
        s.member === 'EntryAdded' && s.interface === 'org.carphone.MessageHistory' ? s.args[0] : undefined,
      )
      .find((e): e is Props => typeof e === 'object' && e !== null && (e as Props).Text === text);
    const reason = entry?.FailureReason;
    return { path, state: String(final.args[1]), reason: typeof reason === 'string' ? reason : '' };
  }

  async answer(call: string): Promise<void> {
    await this.call(call, 'org.ofono.VoiceCall', 'Answer');
  }

  async hangup(call: string): Promise<void> {
    await this.call(call, 'org.ofono.VoiceCall', 'Hangup');
  }

  /** Waits for a signal matching `pred`, looking first at those already recorded after index `since`. */
  waitForSignal(pred: (s: SignalRecord) => boolean, timeoutMs = 10_000, since = 0): Promise<SignalRecord> {
    const seen = this.signals.slice(since).find(pred);
    if (seen) {
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(
          new Error(
            `no matching signal within ${timeoutMs} ms; got:\n${this.signals
              .slice(-15)
              .map((s) => `${s.path} ${s.member} ${JSON.stringify(s.args)}`)
              .join('\n')}`,
          ),
        );
      }, timeoutMs);
      const off = this.onSignal((s) => {
        if (pred(s)) {
          clearTimeout(timer);
          off();
          resolve(s);
        }
      });
    });
  }

  /** Waits until the call at `path` reports `state` (PropertyChanged State). */
  waitForCallState(path: string, state: string, timeoutMs = 10_000, since = 0): Promise<SignalRecord> {
    return this.waitForSignal(
      (s) =>
        s.path === path && s.member === 'PropertyChanged' && s.args[0] === 'State' && s.args[1] === state,
      timeoutMs,
      since,
    );
  }

  /** Why the call at `path` ended ("local", "remote", "network"), once its DisconnectReason comes. */
  async waitForDisconnectReason(path: string, timeoutMs = 10_000, since = 0): Promise<string> {
    const s = await this.waitForSignal(
      (s) => s.path === path && s.member === 'DisconnectReason',
      timeoutMs,
      since,
    );
    return String(s.args[0]);
  }

  disconnect(): void {
    this.bus.disconnect();
  }
}
