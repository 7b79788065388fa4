import { readFileSync } from 'node:fs';
import { codecNames } from '../sdp/offer-answer.js';
import type { Clock } from '../core/clock.js';
import { CarphoneError, errorMessage } from '../core/errors.js';
import { SafeEmitter } from '../core/emitter.js';
import type { Logger } from '../log/logger.js';
import type { AccountConfig } from '../config/schema.js';
import { CallManager, EMERGENCY_NUMBERS, type CallRecord } from '../calls/manager.js';
import type { MediaFactory } from '../media/media-session.js';
import { isSipsUri, lineIdentification, parseDialString, targetUri } from '../sip/dial-string.js';
import { RegistrarClient } from '../sip/registrar-client.js';
import type { CallSettings, HideCallerId, LineSettings, SettingsStore } from './line-settings.js';
import { LineVoicemail, type Voicemail } from './line-voicemail.js';
import type { SmsStatusReport } from '../sms/status-report.js';
import {
  LineMessages,
  type FinalTextState,
  type IncomingText,
  type OutgoingText,
  type PreparedText,
} from './line-messages.js';
import type { WaitingTexts } from '../history/waiting-texts.js';
import type { SmsParts } from '../history/sms-parts.js';
import type { SmsTaken } from '../history/sms-taken.js';
import { outgoingBody } from '../sip/text-message.js';
import type { MessageSenderOptions } from '../sip/message-sender.js';
import {
  checkForwardingNumber,
  checkNoReplyTimeout,
  forwardedDecision,
  forwardingTarget,
  NO_FORWARDING,
  redirectTarget,
  type CallForwarding,
} from './line-forwarding.js';
import type { RegistrationStatus } from '../sip/registration.js';
import { SipStack, type StackOptions } from '../sip/stack.js';
import { TrustedSources } from '../sip/trusted-sources.js';
import { keyPairProblem } from '../core/tls-key-pair.js';
import { listenAddress, type InterfaceTable } from './listen-address.js';
import { UserAgent, type DialOptions } from '../sip/user-agent.js';
import type { ReferTarget } from '../sip/refer.js';
import type { Forwarding } from '../sip/forwarding.js';
import { endpointText } from '../core/ip-address.js';

export const USER_AGENT = 'carphone/0.1';
/** How long a line going down waits for the far ends to answer the requests that end its calls. */
const LINGER_MS = 1000;

export interface EchoRoute {
  number: string;
  uri: string;
}

export type LineEvents = {
  registration: [RegistrationStatus, string];
  powered: [boolean];
  online: [boolean];
  volume: [CallVolume];
  /** A PSAP control block (RFC 8147) arrived for a call: call id, XML. */
  control: [string, string, string | undefined];
  voicemail: [Voicemail];
  'call-settings': [CallSettings];
  /**
   * A caller never shown: refused with 486 as the line was busy (call waiting off, or no room for
   * another call), or forwarded elsewhere (CallForwarding).
   */
  'turned-away': [
    {
      lineIdentification: string;
      name: string;
      forwarding: Forwarding | undefined;
      at: number;
      how: 'busy' | 'forwarded';
    },
  ];
  forwarding: [CallForwarding];
  /** The line's SIP address ("address:port") after its interface's address changed. */
  moved: [string];
  /** A text message arrived (SIP MESSAGE). */
  'text-received': [IncomingText];
  /** A text message the driver sent is pending. */
  'text-added': [OutgoingText];
  /** A text message the driver sent reached its final state: sent, failed or cancelled. */
  'text-finished': [OutgoingText & { state: FinalTextState }];
  'text-status-report': [SmsStatusReport];
  /** oFono's MessageManager UseDeliveryReports changed. */
  'delivery-reports': [boolean];
};

/** oFono's CallVolume: microphone mute and the two volumes, in percent. */
export interface CallVolume {
  Muted: boolean;
  SpeakerVolume: number;
  MicrophoneVolume: number;
}

const DEFAULT_VOLUME: CallVolume = { Muted: false, SpeakerVolume: 80, MicrophoneVolume: 100 };

/**
 * One SIP account as the rest of carphone sees it: a line with a registration and calls. It owns the
 * account's SIP stack, user agent, registrar client and call manager, and is what D-Bus calls a modem.
 */
