import dbus from 'dbus-next';
import { EMERGENCY_NUMBERS, type CallRecord } from '../calls/manager.js';
import { CarphoneError } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import type { Line } from '../daemon/line.js';
import { unexportObject } from './bus.js';
import { dbusErrorName } from './errors.js';
import { ManagerInterface } from './manager-iface.js';
import { ModemInterface } from './modem-iface.js';
import { IN_SIGNATURES, type OfonoInterface } from './ofono-interface.js';
import { toDict } from './properties.js';
import {
  NetworkRegistrationInterface,
  SipAccountInterface,
  networkStatus,
  type RegistrationModel,
} from './registration-iface.js';
import { VoiceCallInterface } from './voicecall-iface.js';
import { CallQualityInterface } from './callquality-iface.js';
import { CallVolumeInterface } from './callvolume-iface.js';
import { MessageWaitingInterface, messageWaitingProperties } from './messagewaiting-iface.js';
import { CallSettingsInterface, callSettingsProperties } from './callsettings-iface.js';
import { CallForwardingInterface, callForwardingProperties } from './callforwarding-iface.js';
import { VoiceCallManagerInterface } from './voicecallmanager-iface.js';
import {
  incomingInfo,
  MessageInterface,
  MessageManagerInterface,
  messageProperties,
} from './messagemanager-iface.js';
import type { OutgoingText } from '../daemon/line-messages.js';

type Variant = InstanceType<typeof dbus.Variant>;
type Bus = ReturnType<typeof dbus.sessionBus>;
type Message = InstanceType<typeof dbus.Message>;

const INTERFACES = [
  'org.ofono.VoiceCallManager',
  'org.ofono.CallVolume',
  'org.ofono.CallSettings',
  'org.ofono.CallForwarding',
  'org.ofono.MessageWaiting',
  'org.ofono.MessageManager',
  'org.ofono.NetworkRegistration',
  'org.carphone.SipAccount',
];

interface ModemObjects {
  line: Line;
  path: string;
  modem: ModemInterface;
  vcm: VoiceCallManagerInterface;
  netreg: NetworkRegistrationInterface;
  account: SipAccountInterface;
  volume: CallVolumeInterface;
  voicemail: MessageWaitingInterface;
  settings: CallSettingsInterface;
  forwarding: CallForwardingInterface;
  messages: MessageManagerInterface;
  /** The Message objects of texts sent and not yet answered, by message id. */
  texts: Map<number, { path: string; iface: MessageInterface }>;
  calls: Map<string, { path: string; iface: VoiceCallInterface; quality: CallQualityInterface }>;
  lockdown: boolean;
}

/** PropertyChanged for each property whose value differs between `before` and `after`. */
function emitChangedBetween(
  iface: OfonoInterface,
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): void {
  for (const [k, value] of Object.entries(after)) {
    if (before[k] !== value) {
      iface.emitChanged(k, value);
    }
  }
}

export function callPath(modemPath: string, rec: CallRecord): string {
  return `${modemPath}/voicecall${String(rec.index).padStart(2, '0')}`;
}

export function messagePath(modemPath: string, message: OutgoingText): string {
  return `${modemPath}/message_${String(message.id).padStart(2, '0')}`;
}

/**
 * Exports carphone's lines on D-Bus in oFono's shape: the Manager at `/`, one modem object per line
 * (`/<account id>`) and one VoiceCall object per call. It subscribes to the lines' events and turns
 * them into oFono's signals; it holds no call state of its own.
 */
export class OfonoService {
  private readonly manager: ManagerInterface;
  private readonly modems = new Map<string, ModemObjects>();
  /** Objects outside the modems' hierarchy: /history, /contacts, /vehicle. */
  private readonly standalonePaths = new Set<string>();

