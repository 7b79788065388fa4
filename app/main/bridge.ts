import { EventEmitter } from 'node:events';
import dbus from 'dbus-next';
import { OfonoClient, type Props } from '../../service/client/ofono-client.js';
import {
  drivingAfter,
  isQuickReply,
  PHONE_UNAVAILABLE,
  validDialString,
  validTones,
  type CallView,
  type ContactView,
  type PhoneApi,
  type PhoneSnapshot,
  type QuickReplies,
  type RecentView,
  type TextView,
} from '../shared/api.js';

type Message = InstanceType<typeof dbus.Message>;

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** oFono's StartTime "%Y-%m-%dT%H:%M:%S%z" with +0000. */
function parseStartTime(v: unknown): number | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\+0000$/.exec(str(v));
  return m ? Date.parse(`${m[1] ?? ''}Z`) : undefined;
}

/** How many rows a list asks for, from the renderer: 1-100, 20 when it names no whole number. */
function listLimit(limit: unknown): number {
  return typeof limit === 'number' && Number.isInteger(limit) ? Math.max(1, Math.min(limit, 100)) : 20;
}

/**
 * The HMI's main-process side: follows carphoned over D-Bus (the same oFono interfaces any client
 * uses), keeps a snapshot of the phone for the renderer, and carries out the renderer's actions after
 * checking them. It survives a daemon restart: while the service is gone the snapshot says
 * unavailable, and when it is back the state is read again. Electron's main process and the tests
 * both use it; it does not import Electron.
 */
export class PhoneBridge implements Omit<PhoneApi, 'onState'> {
  private readonly emitter = new EventEmitter();
  private state: PhoneSnapshot = PHONE_UNAVAILABLE;
  private modem = '';
  private refreshTimer: NodeJS.Timeout | undefined;
  private toneQueue: Promise<void> = Promise.resolve();
  private speedKmh: number | undefined;
  /**
   * Speed signals taken so far: a refresh that read the Vehicle while one came must not put its older
   * speed back over the signal's (the screen would stay locked after the car stopped).
   */
  private speedSignals = 0;
  /** Changes to the message history seen (EntryAdded, EntryChanged): the snapshot's textLog. */
  private textLog = 0;
  /** Vehicle HmiRequest("recents") signals seen: the snapshot's recentsRequests. */
  private recentsRequests = 0;
  /** Address-book names by number as Lookup gave them ("" for none); forgotten when carphoned restarts. */
  private readonly contactNames = new Map<string, string>();

  private constructor(private readonly client: OfonoClient) {}

  static async connect(address: string, service = 'org.carphone'): Promise<PhoneBridge> {
    const client = await OfonoClient.connect(address, service);
    const bridge = new PhoneBridge(client);
    await client.bus.call(
      new dbus.Message({
        destination: 'org.freedesktop.DBus',
        path: '/org/freedesktop/DBus',
        interface: 'org.freedesktop.DBus',
        member: 'AddMatch',
        signature: 's',
        body: [`type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged',arg0='${service}'`],
      }),
    );
    client.bus.on('message', (m: Message) => {
      if (m.member === 'NameOwnerChanged' && m.body[0] === service) {
        bridge.contactNames.clear();
        void client.owner().then(() => bridge.scheduleRefresh());
      }
    });
    client.onSignal((s) => {
      if (s.path === '/vehicle') {
        // Speed changes many times a second while driving: it moves only the lock, not a full re-read.
        if (s.member === 'PropertyChanged' && s.args[0] === 'Speed') {
          bridge.onSpeed(Number(s.args[1]));
        } else if (s.member === 'HmiRequest' && s.args[0] === 'recents') {
          bridge.recentsRequests++;
          bridge.publish({ ...bridge.state, recentsRequests: bridge.recentsRequests });
        }
        return;
      }
      if (s.interface === 'org.carphone.MessageHistory' && s.member !== 'PropertyChanged') {
        bridge.textLog++;
      }
      bridge.scheduleRefresh();
    });
    await bridge.refresh();
    return bridge;
  }

  onState(listener: (s: PhoneSnapshot) => void): () => void {
    this.emitter.on('state', listener);
    return () => this.emitter.off('state', listener);
  }

  snapshot(): Promise<PhoneSnapshot> {
    return Promise.resolve(this.state);
  }

  private onSpeed(speedKmh: number): void {
    this.speedSignals++;
    this.speedKmh = speedKmh;
    const driving = drivingAfter(this.state.driving, speedKmh);
    if (driving !== this.state.driving) {
      this.publish({ ...this.state, driving });
    }
  }