export class Line {
  readonly events: SafeEmitter<LineEvents>;
  readonly manager: CallManager;
  private stack: SipStack | undefined;
  private ua: UserAgent | undefined;
  private registrar: RegistrarClient | undefined;
  private readonly voicemailPart: LineVoicemail;
  private readonly messagesPart: LineMessages;
  private callSettingsValue: CallSettings;
  private forwardingValue: CallForwarding;
  private poweredValue = false;
  /**
   * Powered off for want of an address on its interface (not by request): the line comes up by itself
   * when the interface gets one (followAddress).
   */
  private waitingForAddress = false;
  /** Set by the eCall service: dialling an emergency number starts a manual eCall. */
  emergencyDial: ((number: string) => Promise<CallRecord>) | undefined;
  /**
   * Set by the eCall service: whether the PSAP may be calling back now (the callback period after an
   * eCall), when no call is refused for the driver's settings.
   */
  emergencyCallbackExpected: (() => boolean) | undefined;
  /** Set by the eCall service: where eCalls go (PSAP or emergency proxy), trusted like the line's proxies. */
  emergencyPeers: readonly string[] = [];
  private volumeValue: CallVolume;

  constructor(
    readonly account: AccountConfig,
    private readonly deps: {
      clock: Clock;
      logger: Logger;
      media: (address: string) => MediaFactory;
      echo?: EchoRoute;
      /** The system's network interfaces (os.networkInterfaces), for a line bound to one. */
      interfaces?: () => InterfaceTable;
      /** Where the driver's choices for the line are kept across restarts. */
      settings?: SettingsStore;
      /** Where the texts not yet answered are kept across restarts. */
      waitingTexts?: WaitingTexts;
      /** Where the parts of SMS texts held for the rest are kept across restarts. */
      smsParts?: SmsParts;
      /** Where the SMS taken lately are kept across restarts, to know one sent again. */
      smsTaken?: SmsTaken;
    },
  ) {
    this.events = new SafeEmitter((e, ev) =>
      deps.logger.error({ err: errorMessage(e), ev }, 'listener failed'),
    );
    this.manager = new CallManager(deps.clock, deps.logger);
    const saved = this.saved;
    this.callSettingsValue = {
      hideCallerId: saved.hideCallerId ?? 'default',
      voiceCallWaiting: saved.voiceCallWaiting ?? 'enabled',
    };
    this.forwardingValue = { ...NO_FORWARDING, ...saved.forwarding };
    this.manager.events.on('added', (rec) => this.forwardIfNoReply(rec));
    this.volumeValue = {
      Muted: false,
      SpeakerVolume: saved.speakerVolume ?? DEFAULT_VOLUME.SpeakerVolume,
      MicrophoneVolume: saved.microphoneVolume ?? DEFAULT_VOLUME.MicrophoneVolume,
    };
    this.voicemailPart = new LineVoicemail(
      account.voicemail,
      saved.voicemailNumber,
      (v) => this.events.emit('voicemail', v),
      (number) => this.deps.settings?.set(this.id, { voicemailNumber: number }),
    );
    this.messagesPart = new LineMessages(
      deps.clock,
      deps.logger.child({ line: account.id }),
      () => this.textSender(),
      {
        received: (m) => this.events.emit('text-received', m),
        added: (m) => this.events.emit('text-added', m),
        finished: (m) => this.events.emit('text-finished', m),
        unanswered: (texts) => deps.waitingTexts?.save(account.id, texts),
        smsParts: (parts) => deps.smsParts?.save(account.id, parts),
        smsTaken: (taken) => deps.smsTaken?.save(account.id, taken),
        statusReport: (report) => this.events.emit('text-status-report', report),
      },
    );
  }

  /** Text messages sent and not yet answered by the network. */
  get pendingTexts(): OutgoingText[] {
    return this.messagesPart.pending;
  }

  get useDeliveryReports(): boolean {
    return this.saved.useDeliveryReports ?? false;
  }

  setUseDeliveryReports(on: boolean): void {
    this.deps.settings?.set(this.id, { useDeliveryReports: on });
    this.events.emit('delivery-reports', on);
  }

  /**
   * oFono's SendMessage: a text message to a number or SIP address, through the registrar's network. It
   * goes at once where the line is registered (or has no registrar); otherwise it waits, pending, until
   * the line is, as a text typed in a tunnel should. A line switched off on purpose (Powered false,
   * Lockdown) takes none. Never to an emergency number: a text there reaches nobody, and a driver who
   * believes otherwise waits for help that does not come.
   */
  sendTextMessage(to: string, text: string): OutgoingText {
    const prepared = this.prepareText(to, text);
    if (!this.poweredValue && !this.waitingForAddress) {
      throw new CarphoneError('NOT_AVAILABLE', 'the line is powered off');
    }
    return this.messagesPart.submit(prepared);
  }