  constructor(
    private readonly bus: Bus,
    private readonly logger: Logger,
    private readonly revision: string,
  ) {
    this.manager = new ManagerInterface(() => this.modemEntries(), logger);
    bus.export('/', this.manager);
    bus.addMethodHandler((msg: Message) => this.rejectWrongSignature(msg));
  }

  /**
   * oFono answers a call with the wrong argument types with org.ofono.Error.InvalidArguments; dbus-next
   * would answer UnknownMethod. Catch those calls before dbus-next's dispatcher sees them.
   */
  private rejectWrongSignature(msg: Message): boolean {
    if (msg.type !== dbus.MessageType.METHOD_CALL || !msg.interface || !msg.member) {
      return false;
    }
    const expected = IN_SIGNATURES.get(msg.interface)?.get(msg.member);
    if (expected === undefined || expected === (msg.signature ?? '')) {
      return false;
    }
    if (!this.isOurPath(msg.path ?? '')) {
      return false;
    }
    this.bus.send(
      dbus.Message.newError(
        // dbus-next's types declare a string here; the implementation takes the call being answered.
        msg as unknown as string,
        dbusErrorName('INVALID_ARGUMENTS'),
        `${msg.member} takes (${expected}), got (${msg.signature ?? ''})`,
      ),
    );
    return true;
  }

  /** Exports an object outside the modems' hierarchy, whose calls get the same checks as theirs. */
  exportObject(path: string, iface: OfonoInterface): void {
    this.standalonePaths.add(path);
    this.bus.export(path, iface);
  }

  private isOurPath(path: string): boolean {
    if (path === '/' || this.standalonePaths.has(path)) {
      return true;
    }
    for (const m of this.modems.values()) {
      if (
        path === m.path ||
        path.startsWith(`${m.path}/voicecall`) ||
        path.startsWith(`${m.path}/message_`)
      ) {
        return true;
      }
    }
    return false;
  }

  private modemEntries(): [string, Record<string, Variant>][] {
    return [...this.modems.values()].map((m) => [m.path, m.modem.GetProperties()]);
  }