  private publish(next: PhoneSnapshot): void {
    if (JSON.stringify(next) !== JSON.stringify(this.state)) {
      this.state = next;
      this.emitter.emit('state', next);
    }
  }

  private scheduleRefresh(): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => void this.refresh(), 20);
  }

  /** `s` with the counts the bridge keeps itself, which go on while carphoned is away and back. */
  private bridgeCounts(s: PhoneSnapshot): PhoneSnapshot {
    return { ...s, textLog: this.textLog, recentsRequests: this.recentsRequests };
  }

  /** Reads the whole state again; any failure means the service is gone. */
  async refresh(): Promise<void> {
    let next: PhoneSnapshot;
    try {
      const modems = await this.client.modems();
      const first = modems[0];
      if (!first) {
        next = { ...this.bridgeCounts(PHONE_UNAVAILABLE), available: true };
      } else {
        this.modem = first[0];
        const account = await this.client.properties(this.modem, 'org.carphone.SipAccount');
        const volume = await this.client.properties(this.modem, 'org.ofono.CallVolume');
        const interfaces = Array.isArray(first[1].Interfaces) ? (first[1].Interfaces as string[]) : [];
        const mailbox: Props = interfaces.includes('org.ofono.MessageWaiting')
          ? await this.client.properties(this.modem, 'org.ofono.MessageWaiting')
          : {};
        const forwarding: Props = interfaces.includes('org.ofono.CallForwarding')
          ? await this.client.properties(this.modem, 'org.ofono.CallForwarding')
          : {};
        const ecall = interfaces.includes('org.carphone.Emergency')
          ? await this.client.properties(this.modem, 'org.carphone.Emergency')
          : {};
        const calls = await Promise.all(
          (await this.client.calls(this.modem)).map(async ([path, p]) =>
            this.callView(
              path,
              p,
              await this.quality(path),
              await this.nameFor(str(p.LineIdentification), p.Name),
            ),
          ),
        );
        const messages = await this.client.properties('/history', 'org.carphone.MessageHistory');
        const callLog = await this.client.properties('/history', 'org.carphone.CallHistory');
        const signalsBefore = this.speedSignals;
        const vehicle: Props = await this.client
          .properties('/vehicle', 'org.carphone.Vehicle')
          .catch(() => ({}));
        if (typeof vehicle.Speed === 'number' && this.speedSignals === signalsBefore) {
          this.speedKmh = vehicle.Speed;
        }
        const reg = str(account.Registration);
        next = {
          available: true,
          line: str(first[1].Name),
          registration:
            reg === 'registered' || reg === 'registering' || reg === 'unregistered' || reg === 'failed'
              ? reg
              : 'unknown',
          registrationError: str(account.RegistrationError),
          calls,
          muted: volume.Muted === true,
          ecall: str(ecall.State),
          ecallCallbackUntil: str(ecall.CallbackUntil),
          ecallTriggeredAt: str(ecall.TriggeredAt),
          driving: drivingAfter(this.state.driving, this.speedKmh),
          voicemail: {
            waiting: mailbox.VoicemailWaiting === true,
            count: typeof mailbox.VoicemailMessageCount === 'number' ? mailbox.VoicemailMessageCount : 0,
            number: str(mailbox.VoicemailMailboxNumber),
          },
          forwardedTo: str(forwarding.VoiceUnconditional),
          newTexts: typeof messages.UnreadCount === 'number' ? messages.UnreadCount : 0,
          missedCalls: typeof callLog.MissedCount === 'number' ? callLog.MissedCount : 0,
          textLog: this.textLog,
          recentsRequests: this.recentsRequests,
          quickReplies: quickRepliesOf(messages.QuickReplies),
        };
      }
    } catch {
      next = this.bridgeCounts(PHONE_UNAVAILABLE);
    }
    this.publish(next);
  }

  private async quality(path: string): Promise<CallView['quality']> {
    const q: Props = await this.client.properties(path, 'org.carphone.CallQuality').catch(() => ({}));
    const level = str(q.Quality);
    return level === 'good' || level === 'fair' || level === 'poor' ? level : 'unknown';
  }

  /**
   * The name to show for `number`: the driver's own name for it in the address book, else the one the
   * network sent (`networkName`), if any.
   */
  private async nameFor(number: string, networkName: unknown): Promise<string> {
    let known = this.contactNames.get(number);
    if (known === undefined) {
      known = await this.client
        .call('/contacts', 'org.carphone.Contacts', 'Lookup', 's', [number])
        .then((c) => str((c as Props).Name))
        .catch(() => '');
      this.contactNames.set(number, known);
    }
    return known || str(networkName);
  }

  private callView(path: string, p: Props, quality: CallView['quality'], name: string): CallView {
    const startedAt = parseStartTime(p.StartTime);
    return {
      path,
      state: str(p.State) as CallView['state'],
      number: str(p.LineIdentification),
      name,
      ...(startedAt !== undefined ? { startedAt } : {}),
      emergency: p.Emergency === true,
      remoteHeld: p.RemoteHeld === true,
      multiparty: p.Multiparty === true,
      quality,
      forwarded: str(p.Forwarded) !== '',
      forwardedFrom: str(p.ForwardedFrom),
    };
  }

  private requireModem(): string {
    if (!this.state.available || !this.modem) {
      throw new Error('phone service unavailable');
    }
    return this.modem;
  }

  async dial(number: unknown): Promise<void> {
    if (!validDialString(number)) {
      throw new Error('not a number the phone can dial');
    }
    await this.client.dial(this.requireModem(), number);
    this.scheduleRefresh();
  }

  /** The number is the line's own (carphoned checked it when it was set), never the renderer's. */
  async callVoicemail(): Promise<void> {
    const number = this.state.voicemail.number;
    if (!validDialString(number)) {
      throw new Error('no voicemail number is known for this line');
    }
    await this.client.dial(this.requireModem(), number);
    this.scheduleRefresh();
  }

  async answer(): Promise<void> {
    const ringing = this.state.calls.find((c) => c.state === 'incoming');
    if (ringing) {
      await this.client.answer(ringing.path);
    } else if (this.state.calls.some((c) => c.state === 'waiting')) {
      await this.client.manager(this.requireModem(), 'HoldAndAnswer');
    }
  }

  async hangup(path?: unknown): Promise<void> {
    const target =
      typeof path === 'string' && this.state.calls.some((c) => c.path === path)
        ? path
        : (
            this.state.calls.find((c) => c.state === 'incoming' || c.state === 'waiting') ??
            this.state.calls.find((c) => c.state !== 'held')
          )?.path;
    if (target) {
      await this.client.hangup(target);
    }
  }

  async holdAndAnswer(): Promise<void> {
    await this.client.manager(this.requireModem(), 'HoldAndAnswer');
  }

  async swap(): Promise<void> {
    await this.client.manager(this.requireModem(), 'SwapCalls');
  }

  async merge(): Promise<void> {
    await this.client.createMultiparty(this.requireModem());
  }

  async hangupMultiparty(): Promise<void> {
    await this.client.manager(this.requireModem(), 'HangupMultiparty');
  }

  async privateChat(path: unknown): Promise<void> {
    if (typeof path !== 'string' || !this.state.calls.some((c) => c.path === path && c.multiparty)) {
      throw new Error('a private chat is with a party of the conference');
    }
    await this.client.privateChat(this.requireModem(), path);
  }

  /**
   * Keys tapped quickly one after the other must all be sent: carphoned takes one SendTones at a time
   * (oFono's InProgress rule), so taps queue here and go out in order.
   */
  sendTones(tones: unknown): Promise<void> {
    if (!validTones(tones)) {
      return Promise.reject(new Error('tones must be 0-9, *, #, A-D'));
    }
    const modem = this.requireModem();
    const next = this.toneQueue.then(() =>
      this.client.call(modem, 'org.ofono.VoiceCallManager', 'SendTones', 's', [tones]),
    );
    this.toneQueue = next.then(
      () => undefined,
      () => undefined,
    );
    return next.then(() => undefined);
  }

  async setMuted(muted: unknown): Promise<void> {
    if (typeof muted !== 'boolean') {
      throw new Error('muted must be true or false');
    }
    await this.client.setProperty(this.requireModem(), 'org.ofono.CallVolume', 'Muted', 'b', muted);
    this.scheduleRefresh();
  }

  async recents(limit: unknown): Promise<RecentView[]> {
    const n = listLimit(limit);
    const rows = (await this.client.call('/history', 'org.carphone.CallHistory', 'GetRecent', 'u', [
      n,
    ])) as Props[];
    return Promise.all(
      rows.map(async (r) => ({
        id: Number(r.Id),
        kind: str(r.Kind) as RecentView['kind'],
        number: str(r.LineIdentification),
        name: await this.nameFor(str(r.LineIdentification), r.Name),
        startTime: str(r.StartTime),
        duration: Number(r.Duration),
        emergency: r.Emergency === true,
        forwarded: str(r.Forwarded) !== '',
        forwardedFrom: str(r.ForwardedFrom),
      })),
    );
  }

  async texts(limit: unknown): Promise<TextView[]> {
    const n = listLimit(limit);
    const rows = (await this.client.call('/history', 'org.carphone.MessageHistory', 'GetRecent', 'u', [
      n,
    ])) as Props[];
    return Promise.all(
      rows.map(async (r) => ({
        id: Number(r.Id),
        direction: r.Direction === 'outgoing' ? ('outgoing' as const) : ('incoming' as const),
        number: str(r.LineIdentification),
        name: await this.nameFor(str(r.LineIdentification), r.Name),
        text: str(r.Text),
        time: str(r.Time),
        state: textState(r),
      })),
    );
  }

  /** Only to a text that came in, and only with a quick reply: the renderer chooses, it does not write. */
  async replyToText(id: unknown, reply: unknown): Promise<void> {
    if (typeof id !== 'number' || !Number.isInteger(id) || !isQuickReply(this.state.quickReplies, reply)) {
      throw new Error('a reply is one of the quick replies, to a text by its id');
    }
    const text = (await this.texts(100)).find((t) => t.id === id && t.direction === 'incoming');
    if (!text) {
      throw new Error(`no text ${id} came in`);
    }
    await this.client.call(this.requireModem(), 'org.ofono.MessageManager', 'SendMessage', 'ss', [
      text.number,
      reply,
    ]);
  }

  /**
   * Declines a ringing call and texts the caller a quick reply ("I'm driving. I'll call you back."):
   * two touches, nothing typed. Only a call that rings, from a number a text can go to (not withheld).
   */
  async declineWithText(path: unknown, reply: unknown): Promise<void> {
    if (!isQuickReply(this.state.quickReplies, reply)) {
      throw new Error('a reply is one of the quick replies');
    }
    const call = this.state.calls.find(
      (c) => c.path === path && (c.state === 'incoming' || c.state === 'waiting'),
    );
    if (!call) {
      throw new Error('no call rings with that path');
    }
    if (!validDialString(call.number)) {
      throw new Error('the caller withheld the number: no text can go back');
    }
    await this.client.hangup(call.path);
    await this.client.call(this.requireModem(), 'org.ofono.MessageManager', 'SendMessage', 'ss', [
      call.number,
      reply,
    ]);
  }

  /** The driver looked at Recents: carphoned marks the missed calls seen, as textsSeen does the texts. */
  async callsSeen(): Promise<void> {
    await this.client.call('/history', 'org.carphone.CallHistory', 'MarkSeen');
    this.publish({ ...this.state, missedCalls: 0 });
  }

  /** The driver looked at Messages: carphoned marks the texts read, for every HMI and across restarts. */
  async textsSeen(): Promise<void> {
    await this.client.call('/history', 'org.carphone.MessageHistory', 'MarkRead');
    this.publish({ ...this.state, newTexts: 0 });
  }

  async contacts(query: unknown): Promise<ContactView[]> {
    const q = typeof query === 'string' ? query.slice(0, 64) : '';
    const rows = (await this.client.call('/contacts', 'org.carphone.Contacts', 'Search', 'su', [
      q,
      50,
    ])) as Props[];
    return rows.map((r) => ({
      id: str(r.Id),
      name: str(r.Name),
      numbers: Array.isArray(r.Numbers)
        ? (r.Numbers as { Number: string; Type: string }[]).map((n) => ({ number: n.Number, type: n.Type }))
        : [],
      favourite: r.Favourite === true,
    }));
  }

  async setFavourite(id: unknown, favourite: unknown): Promise<void> {
    if (typeof id !== 'string' || typeof favourite !== 'boolean') {
      throw new Error('setFavourite takes a contact id and true or false');
    }
    await this.client.call('/contacts', 'org.carphone.Contacts', 'SetFavourite', 'sb', [id, favourite]);
  }

  close(): void {
    clearTimeout(this.refreshTimer);
    this.client.disconnect();
  }
}

/** What the driver is shown of a text's state: a cancelled text is one not sent, as the driver sees it. */
function textState(r: Props): TextView['state'] {
  if (r.Direction !== 'outgoing') {
    return 'received';
  }
  if (r.State !== 'sent') {
    return 'failed';
  }
  return r.Delivery === 'delivered' ? 'delivered' : r.Delivery === 'failed' ? 'undelivered' : 'sent';
}

/** MessageHistory's QuickReplies as the snapshot carries them: lists of strings only. */
function quickRepliesOf(v: unknown): QuickReplies {
  if (typeof v !== 'object' || v === null) {
    return {};
  }
  return Object.fromEntries(
    Object.entries(v).flatMap(([lang, list]) =>
      Array.isArray(list) ? [[lang, list.filter((r): r is string => typeof r === 'string')]] : [],
    ),
  );
}