  /** oFono's Message.Cancel, for a text still waiting for the network. */
  cancelTextMessage(id: number): void {
    this.messagesPart.cancel(id);
  }

  /**
   * What a previous run left of texts: those it had not yet sent (or had not had answered) wait again,
   * and the parts of SMS texts it held wait for the rest again.
   */
  restoreTexts(): void {
    this.messagesPart.restoreSms(
      this.deps.smsParts?.load(this.id) ?? [],
      this.deps.smsTaken?.load(this.id) ?? [],
    );
    for (const saved of this.deps.waitingTexts?.load(this.id) ?? []) {
      try {
        this.messagesPart.submit(this.prepareText(saved.to, saved.text), saved.at, saved.sms);
      } catch (e) {
        this.deps.logger.warn({ line: this.id, to: saved.to, err: errorMessage(e) }, 'saved text dropped');
      }
    }
  }

  private prepareText(to: string, text: string): PreparedText {
    const target = parseDialString(to);
    const uri = targetUri(target, this.account.domain);
    if (target.kind === 'digits' && EMERGENCY_NUMBERS.includes(target.number)) {
      throw new CarphoneError('NOT_SUPPORTED', `no text messages to ${target.number}: call it`);
    }
    this.requireTransportFor(uri);
    const sms = this.account.sms;
    const prepared: PreparedText = { to: to.trim(), uri, text, body: outgoingBody(text) };
    if (sms && target.kind !== 'uri') {
      // A number, on a line whose network wants texts as SMS (TS 24.341); a SIP address stays a MESSAGE.
      const psi = sms.psi ?? `sip:${sms.serviceCentre}@${this.account.domain};user=phone`;
      prepared.sms = {
        destination: target.number,
        serviceCentre: sms.serviceCentre,
        psi,
        statusReport: this.useDeliveryReports,
      };
    }
    return prepared;
  }

  /** How texts go out now; none while the line cannot send (down, or not registered where it registers). */
  private textSender(): MessageSenderOptions | undefined {
    if (!this.poweredValue || (this.registrar && this.registrar.status !== 'registered')) {
      return undefined;
    }
    return {
      stack: () => this.stack,
      clock: this.deps.clock,
      aor: this.aor,
      ...(this.account.displayName ? { displayName: this.account.displayName } : {}),
      credentials: this.credentials,
      proxy: this.proxy,
      userAgent: USER_AGENT,
    };
  }

  get voicemail(): Voicemail {
    return this.voicemailPart.state;
  }

  /** oFono's SetProperty VoicemailMailboxNumber (line-voicemail.ts). */
  setMailboxNumber(number: string): void {
    this.voicemailPart.setMailboxNumber(number);
  }

  private get saved(): LineSettings {
    return this.deps.settings?.get(this.id) ?? {};
  }

  get forwarding(): CallForwarding {
    return { ...this.forwardingValue };
  }

  /** oFono's CallForwarding SetProperty and DisableAll: checked, applied to the next call, kept. */
  setForwarding(change: Partial<CallForwarding>): void {
    for (const number of [change.unconditional, change.busy, change.noReply]) {
      if (number !== undefined) {
        checkForwardingNumber(number);
      }
    }
    if (change.noReplyTimeoutSeconds !== undefined) {
      checkNoReplyTimeout(change.noReplyTimeoutSeconds);
    }
    this.forwardingValue = { ...this.forwardingValue, ...change };
    this.deps.settings?.set(this.id, { forwarding: this.forwardingValue });
    this.events.emit('forwarding', this.forwarding);
  }

  /** A call still ringing once the no-reply time is up goes where forwarding on no reply says. */
  private forwardIfNoReply(rec: CallRecord): void {
    const { noReply, noReplyTimeoutSeconds } = this.forwardingValue;
    if (rec.direction !== 'incoming' || noReply === '' || this.emergencyCallbackExpected?.() === true) {
      return;
    }
    this.deps.clock.setTimeout(() => {
      const call = this.manager.get(rec.id);
      const state = call?.props.State;
      if (call && (state === 'incoming' || state === 'waiting') && this.forwardingValue.noReply !== '') {
        try {
          this.deflect(rec.id, this.forwardingValue.noReply);
        } catch (e) {
          this.deps.logger.warn({ call: rec.id, err: errorMessage(e) }, 'not forwarded on no reply');
        }
      }
    }, noReplyTimeoutSeconds * 1000);
  }