  /** Exports a line; `extra` are interfaces only this line has (the eCall line's Emergency). */
  addLine(line: Line, extra: OfonoInterface[] = []): void {
    const path = `/${line.id}`;
    const log = this.logger.child({ line: line.id });
    const objects: Partial<ModemObjects> & { calls: ModemObjects['calls'] } = {
      calls: new Map(),
      texts: new Map(),
      lockdown: false,
    };
    const modemModel = {
      get powered() {
        return line.powered;
      },
      get online() {
        return line.powered;
      },
      get lockdown() {
        return objects.lockdown ?? false;
      },
      get emergency() {
        return line.manager.calls().some((c) => c.props.Emergency);
      },
      name: line.account.name ?? line.aor.replace(/^sip:/, ''),
      serial: line.aor,
      revision: this.revision,
      interfaces: [...INTERFACES, ...extra.map((i) => i.interfaceName)],
      setPowered: (on: boolean) => (on ? line.powerOn() : line.powerOff()),
      setOnline: async (on: boolean) => (on ? line.powerOn() : line.powerOff()),
      setLockdown: async (on: boolean) => {
        objects.lockdown = on;
        objects.modem?.emitChanged('Lockdown', on);
        if (on) {
          await line.powerOff();
        }
      },
    };
    const regModel: RegistrationModel = {
      get registration() {
        return line.registration;
      },
      aor: line.aor,
      registrar: line.account.registrar ?? '',
      transport: line.account.transport,
      get localAddress() {
        return line.sipAddress ?? '';
      },
      get publicAddress() {
        return line.publicAddress;
      },
      operatorName: line.account.domain,
      get voicemailSubscription() {
        return line.voicemail.subscription;
      },
    };
    const modem = new ModemInterface(modemModel, log);
    const vcm = new VoiceCallManagerInterface(
      {
        emergencyNumbers: EMERGENCY_NUMBERS,
        dial: async (number, hide) =>
          callPath(path, await line.dial(number, { hideIdentity: line.hidesIdentity(hide) })),
        calls: () => line.manager.calls().map((c) => [callPath(path, c), toDict(c.props)]),
        hangupAll: () => line.manager.hangupAll(),
        holdAndAnswer: () => line.manager.holdAndAnswer(),
        releaseAndAnswer: () => line.manager.releaseAndAnswer(),
        releaseAndSwap: () => line.manager.releaseAndSwap(),
        swapCalls: () => line.manager.swapCalls(),
        sendTones: (tones) => line.manager.sendTones(tones),
        transfer: () => line.manager.transfer(),
        createMultiparty: () => line.manager.createMultiparty().map((c) => callPath(path, c)),
        hangupMultiparty: () => line.manager.hangupMultiparty(),
        privateChat: (call) => {
          const rec = line.manager.calls().find((c) => callPath(path, c) === call);
          if (!rec) {
            throw new CarphoneError('NOT_FOUND', `no call ${call} on this line`);
          }
          return line.manager.privateChat(rec.id).map((c) => callPath(path, c));
        },
      },
      log,
    );
    const netreg = new NetworkRegistrationInterface(regModel, log);
    const account = new SipAccountInterface(regModel, log);
    const volume = new CallVolumeInterface(line, log);
    const voicemail = new MessageWaitingInterface(line, log);
    const settings = new CallSettingsInterface(line, log);
    const forwarding = new CallForwardingInterface(line, log);
    const messages = new MessageManagerInterface(
      {
        get useDeliveryReports() {
          return line.useDeliveryReports;
        },
        serviceCentre: line.account.sms?.serviceCentre ?? '',
        setUseDeliveryReports: (on) => line.setUseDeliveryReports(on),
        send: (to, text) => messagePath(path, line.sendTextMessage(to, text)),
        pending: () => line.pendingTexts.map((t) => [messagePath(path, t), toDict(messageProperties(t))]),
      },
      log,
    );
    Object.assign(objects, {
      line,
      path,
      modem,
      vcm,
      netreg,
      account,
      volume,
      voicemail,
      settings,
      forwarding,
      messages,
    });
    const full = objects as ModemObjects;
    this.modems.set(line.id, full);
    const ifaces = [modem, vcm, volume, settings, forwarding, voicemail, messages, netreg, account, ...extra];
    for (const iface of ifaces) {
      this.bus.export(path, iface);
    }
    this.wire(full);
    this.manager.ModemAdded(path, modem.GetProperties());
  }