  get callSettings(): CallSettings {
    return { ...this.callSettingsValue };
  }

  setCallSettings(change: Partial<CallSettings>): void {
    this.callSettingsValue = { ...this.callSettingsValue, ...change };
    this.deps.settings?.set(this.id, change);
    this.events.emit('call-settings', this.callSettings);
  }

  /** Whether a Dial asking `hide` ("" or "default": the line's HideCallerId) withholds the identity. */
  hidesIdentity(hide: HideCallerId): boolean {
    return (hide === 'default' ? this.callSettingsValue.hideCallerId : hide) === 'enabled';
  }

  get id(): string {
    return this.account.id;
  }

  get aor(): string {
    return `sip:${this.account.user}@${this.account.domain}`;
  }

  get volume(): CallVolume {
    return { ...this.volumeValue };
  }

  setVolume(change: Partial<CallVolume>): void {
    const clamp = (v: number): number => Math.max(0, Math.min(100, Math.round(v)));
    const next: CallVolume = {
      Muted: change.Muted ?? this.volumeValue.Muted,
      SpeakerVolume: clamp(change.SpeakerVolume ?? this.volumeValue.SpeakerVolume),
      MicrophoneVolume: clamp(change.MicrophoneVolume ?? this.volumeValue.MicrophoneVolume),
    };
    this.volumeValue = next;
    this.ua?.setAudio(next.Muted, next.SpeakerVolume);
    this.events.emit('volume', this.volume);
    this.deps.settings?.set(
      this.id,
      { speakerVolume: next.SpeakerVolume, microphoneVolume: next.MicrophoneVolume },
      'soon',
    );
  }

  get powered(): boolean {
    return this.poweredValue;
  }

  /** Where the registrar sees this line's SIP come from, while registered (RegistrarClient.publicAddress). */
  get publicAddress(): string {
    return this.registrar?.publicAddress ?? '';
  }

  get registration(): { status: RegistrationStatus; reason: string } {
    if (!this.registrar) {
      return this.poweredValue
        ? { status: 'unregistered', reason: 'no registrar configured: calls go direct' }
        : { status: 'unregistered', reason: 'line is powered off' };
    }
    return { status: this.registrar.status, reason: this.registrar.reason };
  }

  /** The user agent, for the eCall service's MSD INFOs and PSAP control blocks. */
  get userAgent(): UserAgent | undefined {
    return this.ua;
  }

  get sipAddress(): string | undefined {
    return this.stack ? endpointText(this.stack.address, this.stack.port) : undefined;
  }

  async powerOn(): Promise<void> {
    if (this.poweredValue) {
      return;
    }
    const a = this.account;
    const logger = this.deps.logger.child({ line: a.id });
    const address = listenAddress(a.listen, this.deps.interfaces?.());
    if (address === undefined) {
      this.waitingForAddress = true;
      throw new CarphoneError(
        'NOT_AVAILABLE',
        `network interface ${(a.listen.interface ?? []).join(', ')} has no ${a.listen.family === 'ipv6' ? 'global IPv6' : 'IPv4'} address: the line comes up when it gets one`,
      );
    }
    this.waitingForAddress = false;
    this.stack = await this.openStack(address, logger);
    const credentials = this.credentials;
    const proxy = this.proxy;
    const stack = this.stack;
    const trusted = this.takesRequestsOnlyFromProxies
      ? new TrustedSources(
          [a.registrar, a.outboundProxy, a.voicemail.server, ...this.emergencyPeers].flatMap((uri) =>
            uri === undefined ? [] : [withTransport(uri, a.transport) ?? uri],
          ),
          (uri) => stack.addressesOf(uri),
          logger,
        )
      : undefined;
    void trusted?.refresh();
    this.ua = new UserAgent({
      stack: this.stack,
      clock: this.deps.clock,
      logger,
      aor: this.aor,
      ...(a.displayName ? { displayName: a.displayName } : {}),
      ...(credentials ? { credentials } : {}),
      ...(proxy ? { proxy } : {}),
      media: this.deps.media(address),
      userAgent: USER_AGENT,
      decideIncoming: () => {
        const decision = this.manager.decideIncoming();
        const callback = this.emergencyCallbackExpected?.() === true;
        const refused =
          decision === 'waiting' && this.callSettingsValue.voiceCallWaiting === 'disabled' && !callback;
        const verdict = forwardedDecision(refused ? 'busy' : decision, this.forwardingValue, callback);
        return typeof verdict === 'object'
          ? { redirectTo: forwardingTarget(verdict.forwardTo, a.domain) }
          : verdict;
      },
      decideTransfer: (id) => this.manager.transferRefusal(id),
      mediaTimeoutMs: a.mediaTimeoutSeconds * 1000,
      codecs: codecNames(a.codecs),
      srtp: a.srtp,
      ...(a.mediaAddress ? { mediaAddress: a.mediaAddress } : {}),
      ...(a.sessionTimer.enabled ? { sessionTimer: a.sessionTimer } : {}),
      ...(trusted ? { acceptsNewRequestsFrom: (address: string) => trusted.includes(address) } : {}),
    });
    const ua = this.ua;
    ua.setAudio(this.volumeValue.Muted, this.volumeValue.SpeakerVolume);
    ua.events.on('control', (id, xml, ref) => this.events.emit('control', id, xml, ref));
    ua.events.on('call-added', (info) => this.manager.onCallAdded(info));
    ua.events.on('call-changed', (info) => this.manager.onCallChanged(info));
    ua.events.on('call-ended', (info, reason, status) => this.manager.onCallEnded(info, reason, status));
    ua.events.on('dtmf', (id, digit) => this.manager.onTone(id, digit));
    ua.events.on('quality', (id, q) => this.manager.onQuality(id, q));
    ua.events.on('call-turned-away', ({ lineIdentification, name, forwarding, how }) =>
      this.events.emit('turned-away', {
        lineIdentification,
        name,
        forwarding,
        how,
        at: this.deps.clock.now(),
      }),
    );
    this.messagesPart.listen(ua);
    ua.events.on('transfer', (id, target) => {
      this.followTransfer(id, target).catch((e: unknown) => ua.transferFailed(id, errorMessage(e)));
    });
    this.manager.attach({
      dial: (uri, options = {}) => ua.dial(uri, { ...options, direct: uri === this.deps.echo?.uri }),
      act: (id, event) => ua.act(id, event),
      setWaiting: (id, waiting) => ua.act(id, { type: 'set-waiting', waiting }),
      sendTones: (id, tones) => ua.sendDtmf(id, tones),
      setMultiparty: (ids) => ua.setConference(ids),
      transfer: (heldId, activeId) => ua.transfer(heldId, activeId),
    });
    if (a.registrar) {
      this.registrar = new RegistrarClient({
        stack: this.stack,
        clock: this.deps.clock,
        logger,
        registrar: withTransport(a.registrar, a.transport) ?? a.registrar,
        aor: this.aor,
        contact: ua.contact,
        credentials,
        expires: a.expires,
        keepAliveSeconds: a.keepAliveSeconds ?? (a.transport === 'udp' ? 25 : 90),
        userAgent: USER_AGENT,
        onStatus: (status, reason) => {
          if (status === 'registered') {
            void trusted?.refresh();
            this.messagesPart.sendWaiting();
          }
          this.events.emit('registration', status, reason);
        },
      });
      this.registrar.start();
    }
    this.startVoicemail(ua, this.stack, logger);
    this.poweredValue = true;
    this.messagesPart.sendWaiting(); // a line without a registrar sends at once
    this.events.emit('powered', true);
    this.events.emit('online', true);
    logger.info({ sip: this.sipAddress, aor: this.aor }, 'line up');
  }

  async powerOff(): Promise<void> {
    this.waitingForAddress = false; // powered off on request: it stays off
    if (!this.poweredValue) {
      return;
    }
    this.poweredValue = false;
    this.ua?.shutdown();
    await Promise.all([this.voicemailPart.stop(), this.registrar?.stop()]);
    // The BYEs and CANCELs that ended the calls: sent, and answered, before the socket closes.
    await this.stack?.settled(LINGER_MS);
    this.stack?.close();
    this.registrar = undefined;
    this.ua = undefined;
    this.stack = undefined;
    this.events.emit('online', false);
    this.events.emit('powered', false);
    this.events.emit('registration', 'unregistered', 'line is powered off');
  }