  private wire(m: ModemObjects): void {
    const { line } = m;
    line.events.on('powered', (on) => {
      m.modem.emitChanged('Powered', on);
      m.account.emitChanged('LocalAddress', line.sipAddress ?? '');
    });
    line.events.on('moved', (sipAddress) => m.account.emitChanged('LocalAddress', sipAddress));
    line.events.on('online', (on) => m.modem.emitChanged('Online', on));
    let lastVolume = line.volume;
    line.events.on('volume', (v) => {
      emitChangedBetween(m.volume, { ...lastVolume }, { ...v });
      lastVolume = v;
    });
    let lastSettings = line.callSettings;
    line.events.on('call-settings', (next) => {
      emitChangedBetween(m.settings, callSettingsProperties(lastSettings), callSettingsProperties(next));
      lastSettings = next;
    });
    let lastForwarding = line.forwarding;
    line.events.on('forwarding', (next) => {
      emitChangedBetween(
        m.forwarding,
        callForwardingProperties(lastForwarding),
        callForwardingProperties(next),
      );
      lastForwarding = next;
    });
    let lastVoicemail = line.voicemail;
    line.events.on('voicemail', (v) => {
      emitChangedBetween(m.voicemail, messageWaitingProperties(lastVoicemail), messageWaitingProperties(v));
      if (v.subscription !== lastVoicemail.subscription) {
        m.account.emitChanged('VoicemailSubscription', v.subscription);
      }
      lastVoicemail = v;
    });
    this.wireMessages(m);
    let lastPublicAddress = line.publicAddress;
    line.events.on('registration', (status, reason) => {
      m.netreg.emitChanged('Status', networkStatus(status, reason));
      m.account.emitChanged('Registration', status);
      m.account.emitChanged('RegistrationError', status === 'failed' ? reason : '');
      if (line.publicAddress !== lastPublicAddress) {
        lastPublicAddress = line.publicAddress;
        m.account.emitChanged('PublicAddress', lastPublicAddress);
      }
    });
    line.manager.events.on('added', (rec) => {
      const path = callPath(m.path, rec);
      const iface = new VoiceCallInterface(
        {
          record: () => line.manager.get(rec.id) ?? rec,
          answer: () => line.manager.answer(rec.id),
          hangup: () => line.manager.hangup(rec.id),
          deflect: (number) => line.deflect(rec.id, number),
        },
        this.logger,
      );
      const quality = new CallQualityInterface(this.logger);
      m.calls.set(rec.id, { path, iface, quality });
      this.bus.export(path, iface);
      this.bus.export(path, quality);
      m.vcm.CallAdded(path, toDict(rec.props));
      if (rec.props.Emergency) {
        m.modem.emitChanged('Emergency', true);
      }
    });
    line.manager.events.on('changed', (rec, keys) => {
      const call = m.calls.get(rec.id);
      for (const k of keys) {
        call?.iface.emitChanged(k, rec.props[k]);
      }
    });
    line.manager.events.on('forwarded', (rec) => {
      m.vcm.Forwarded(rec.direction);
    });
    line.manager.events.on('tone', (rec, digit) => {
      m.calls.get(rec.id)?.iface.ToneReceived(digit);
    });
    line.manager.events.on('quality', (rec, q) => {
      m.calls.get(rec.id)?.quality.update(q);
    });
    line.manager.events.on('disconnect-reason', (rec, reason) => {
      m.calls.get(rec.id)?.iface.DisconnectReason(reason);
    });
    line.manager.events.on('removed', (rec) => {
      const call = m.calls.get(rec.id);
      if (!call) {
        return;
      }
      m.calls.delete(rec.id);
      m.vcm.CallRemoved(call.path);
      // Both its interfaces at once (bus.ts says why): one at a time, the second threw, and the
      // Modem's Emergency was never signalled false after an emergency call.
      unexportObject(this.bus, call.path);
      if (rec.props.Emergency) {
        m.modem.emitChanged('Emergency', false);
      }
    });
  }

  /** Text messages: each one sent is a Message object until the network has answered it. */
  private wireMessages(m: ModemObjects): void {
    const { line } = m;
    line.events.on('text-received', (text) =>
      text.immediate
        ? m.messages.ImmediateMessage(text.text, incomingInfo(text))
        : m.messages.IncomingMessage(text.text, incomingInfo(text)),
    );
    line.events.on('delivery-reports', (on) => m.messages.emitChanged('UseDeliveryReports', on));
    line.events.on('text-added', (text) => {
      // Exported only while pending: the answer that changes its state also removes it.
      const iface = new MessageInterface(
        () => text,
        () => line.cancelTextMessage(text.id),
        this.logger,
      );
      const sent = { path: messagePath(m.path, text), iface };
      m.texts.set(text.id, sent);
      this.bus.export(sent.path, sent.iface);
      m.messages.MessageAdded(sent.path, toDict(messageProperties(text)));
    });
    line.events.on('text-finished', (text) => {
      const sent = m.texts.get(text.id);
      if (!sent) {
        return;
      }
      m.texts.delete(text.id);
      sent.iface.emitChanged('State', text.state);
      m.messages.MessageRemoved(sent.path);
      unexportObject(this.bus, sent.path);
    });
  }
}