  private get credentials(): { user: string; password: string } | undefined {
    const a = this.account;
    return a.password !== undefined ? { user: a.authUser ?? a.user, password: a.password } : undefined;
  }

  /** Loose route for requests outside a dialog: the outbound proxy, or else the registrar. */
  private get proxy(): string | undefined {
    return withTransport(this.account.outboundProxy ?? this.account.registrar, this.account.transport);
  }

  private openStack(address: string, logger: Logger): Promise<SipStack> {
    const a = this.account;
    return SipStack.open({
      address,
      port: a.listen.port,
      transport: a.transport,
      ...readTlsFiles(a),
      ...(a.dnsServers !== undefined ? { dnsServers: a.dnsServers } : {}),
      logger,
    });
  }

  private startVoicemail(ua: UserAgent, stack: SipStack, logger: Logger): void {
    this.voicemailPart.start(ua, {
      stack,
      clock: this.deps.clock,
      logger,
      aor: this.aor,
      contact: ua.contact,
      credentials: this.credentials,
      proxy: this.proxy,
      userAgent: USER_AGENT,
    });
  }

  /**
   * For a line bound to a network interface, checked every few seconds. When the interface's address
   * changed (a handover between networks, an LTE modem that reconnected), the line moves to the new
   * one and keeps its calls (moveTo). When the interface lost its address, a line with calls keeps
   * them a while as they are, in case an address comes back (the calls end by themselves when their
   * media stays silent, mediaTimeoutSeconds); a line without calls goes down and waits, powered off,
   * for an address.
   */
  async followAddress(): Promise<void> {
    const iface = this.account.listen.interface;
    if (iface === undefined) {
      return;
    }
    const now = listenAddress(this.account.listen, this.deps.interfaces?.());
    const bound = this.stack?.address;
    if (this.poweredValue && now !== bound) {
      const change = { line: this.id, interface: iface.join(', '), from: bound };
      if (now !== undefined) {
        this.deps.logger.info({ ...change, to: now }, 'address changed');
        await this.moveTo(now);
      } else if (this.manager.liveCalls().length === 0) {
        this.deps.logger.info(change, 'address gone: the line waits for one');
        await this.powerOff();
        this.waitingForAddress = true;
      }
    }
    if (!this.poweredValue && this.waitingForAddress && now !== undefined) {
      await this.powerOn();
    }
  }

  /**
   * The line's address is now `address`: a SIP stack there takes over from the old one, each answered
   * call follows by re-INVITE (UserAgent.moveTo), the registration moves its binding there, and the
   * voicemail subscription starts afresh from there. Where no stack can be opened there, the line goes
   * down (its calls end) and comes up again on the address as it would at power-on.
   */
  private async moveTo(address: string): Promise<void> {
    const old = this.stack;
    const ua = this.ua;
    if (!old || !ua) {
      return;
    }
    const logger = this.deps.logger.child({ line: this.id });
    let stack: SipStack;
    try {
      stack = await this.openStack(address, logger);
    } catch (e) {
      logger.warn({ address, err: errorMessage(e) }, 'cannot move the line: taking it down and up again');
      await this.powerOff();
      this.waitingForAddress = true;
      return;
    }
    if (this.stack !== old) {
      stack.close(); // powered off while the stack opened
      return;
    }
    this.stack = stack;
    // Its un-SUBSCRIBE goes from the old address, likely gone: the calls do not wait for its answer.
    const voicemailStopped = this.voicemailPart.stop();
    await ua.moveTo(stack, this.deps.media(address));
    this.registrar?.moveTo(stack, ua.contact);
    await voicemailStopped;
    old.close();
    if (this.stack !== stack) {
      return; // powered off meanwhile
    }
    this.startVoicemail(ua, stack, logger);
    logger.info({ sip: this.sipAddress }, 'line moved');
    this.events.emit('moved', this.sipAddress ?? '');
  }

  /**
   * New requests only from the proxies' addresses: where the account says so, or by default where it
   * has a registrar or outbound proxy (a line without one is reached directly, from anywhere).
   */
  private get takesRequestsOnlyFromProxies(): boolean {
    const a = this.account;
    return (a.acceptRequestsFrom ?? (a.registrar || a.outboundProxy ? 'proxy' : 'anyone')) === 'proxy';
  }

  /** The head unit woke from suspend: the registrar may have forgotten this line meanwhile. */
  wokeUp(): void {
    this.registrar?.wokeUp();
  }

  /**
   * oFono's Deflect: the ringing call `id` is answered 302 with `number` as where to call instead. Never
   * to an emergency number: the caller's phone would call the emergency services because the driver
   * chose not to answer, with nobody in the car who knows why.
   */
  deflect(id: string, number: string): void {
    const { uri, emergency } = redirectTarget(number, this.account.domain);
    if (emergency) {
      throw new CarphoneError('NOT_ALLOWED', `a call is not deflected to an emergency number (${number})`);
    }
    this.manager.deflect(id, uri);
  }

  /** Dial as oFono's VoiceCallManager.Dial: validates, resolves the target, applies call rules. */
  async dial(number: string, options: Pick<DialOptions, 'hideIdentity'> = {}): Promise<CallRecord> {
    const target = parseDialString(number);
    this.requireLineFor(target.kind === 'uri' ? target.uri : '');
    if (this.emergencyDial && target.kind === 'digits' && EMERGENCY_NUMBERS.includes(target.number)) {
      return this.emergencyDial(number);
    }
    const echo = this.deps.echo;
    if (echo && target.kind === 'digits' && target.number === echo.number) {
      return this.manager.dial(number, echo.uri, options);
    }
    return this.dialRegistered(number, targetUri(target, this.account.domain), options);
  }

  /** A call the far end of call `fromId` asked for (REFER): dialled by the same rules as Dial. */
  private async followTransfer(fromId: string, target: ReferTarget): Promise<CallRecord> {
    this.requireLineFor(target.uri);
    return this.dialRegistered(lineIdentification(target.uri), target.uri, {
      transfer: { from: fromId, ...target },
    });
  }

  /** Whether this line can reach `uri` at all: powered, and over TLS for a sips: URI. */
  private requireLineFor(uri: string): void {
    this.requireTransportFor(uri);
    if (!this.poweredValue) {
      throw new CarphoneError('NOT_AVAILABLE', 'the line is powered off');
    }
  }

  /** Places a call through the registrar's network: only while registered, where there is one. */
  private dialRegistered(
    label: string,
    uri: string,
    options: Pick<DialOptions, 'hideIdentity' | 'transfer'>,
  ): Promise<CallRecord> {
    const reg = this.registration;
    if (this.registrar && reg.status !== 'registered') {
      throw new CarphoneError(
        'FAILED',
        `not registered with ${this.account.registrar ?? 'the registrar'}: ${reg.reason || reg.status}`,
      );
    }
    return this.manager.dial(label, uri, options);
  }

  private requireTransportFor(uri: string): void {
    if (isSipsUri(uri) && this.account.transport !== 'tls') {
      // RFC 3261 §26.2.2: a sips: URI is reached over TLS on every hop, the first one too.
      throw new CarphoneError('NOT_SUPPORTED', 'a sips: address needs a line over TLS (transport: tls)');
    }
  }
}

/**
 * The TLS files an account names, read each time its line comes up (a renewed certificate is taken
 * then): a file that cannot be read, or a key that is not the certificate's, keeps the line down with
 * an error naming the key.
 */
function readTlsFiles(a: AccountConfig): Pick<StackOptions, 'tlsCa' | 'tlsClient'> {
  const read = (key: 'tlsCaFile' | 'tlsCertFile' | 'tlsKeyFile'): string | undefined => {
    const path = a[key];
    try {
      return path === undefined ? undefined : readFileSync(path, 'utf8');
    } catch (e) {
      throw new CarphoneError('FAILED', `cannot read ${key} ${path ?? ''}: ${errorMessage(e)}`);
    }
  };
  const [tlsCa, cert, key] = [read('tlsCaFile'), read('tlsCertFile'), read('tlsKeyFile')];
  if (cert !== undefined && key !== undefined) {
    const problem = keyPairProblem(cert, key);
    if (problem !== undefined) {
      throw new CarphoneError(
        'FAILED',
        `tlsKeyFile is not the private key of the certificate in tlsCertFile (${problem})`,
      );
    }
  }
  return {
    ...(tlsCa !== undefined ? { tlsCa } : {}),
    ...(cert !== undefined && key !== undefined ? { tlsClient: { cert, key } } : {}),
  };
}

function withTransport(uri: string | undefined, transport: 'udp' | 'tcp' | 'tls'): string | undefined {
  if (!uri || transport === 'udp' || /;transport=/i.test(uri)) {
    return uri;
  }
  return `${uri};transport=${transport}`;
}
