import { randomBytes } from 'node:crypto';
import * as sip from 'sip';
import type { Clock, TimerHandle } from '../core/clock.js';
import { CarphoneError, errorMessage } from '../core/errors.js';
import { SafeEmitter } from '../core/emitter.js';
import type { Logger } from '../log/logger.js';
import {
  startIncoming,
  startOutgoing,
  transition,
  type CallEffect,
  type CallEvent,
  type CallPhase,
  type DisconnectReason,
} from '../calls/call-machine.js';
import { endingTone, localTones } from '../calls/local-tones.js';
import type { MediaFactory, MediaSession } from '../media/media-session.js';
import type { CallQuality } from '../media/rtcp/rtcp-state.js';
import { ConferenceRoom } from '../media/conference.js';
import {
  answerOffer,
  createOffer,
  offeredDirection,
  readAnswer,
  SdpError,
  type CodecName,
  type Direction,
  type LocalMedia,
} from '../sdp/offer-answer.js';
import { authorizationHeader, selectChallenge, type Credentials } from './digest.js';
import { isSipsUri, lineIdentification } from './dial-string.js';
import { calledLine } from './address-list.js';
import { answerForwarding, incomingForwarding, type Forwarding } from './forwarding.js';
import { displayName, quotedDisplayName } from './header-text.js';
import type { SipStack } from './stack.js';
import { optionTags, SUPPORTED_EXTENSIONS, SUPPORTED_METHODS } from './validate.js';
import {
  askAfter422,
  decideForRequest,
  initialAsk,
  requestHeaders,
  timerAfterResponse,
  timerDeadlineMs,
  type ServerDecision,
  type SessionAsk,
  type SessionTimer,
  type SessionTimerPolicy,
} from './session-timer.js';
import { parseReplaces, referTarget, sipfrag, type ReferTarget } from './refer.js';
import {
  firstRseq,
  formatRack,
  isNextRseq,
  parseRack,
  reliableRseq,
  requiresReliable,
  sameRack,
  type Rack,
} from './reliable-provisional.js';
import { refusalLog } from './inbound-streams.js';
import type { TextAnswer } from './text-message.js';
import { boundaryOf, buildMultipart, findBodyPart, MultipartError, parseMultipart } from './multipart.js';

/** What makes an INVITE an NG eCall (RFC 8147 §6): the service URN, the PSAP route, the MSD. */
export interface EmergencyInvite {
  /** urn:service:sos.ecall.automatic, …manual, or a test URN. */
  urn: string;
  /** The emergency proxy or PSAP, as a loose route. */
  route: string;
  /** UPER-encoded ECallMessage. */
  msd: Uint8Array;
  /** A control block for the INVITE (the IVS's capabilities, RFC 8147 §9.1.2). */
  control?: string;
}

/** How a call is placed, as the call manager asks for it. */
export interface DialOptions {
  emergency?: EmergencyInvite;
  /** Present no identity to the called party (oFono's hide_callerid "enabled"). */
  hideIdentity?: boolean;
  /** The call that asked for this one by REFER (its id), and the dialog this one replaces, if any. */
  transfer?: { from: string; replaces?: string };
}

export const MSD_CONTENT_TYPE = 'application/EmergencyCallData.eCall.MSD';
export const CONTROL_CONTENT_TYPE = 'application/EmergencyCallData.Control+xml';
export const MSD_INFO_PACKAGE = 'EmergencyCallData.eCall.MSD';

/** What makes a 302 Moved Temporarily send the caller to `target` (RFC 3261 §21.3.3). */
function redirectTo(target: string): Partial<sip.Response> {
  return { headers: { contact: [{ uri: target, params: {} }] } };
}

/** The From of a call that presents no identity (RFC 3323 §4.1.1.3). */
const ANONYMOUS_URI = 'sip:anonymous@anonymous.invalid';

/** Requests that only make sense within a call (a re-INVITE too): without one they get 481. */
const WITHIN_A_CALL = new Set(['BYE', 'NOTIFY', 'REFER', 'PRACK', 'UPDATE', 'INFO']);

const REJECT_REASONS = {
  486: 'Busy Here',
  487: 'Request Terminated',
  504: 'Server Time-out (no PRACK)',
  603: 'Decline',
} as const;

/** RFC 3261 timers T1 and T2, for 2xx retransmission and its 64·T1 limit (§13.3.1.4). */
const T1 = 500;
const T2 = 4000;
/** How long a transferor has to hang up after hearing that the transfer succeeded, before we do. */
const TRANSFEROR_GRACE_MS = 2000;

/** Why an INVITE with a Replaces header is refused (RFC 3891 §3), by status. */
const REPLACES_REFUSALS = {
  400: 'Bad Request (malformed Replaces)',
  481: 'Call/Transaction Does Not Exist',
  486: 'Busy Here',
  603: 'Decline (an eCall is not replaced)',
} as const;

export interface UaCallInfo {
  id: string;
  direction: 'outgoing' | 'incoming';
  remoteUri: string;
  lineIdentification: string;
  name: string;
  phase: CallPhase;
  /** The network forwarded the call: to us (incoming), or on from whom we called (outgoing). */
  forwarding?: Forwarding;
  /** Which of the subscriber's numbers the caller called (incoming; P-Called-Party-ID). */
  incomingLine?: string;
}

export type IncomingDecision = 'incoming' | 'waiting' | 'busy';
/** What to do with a new call: one of the above, or redirect it (302) elsewhere (call forwarding). */
export type IncomingVerdict = IncomingDecision | { redirectTo: string };

export type UaEvents = {
  'call-added': [UaCallInfo];
  'call-changed': [UaCallInfo];
  'call-ended': [UaCallInfo, DisconnectReason, number | undefined];
  dtmf: [string, string];
  /** The call's media quality after an RTCP interval: call id, quality. */
  quality: [string, CallQuality];
  /** A control block from the PSAP (in its answer or in an INFO): call id, XML, cid: of its body part. */
  control: [string, string, string | undefined];
  /** The far end of a call asks us to call someone else (REFER, accepted): call id, target. */
  transfer: [string, ReferTarget];
  /**
   * A new call never shown, as decideIncoming said: refused with 486 as the line was busy, or forwarded
   * with 302 (call forwarding). Who called, and which.
   */
  'call-turned-away': [
    Pick<UaCallInfo, 'remoteUri' | 'lineIdentification' | 'name' | 'forwarding'> & {
      how: 'busy' | 'forwarded';
    },
  ];
};

interface Dialog {
  callId: string;
  /** Begun with a sips: Request-URI: TLS on every hop, and our Contact sips: too (RFC 3261 §12.1). */
  secure: boolean;
  local: sip.NameAddr;
  remote: sip.NameAddr;
  remoteTarget: string;
  routeSet: sip.NameAddr[];
  localSeq: number;
  remoteSeq: number;
}

interface Call {
  info: UaCallInfo;
  dialog: Dialog;
  media: MediaSession;
  sdpVersion: number;
  sessionId: number;
  /** Our INVITE (outgoing) as sent: CANCEL reuses its Via branch. */
  invite?: sip.Request;
  /** The peer's INVITE we answer (incoming, or its re-INVITE). */
  serverInvite?: sip.Request;
  answerSdp?: string;
  retransmit?: TimerHandle;
  ackDeadline?: TimerHandle;
  authTried: boolean;
  pendingReinvite?: sip.Request;
  emergency?: EmergencyInvite;
  /** Placed with the caller's identity withheld: Privacy: header;id on its INVITE. */
  hideIdentity?: boolean;
  /** Placed because the far end of another call asked (REFER): that call, told how this one goes. */
  transfer?: { from: string; replaces?: string; referredBy: string; told: boolean };
  /** The last REFER the far end sent in this call, whose NOTIFYs carry its CSeq as the event id. */
  referSeq?: number;
  /** We asked this call's far end (REFER) to take over the call `with`: both end once it has. */
  handingOver?: { with: string };
  /** The far end said it supports Replaces (RFC 3891) in its INVITE or its answer. */
  replacesSupported?: boolean;
  /** The far end allows UPDATE (RFC 3311): our session refreshes go as UPDATEs, not re-INVITEs. */
  updateAllowed?: boolean;
  /** The challenge our INVITE last answered: a resent INVITE (after a 422) answers it again. */
  challenge?: sip.Response;
  /** What our initial INVITE asks of the session timer (RFC 4028). */
  sessionAsk?: SessionAsk;
  /** The session timer the 2xx to the far end's INVITE, re-INVITE or UPDATE sets up, if sent. */
  answerTimer?: Extract<ServerDecision, { type: 'accept' }>;
  sessionTimer?: SessionTimer;
  sessionTimerHandle?: TimerHandle;
  /** Our reliable 180 (RFC 3262) until the caller's PRACK for it comes: what it must acknowledge. */
  unacknowledged?: { rack: Rack; retransmit?: TimerHandle; deadline?: TimerHandle };
  /** The RSeq of the far end's last reliable provisional we acknowledged (PRACK). */
  lastRseq?: number;
}

export interface UserAgentOptions {
  stack: SipStack;
  clock: Clock;
  logger: Logger;
  aor: string;
  displayName?: string;
  credentials?: Credentials;
  /** Loose route for out-of-dialog requests (outbound proxy, or the registrar acting as proxy). */
  proxy?: string;
  media: MediaFactory;
  userAgent: string;
  decideIncoming: () => IncomingVerdict;
  /** Whether a call's far end may transfer it (REFER) now: undefined, or why not (none: never). */
  decideTransfer?: (callId: string) => string | undefined;
  /** A call that receives no RTP this long while it should is ended as dropped (0: never). */
  mediaTimeoutMs?: number;
  /** Audio codecs to offer and accept, most wanted first (default: Opus, PCMU, PCMA). */
  codecs?: readonly CodecName[];
  /** SRTP with SDES keys: off (default), optional, or mandatory. */
  srtp?: 'off' | 'optional' | 'mandatory';
  /** The address put in SDP when peers must reach the media elsewhere (a static NAT mapping). */
  mediaAddress?: string;
  /** Session timers (RFC 4028): asked for and taken part in when given, neither otherwise. */
  sessionTimer?: SessionTimerPolicy;
  /**
   * Whether a request outside any dialog (a new call, an unsolicited NOTIFY, an OPTIONS) is taken from
   * this source address; refused with 403 where not. Every address is, when not given.
   */
  acceptsNewRequestsFrom?: (address: string) => boolean;
}

/**
 * The SIP user agent of one account: dialogs, the INVITE/CANCEL/BYE/re-INVITE signalling of each call,
 * and the glue between the pure call machine (service/calls/call-machine.ts), the media session and the
 * `sip` transaction layer. Everything that can be decided without sockets is decided in the machine.
 */
export class UserAgent {
  readonly events: SafeEmitter<UaEvents>;
  private readonly calls = new Map<string, Call>();
  private readonly notifyHandlers = new Map<
    string,
    (rq: sip.Request) => { status: number; reason: string }
  >();
  private messageHandler: ((rq: sip.Request) => TextAnswer) | undefined;
  private closed = false;
  private readonly logRefused: (remote: string) => void;
  /** Ends the tone of an ended call still playing it (lingerWithEndingTone). */
  private readonly endingTones = new Set<() => void>();
  private muted = false;
  private volume = 100;
  /** Where the calls of this line's multiparty call are mixed. */
  private readonly conference = new ConferenceRoom();
  /** The line's SIP stack and media, until its address changes (moveTo). */
  private stack: SipStack;
  private media: MediaFactory;

  constructor(private readonly o: UserAgentOptions) {
    this.events = new SafeEmitter<UaEvents>((e, ev) =>
      o.logger.error({ err: errorMessage(e), ev }, 'listener failed'),
    );
    this.stack = o.stack;
    this.media = o.media;
    this.stack.onRequest((rq, remote) => this.onRequest(rq, remote));
    this.logRefused = refusalLog((count, remote) =>
      o.logger.warn({ refused: count, remote }, 'requests refused: not from a trusted source'),
    );
  }

  get contact(): string {
    return this.stack.contactUri(this.contactUser);
  }

  private get contactUser(): string {
    return sip.parseUri(this.o.aor)?.user ?? 'carphone';
  }

  /** The Contact for a call's messages: sips: in a dialog begun with a sips: URI (RFC 3261 §8.1.1.8). */
  private contactFor(call: Call): string {
    return this.stack.contactUri(this.contactUser, call.dialog.secure);
  }

  /** The option tags we put in Supported: session timers only where the line takes part in them. */
  private get extensions(): string {
    return (
      this.o.sessionTimer ? SUPPORTED_EXTENSIONS : SUPPORTED_EXTENSIONS.filter((t) => t !== 'timer')
    ).join(', ');
  }

  /** Microphone mute and playback volume for every call, now and later (oFono's CallVolume). */
  setAudio(muted: boolean, volume: number): void {
    this.muted = muted;
    this.volume = volume;
    for (const c of this.calls.values()) {
      c.media.setMuted(muted);
      c.media.setVolume(volume);
    }
  }

  /** Mixes these calls' audio together (a multiparty call); every other call is taken out of the mix. */
  setConference(ids: string[]): void {
    for (const [id, c] of this.calls) {
      c.media.setConference(ids.includes(id) ? this.conference : undefined);
    }
  }

  private newMedia(media: MediaSession, callId: string): MediaSession {
    media.setMuted(this.muted);
    media.setVolume(this.volume);
    media.onQuality((q) => this.events.emit('quality', callId, q));
    const timeout = this.o.mediaTimeoutMs ?? 0;
    if (timeout > 0) {
      media.onSilence(timeout, () => {
        const call = this.calls.get(callId);
        if (call?.info.phase.phase === 'confirmed') {
          this.o.logger.warn({ call: callId, timeoutMs: timeout }, 'no RTP: the call is taken as dropped');
          this.dispatch(call, { type: 'media-timeout' });
        }
      });
    }
    return media;
  }

  callInfo(id: string): UaCallInfo | undefined {
    return this.calls.get(id)?.info;
  }

  /** Places a call to `uri`. Resolves with the call id as soon as the INVITE is on its way. */
  async dial(uri: string, options: DialOptions & { direct?: boolean } = {}): Promise<UaCallInfo> {
    if (this.closed) {
      throw new CarphoneError('NOT_AVAILABLE', 'the SIP stack is shut down');
    }
    this.stopEndingTones();
    const callId = `${randomBytes(12).toString('hex')}@carphone`;
    const media = this.newMedia(await this.media.create(callId.slice(0, 12)), callId);
    const tag = randomBytes(6).toString('hex');
    // RFC 3323 §4.1.1.3: an anonymous From, and Privacy asking the network to withhold the identity
    // it asserts (id, RFC 3325) and to obscure the headers that must stay routable, such as Contact
    // (header) (3GPP TS 24.607, originating identification restriction).
    const local: sip.NameAddr = options.hideIdentity
      ? { uri: ANONYMOUS_URI, params: { tag }, name: '"Anonymous"' }
      : {
          uri: this.o.aor,
          params: { tag },
          ...(this.o.displayName ? { name: quotedDisplayName(this.o.displayName) } : {}),
        };
    const call: Call = {
      info: {
        id: callId,
        direction: 'outgoing',
        remoteUri: uri,
        lineIdentification: lineIdentification(uri),
        name: '',
        phase: { phase: 'dialing' },
      },
      dialog: {
        callId,
        local,
        remote: { uri, params: {} },
        remoteTarget: uri,
        secure: isSipsUri(uri),
        routeSet: options.emergency
          ? [{ uri: options.emergency.route, params: { lr: null } }]
          : this.o.proxy && !options.direct
            ? [{ uri: this.o.proxy, params: { lr: null } }]
            : [],
        localSeq: 1,
        remoteSeq: -1,
      },
      media,
      sdpVersion: 1,
      sessionId: Math.floor(Math.random() * 1e9),
      authTried: false,
      ...(options.emergency ? { emergency: options.emergency } : {}),
      ...(options.hideIdentity ? { hideIdentity: true } : {}),
      ...(options.transfer ? { transfer: this.transferFrom(options.transfer) } : {}),
      ...(this.o.sessionTimer ? { sessionAsk: initialAsk(this.o.sessionTimer) } : {}),
    };
    media.onDtmf((digit) => this.events.emit('dtmf', call.info.id, digit));
    this.calls.set(callId, call);
    this.apply(call, startOutgoing(), true);
    this.sendInvite(call, undefined);
    return call.info;
  }

  /** Feeds a user action (answer, hangup, hold, resume, waiting flag) to a call's machine. */
  act(id: string, event: Extract<CallEvent, { type: `user-${string}` | 'set-waiting' }>): void {
    const call = this.calls.get(id);
    if (!call) {
      throw new CarphoneError('NOT_FOUND', 'no such call');
    }
    this.dispatch(call, event);
  }

  /** What the account adds to every SDP: its codecs, and its SRTP mode with this call's key. */
  private mediaOptions(srtpInline: string): Pick<LocalMedia, 'codecs' | 'srtp'> {
    const srtp = this.o.srtp ?? 'off';
    return {
      ...(this.o.codecs ? { codecs: this.o.codecs } : {}),
      ...(srtp !== 'off' ? { srtp: { mode: srtp, inline: srtpInline } } : {}),
    };
  }

  private srtpMode(): 'optional' | 'mandatory' | undefined {
    const srtp = this.o.srtp ?? 'off';
    return srtp === 'off' ? undefined : srtp;
  }

  private offer(call: Call, direction: Direction): string {
    return createOffer(
      {
        address: this.o.mediaAddress ?? call.media.localAddress,
        port: call.media.localPort,
        sessionId: call.sessionId,
        version: call.sdpVersion++,
        ...this.mediaOptions(call.media.srtpInline),
      },
      direction,
    );
  }

  private baseHeaders(call: Call, method: string, seq: number): sip.Headers {
    const d = call.dialog;
    return {
      to: d.remote,
      from: d.local,
      'call-id': d.callId,
      cseq: { method, seq },
      'max-forwards': 70,
      ...(d.routeSet.length > 0 ? { route: d.routeSet.map((r) => ({ ...r, params: { ...r.params } })) } : {}),
    };
  }

  private sendInvite(call: Call, auth: sip.Response | undefined): void {
    const d = call.dialog;
    const rq: sip.Request = {
      method: 'INVITE',
      uri: d.remoteTarget,
      headers: {
        ...this.baseHeaders(call, 'INVITE', d.localSeq),
        contact: [{ uri: this.contactFor(call), params: {} }],
        'content-type': 'application/sdp',
        allow: SUPPORTED_METHODS.join(', '),
        supported: this.extensions,
        ...requestHeaders(call.sessionAsk, undefined),
        'user-agent': this.o.userAgent,
        ...(call.hideIdentity ? { privacy: 'header;id' } : {}),
        ...(call.transfer?.referredBy ? { 'referred-by': `<${call.transfer.referredBy}>` } : {}),
        ...(call.transfer?.replaces ? { replaces: call.transfer.replaces } : {}),
      },
      content: this.offer(call, 'sendrecv'),
    };
    if (call.emergency) {
      this.makeEcallInvite(rq, call.emergency, call.dialog.callId);
    }
    if (auth) {
      call.challenge = auth;
      this.authorize(rq, auth);
    }
    call.invite = rq;
    this.stack.send(rq, (rs) => this.onInviteResponse(call, rq, rs));
  }

  /** Turns an INVITE into an NG eCall as RFC 8147 §6 describes: SDP and MSD in one multipart body. */
  private makeEcallInvite(rq: sip.Request, e: EmergencyInvite, callId: string): void {
    const cid = `msd-${callId.slice(0, 16)}@carphone`;
    const controlCid = `control-${callId.slice(0, 16)}@carphone`;
    const boundary = `ecall-${callId.slice(0, 12)}`;
    rq.content = buildMultipart(boundary, [
      { headers: { 'Content-Type': 'application/sdp' }, body: rq.content ?? '' },
      {
        headers: {
          'Content-Type': MSD_CONTENT_TYPE,
          'Content-ID': `<${cid}>`,
          'Content-Disposition': 'by-reference;handling=optional',
        },
        body: Buffer.from(e.msd).toString('binary'),
      },
      ...(e.control
        ? [
            {
              headers: {
                'Content-Type': CONTROL_CONTENT_TYPE,
                'Content-ID': `<${controlCid}>`,
                'Content-Disposition': 'by-reference;handling=optional',
              },
              body: e.control,
            },
          ]
        : []),
    ]);
    rq.headers['content-type'] = `multipart/mixed;boundary=${boundary}`;
    rq.headers['call-info'] = [
      `<cid:${cid}>;purpose=EmergencyCallData.eCall.MSD`,
      ...(e.control ? [`<cid:${controlCid}>;purpose=EmergencyCallData.Control`] : []),
    ].join(', ');
    rq.headers.accept = `application/sdp, ${CONTROL_CONTENT_TYPE}`;
    rq.headers['recv-info'] = MSD_INFO_PACKAGE;
  }

  /** Sends DTMF on a call's media as RFC 4733 events. */
  async sendDtmf(id: string, keys: string): Promise<void> {
    const call = this.calls.get(id);
    if (!call || call.info.phase.phase !== 'confirmed') {
      throw new CarphoneError('FAILED', 'tones need an active call');
    }
    try {
      await call.media.sendDtmf(keys);
    } catch (e) {
      throw new CarphoneError('NOT_SUPPORTED', `cannot send tones on this call: ${errorMessage(e)}`);
    }
  }

  /** Sends an MSD in an INFO of the eCall info package (RFC 8147 §6, §9: the PSAP asked for fresh data). */
  sendMsdInfo(id: string, msd: Uint8Array): void {
    this.sendEcallInfo(id, MSD_CONTENT_TYPE, Buffer.from(msd).toString('binary'), 'MSD');
  }

  /** Sends a control block (an <ack> of the PSAP's requests) in an INFO of the eCall info package. */
  sendControlInfo(id: string, xml: string): void {
    this.sendEcallInfo(id, CONTROL_CONTENT_TYPE, xml, 'control');
  }

  private sendEcallInfo(id: string, contentType: string, content: string, what: string): void {
    const call = this.calls.get(id);
    if (!call || call.info.phase.phase !== 'confirmed') {
      throw new CarphoneError('FAILED', `no established call to send the ${what} on`);
    }
    this.sendInDialog(
      call,
      'INFO',
      (rs) => {
        if (rs.status >= 300) {
          this.o.logger.warn({ call: id, status: rs.status }, `${what} INFO refused`);
        }
      },
      { type: contentType, content },
      { 'info-package': MSD_INFO_PACKAGE, 'content-disposition': 'Info-Package' },
    );
  }

  private authorize(rq: sip.Request, challengeResponse: sip.Response): boolean {
    const proxy = challengeResponse.status === 407;
    const challenge = selectChallenge(
      proxy ? challengeResponse.headers['proxy-authenticate'] : challengeResponse.headers['www-authenticate'],
      proxy,
    );
    if (!challenge || !this.o.credentials) {
      return false;
    }
    rq.headers[proxy ? 'proxy-authorization' : 'authorization'] = [
      authorizationHeader({
        challenge,
        credentials: this.o.credentials,
        method: rq.method,
        uri: rq.uri,
        nc: 1,
      }),
    ];
    return true;
  }

  private onInviteResponse(call: Call, rq: sip.Request, rs: sip.Response): void {
    if (rq !== call.invite) {
      return;
    }
    const toTag = rs.headers.to?.params.tag;
    if (rs.status > 100 && rs.status < 300 && typeof toTag === 'string') {
      call.dialog.remote = { ...call.dialog.remote, params: { ...call.dialog.remote.params, tag: toTag } };
      const contact = Array.isArray(rs.headers.contact) ? rs.headers.contact[0] : undefined;
      if (contact) {
        call.dialog.remoteTarget = contact.uri;
      }
      const rr = rs.headers['record-route'];
      if (Array.isArray(rr) && rr.length > 0) {
        call.dialog.routeSet = [...rr].reverse();
      } else if (rs.status >= 200) {
        call.dialog.routeSet = [];
      }
    }
    if ((rs.status === 401 || rs.status === 407) && !call.authTried && call.info.phase.phase !== 'ended') {
      call.authTried = true;
      call.dialog.localSeq++;
      if (this.canAuthorize(rs)) {
        this.sendInvite(call, rs);
        return;
      }
    }
    if (rs.status === 422 && call.sessionAsk && call.info.phase.phase !== 'ended') {
      const ask = askAfter422(rs.headers, call.sessionAsk);
      if (ask) {
        this.o.logger.info(
          { call: call.info.id, seconds: ask.seconds },
          'session interval too small: asking again',
        );
        call.sessionAsk = ask;
        call.dialog.localSeq++;
        this.sendInvite(call, call.challenge);
        return;
      }
    }
    const rseq = reliableRseq(rs);
    if (rseq !== undefined) {
      if (!isNextRseq(rseq, call.lastRseq)) {
        return; // a retransmission of one we acknowledged, or one out of order (RFC 3262 §4)
      }
      call.lastRseq = rseq;
      this.sendInDialog(call, 'PRACK', () => undefined, undefined, {
        RAck: formatRack({ rseq, cseq: rq.headers.cseq?.seq ?? 0, method: 'INVITE' }),
      });
    }
    let earlyMedia = false;
    const contentType = String(rs.headers['content-type'] ?? '');
    const answerSdp = safeBodyPart(contentType, rs.content, 'application/sdp');
    if (answerSdp) {
      try {
        call.media.configure(readAnswer(answerSdp, call.media.localAddress, this.srtpMode()));
        earlyMedia = rs.status < 200;
      } catch (e) {
        this.o.logger.warn({ call: call.info.id, err: errorMessage(e) }, 'unusable SDP answer');
        if (rs.status >= 200 && rs.status < 300) {
          // A 2xx whose SDP we cannot use still creates a dialog: ACK it, then BYE (RFC 3261 §13.2.2.4).
          this.dispatch(call, { type: 'final-success' });
          this.dispatch(call, { type: 'user-hangup' });
          return;
        }
      }
    }
    const forwarding = call.info.forwarding ? undefined : answerForwarding(rs.status, rs.headers);
    if (forwarding) {
      call.info = { ...call.info, forwarding };
      // Said before the phase moves: a 181 may move nothing else.
      this.events.emit('call-changed', call.info);
    }
    if (rs.status < 200) {
      this.dispatch(call, { type: 'provisional', status: rs.status, earlyMedia });
    } else if (rs.status < 300) {
      call.replacesSupported = optionTags(rs.headers.supported).includes('replaces');
      call.updateAllowed = allowsUpdate(rs.headers.allow);
      if (this.o.sessionTimer && call.info.phase.phase !== 'confirmed') {
        this.setSessionTimer(call, timerAfterResponse(rs.headers, undefined, true));
      }
      this.dispatch(call, { type: 'final-success' });
      // A PSAP's answer may carry a control block (RFC 8147 §9): the MSD's acknowledgement.
      const control = controlPart(contentType, rs.content, rs.headers['content-id']);
      if (control) {
        this.events.emit('control', call.info.id, control.xml, control.ref);
      }
    } else {
      this.dispatch(call, { type: 'final-failure', status: rs.status });
    }
  }

  private canAuthorize(rs: sip.Response): boolean {
    const proxy = rs.status === 407;
    return (
      !!this.o.credentials &&
      !!selectChallenge(proxy ? rs.headers['proxy-authenticate'] : rs.headers['www-authenticate'], proxy)
    );
  }

  private dispatch(call: Call, event: CallEvent): void {
    this.apply(call, transition(call.info.phase, event), false);
  }

  private apply(call: Call, [phase, effects]: [CallPhase, CallEffect[]], added: boolean): void {
    call.info = { ...call.info, phase };
    for (const effect of effects) {
      try {
        this.run(call, effect, added);
      } catch (e) {
        this.o.logger.error(
          { call: call.info.id, effect: effect.type, err: errorMessage(e) },
          'effect failed',
        );
      }
    }
    this.updateLocalTones();
  }

  /**
   * An ended call that has a tone to play (calls/local-tones.ts: busy or congestion for a call we
   * placed that failed, the call-ended beeps for one the far end or the network ended) keeps its
   * audio a moment for it; whatever the driver does next (another call placed or coming in) ends it
   * at once.
   */
  private lingerWithEndingTone(call: Call): boolean {
    const othersLeft = [...this.calls.values()].some((c) => c !== call && c.info.phase.phase !== 'ended');
    const ending = endingTone(call.info, othersLeft);
    if (!ending) {
      return false;
    }
    const media = call.media;
    if (ending.tone === 'call-ended') {
      // It was sending the cabin's microphone to a far end that is gone.
      media.setMode({ send: false, receive: false });
    }
    media.setLocalTone(ending.tone);
    const end = (): void => {
      this.o.clock.clearTimeout(timer);
      this.endingTones.delete(end);
      media.setMode('stop');
    };
    const timer = this.o.clock.setTimeout(end, ending.ms);
    this.endingTones.add(end);
    return true;
  }

  private stopEndingTones(): void {
    [...this.endingTones].forEach((end) => end());
  }

  /** Any call's phase may change which tone every call plays (calls/local-tones.ts). */
  private updateLocalTones(): void {
    const calls = [...this.calls.values()];
    const tones = localTones(calls.map(({ info }) => info));
    for (const call of calls) {
      if (call.info.phase.phase !== 'ended') {
        call.media.setLocalTone(tones.get(call.info.id));
      }
    }
  }

  private run(call: Call, effect: CallEffect, added: boolean): void {
    switch (effect.type) {
      case 'changed':
        if (call.info.phase.phase === 'confirmed') {
          this.reportTransfer(call, 200);
        }
        this.events.emit(added ? 'call-added' : 'call-changed', call.info);
        break;
      case 'send-ringing':
        if (call.serverInvite && requiresReliable(call.serverInvite.headers)) {
          this.sendReliableRinging(call, call.serverInvite);
        } else {
          this.respondInvite(call, 180, 'Ringing');
        }
        break;
      case 'accept':
        this.acceptInvite(call, 'sendrecv');
        break;
      case 'accept-reoffer':
        this.acceptInvite(call, effect.wanted);
        break;
      case 'reject':
        this.respondInvite(call, effect.status, REJECT_REASONS[effect.status]);
        break;
      case 'redirect':
        this.respondInvite(call, 302, 'Moved Temporarily', redirectTo(effect.target));
        break;
      case 'send-cancel':
        this.sendCancel(call);
        break;
      case 'send-ack':
        this.sendAck(call);
        break;
      case 'send-bye':
        this.sendInDialog(call, 'BYE', () => undefined);
        break;
      case 'send-reinvite':
        this.sendReinvite(call, effect.direction);
        break;
      case 'media':
        if (effect.mode === 'stop' && this.lingerWithEndingTone(call)) {
          break;
        }
        call.media.setMode(effect.mode);
        break;
      case 'ended':
        this.stopRetransmit(call);
        this.stopReliable(call);
        this.setSessionTimer(call, undefined);
        // Keep the ended call reachable for the life of a transaction (64·T1): a CANCELled INVITE can
        // still see a late 2xx to ACK and BYE, and a retransmitted BYE still deserves its 200.
        this.o.clock.setTimeout(() => {
          if (this.calls.get(call.info.id) === call) {
            this.calls.delete(call.info.id);
          }
        }, 64 * T1);
        this.reportTransfer(call, effect.status ?? 487);
        this.events.emit('call-ended', call.info, effect.reason, effect.status);
        break;
    }
  }

  private respondInvite(call: Call, status: number, reason: string, extra?: Partial<sip.Response>): void {
    const rq = call.serverInvite;
    if (!rq) {
      return;
    }
    const rs = sip.makeResponse(rq, status, reason, extra);
    rs.headers.to = call.dialog.local;
    if (status < 300) {
      rs.headers.contact = [{ uri: this.contactFor(call), params: {} }];
    }
    if (status >= 200) {
      this.stopReliable(call);
    }
    this.stack.respond(rs);
  }

  /**
   * 180 sent reliably (RFC 3262 §3), as the caller requires: resent at T1, doubling, until its PRACK
   * comes; without one in 64·T1 the call is refused. It carries no SDP, so the 200 need not wait.
   */
  private sendReliableRinging(call: Call, rq: sip.Request): void {
    const rseq = firstRseq(Math.random());
    const rs = sip.makeResponse(rq, 180, 'Ringing', {
      headers: {
        contact: [{ uri: this.contactFor(call), params: {} }],
        require: '100rel',
        RSeq: String(rseq),
        ...(Array.isArray(rq.headers['record-route']) ? { 'record-route': rq.headers['record-route'] } : {}),
      },
    });
    rs.headers.to = call.dialog.local;
    const pending: NonNullable<Call['unacknowledged']> = {
      rack: { rseq, cseq: rq.headers.cseq?.seq ?? 0, method: 'INVITE' },
    };
    call.unacknowledged = pending;
    const send = (interval: number): void => {
      this.stack.respond(rs);
      pending.retransmit = this.o.clock.setTimeout(() => send(interval * 2), interval);
    };
    send(T1);
    pending.deadline = this.o.clock.setTimeout(() => {
      this.stopReliable(call);
      this.o.logger.warn({ call: call.info.id }, 'no PRACK for the reliable 180: the call is refused');
      this.dispatch(call, { type: 'prack-timeout' });
    }, 64 * T1);
  }

  private stopReliable(call: Call): void {
    this.o.clock.clearTimeout(call.unacknowledged?.retransmit);
    this.o.clock.clearTimeout(call.unacknowledged?.deadline);
    call.unacknowledged = undefined;
  }

  /** A PRACK: the caller acknowledges our reliable 180; one that matches none gets 481 (RFC 3262 §3). */
  private onPrack(call: Call, rq: sip.Request): void {
    if (!this.inOrder(call, rq)) {
      return;
    }
    const rack = parseRack(rq.headers.rack);
    if (!rack || !call.unacknowledged || !sameRack(rack, call.unacknowledged.rack)) {
      this.stack.respond(
        sip.makeResponse(rq, 481, 'Call/Transaction Does Not Exist (no such reliable provisional)'),
      );
      return;
    }
    this.stopReliable(call);
    this.stack.respond(sip.makeResponse(rq, 200, 'OK'));
  }

  /** 200 OK with our SDP answer, retransmitted until the ACK arrives (RFC 3261 §13.3.1.4). */
  private acceptInvite(call: Call, wanted: Direction): void {
    const rq = call.serverInvite;
    if (!rq) {
      return;
    }
    // Decided when the request came; it runs only if the request is accepted.
    const answerTimer = call.answerTimer;
    call.answerTimer = undefined;
    let body: string;
    try {
      const { answer, negotiated } = answerOffer(
        rq.content ?? '',
        {
          address: this.o.mediaAddress ?? call.media.localAddress,
          port: call.media.localPort,
          sessionId: call.sessionId,
          version: call.sdpVersion++,
          ...this.mediaOptions(call.media.srtpInline),
        },
        wanted,
      );
      call.media.configure(negotiated);
      body = answer;
    } catch (e) {
      this.o.logger.warn({ call: call.info.id, err: errorMessage(e) }, 'offer not acceptable');
      this.respondInvite(call, 488, 'Not Acceptable Here');
      return;
    }
    const isInvite = rq.method === 'INVITE';
    const rs = sip.makeResponse(rq, 200, 'OK', {
      headers: {
        contact: [{ uri: this.contactFor(call), params: {} }],
        'content-type': 'application/sdp',
        allow: SUPPORTED_METHODS.join(', '),
        supported: this.extensions,
        ...answerTimer?.headers,
        ...(isInvite && Array.isArray(rq.headers['record-route'])
          ? { 'record-route': rq.headers['record-route'] }
          : {}),
      },
      content: body,
    });
    rs.headers.to = call.dialog.local;
    this.stopReliable(call);
    if (answerTimer) {
      this.setSessionTimer(call, answerTimer.timer);
    }
    if (!isInvite) {
      // An offer in an UPDATE (RFC 3311): its answer goes in a final response of a non-INVITE
      // transaction, which the transaction layer resends as the request is resent; no ACK follows.
      this.stack.respond(rs);
      return;
    }
    this.stopRetransmit(call);
    const send = (interval: number): void => {
      this.stack.respond(rs);
      call.retransmit = this.o.clock.setTimeout(() => send(Math.min(interval * 2, T2)), interval);
    };
    send(T1);
    call.ackDeadline = this.o.clock.setTimeout(() => {
      this.o.clock.clearTimeout(call.retransmit);
      this.dispatch(call, { type: 'ack-timeout' });
    }, 64 * T1);
  }

  private stopRetransmit(call: Call): void {
    this.o.clock.clearTimeout(call.retransmit);
    this.o.clock.clearTimeout(call.ackDeadline);
    call.retransmit = undefined;
    call.ackDeadline = undefined;
  }

  private sendCancel(call: Call): void {
    const invite = call.invite;
    const via = invite?.headers.via?.[0];
    if (!invite || !via) {
      return;
    }
    const cancel: sip.Request = {
      method: 'CANCEL',
      uri: invite.uri,
      headers: {
        via: [{ ...via, params: { ...via.params } }],
        to: invite.headers.to,
        from: invite.headers.from,
        'call-id': invite.headers['call-id'],
        cseq: { method: 'CANCEL', seq: invite.headers.cseq?.seq ?? 1 },
        'max-forwards': 70,
        ...(invite.headers.route ? { route: invite.headers.route } : {}),
      },
    };
    this.stack.send(cancel, () => undefined);
  }

  private sendAck(call: Call): void {
    const seq =
      call.pendingReinvite?.headers.cseq?.seq ?? call.invite?.headers.cseq?.seq ?? call.dialog.localSeq;
    const ack: sip.Request = {
      method: 'ACK',
      uri: call.dialog.remoteTarget,
      headers: { ...this.baseHeaders(call, 'ACK', seq), via: [] },
    };
    this.stack.send(ack);
  }

  /** Sends a request inside a call's dialog, with the dialog's next CSeq (RFC 3261 §12.2.1.1). */
  private sendInDialog(
    call: Call,
    method: string,
    onResponse: (rs: sip.Response) => void,
    body?: { type: string; content: string },
    headers: sip.Headers = {},
  ): sip.Request {
    call.dialog.localSeq++;
    const rq: sip.Request = {
      method,
      uri: call.dialog.remoteTarget,
      headers: {
        ...this.baseHeaders(call, method, call.dialog.localSeq),
        contact: [{ uri: this.contactFor(call), params: {} }],
        ...headers,
        ...(body ? { 'content-type': body.type } : {}),
      },
      ...(body ? { content: body.content } : {}),
    };
    this.stack.send(rq, onResponse);
    return rq;
  }

  private sendReinvite(call: Call, direction: Direction): void {
    const offer = { type: 'application/sdp', content: this.offer(call, direction) };
    const rq = this.sendInDialog(
      call,
      'INVITE',
      (rs) => {
        if (rs.status < 200) {
          return;
        }
        if (rs.status < 300) {
          if (rs.content) {
            try {
              call.media.configure(readAnswer(rs.content, call.media.localAddress, this.srtpMode()));
            } catch (e) {
              this.o.logger.warn({ call: call.info.id, err: errorMessage(e) }, 'unusable re-INVITE answer');
            }
          }
          call.pendingReinvite = rq;
          this.sendAck(call);
          call.pendingReinvite = undefined;
          this.takeTimerFrom2xx(call, rs);
        }
        this.dispatch(call, { type: 'reinvite-result', status: rs.status });
      },
      offer,
      this.withinCallHeaders(call),
    );
  }

  /** What our re-INVITEs and UPDATEs carry besides the dialog's own headers: extensions and timer. */
  private withinCallHeaders(call: Call): sip.Headers {
    return { supported: this.extensions, ...requestHeaders(undefined, call.sessionTimer) };
  }

  /** The session timer after a 2xx to a re-INVITE or UPDATE of ours (RFC 4028 §7.4). */
  private takeTimerFrom2xx(call: Call, rs: sip.Response): void {
    if (this.o.sessionTimer) {
      this.setSessionTimer(call, timerAfterResponse(rs.headers, call.sessionTimer, false));
    }
  }

  /** Runs a call's session timer from now on (none: stops it). */
  private setSessionTimer(call: Call, timer: SessionTimer | undefined): void {
    this.o.clock.clearTimeout(call.sessionTimerHandle);
    call.sessionTimerHandle = undefined;
    const before = call.sessionTimer;
    call.sessionTimer = timer;
    if (timer) {
      if (before?.seconds !== timer.seconds || before.weRefresh !== timer.weRefresh) {
        this.o.logger.info(
          { call: call.info.id, seconds: timer.seconds, refresher: timer.weRefresh ? 'us' : 'far end' },
          'session timer',
        );
      }
      call.sessionTimerHandle = this.o.clock.setTimeout(
        () => this.onSessionTimer(call),
        timerDeadlineMs(timer),
      );
    }
  }

  /**
   * The session timer is due: the refresher refreshes (an UPDATE where the far end allows one, a
   * re-INVITE otherwise); the other side ends a call that was not refreshed in time (RFC 4028 §10).
   */
  private onSessionTimer(call: Call): void {
    const timer = call.sessionTimer;
    call.sessionTimerHandle = undefined;
    if (!timer || call.info.phase.phase !== 'confirmed') {
      return;
    }
    if (!timer.weRefresh) {
      this.o.logger.warn(
        { call: call.info.id, seconds: timer.seconds },
        'session not refreshed: the call is taken as dropped',
      );
      this.dispatch(call, { type: 'session-expired' });
      return;
    }
    // Should this refresh get no 2xx (a 491, say), another follows: the session has half its time left.
    call.sessionTimerHandle = this.o.clock.setTimeout(
      () => this.onSessionTimer(call),
      Math.round((timer.seconds * 1000) / 8),
    );
    if (call.updateAllowed) {
      this.sendUpdate(call);
    } else {
      this.dispatch(call, { type: 'session-refresh-due' });
    }
  }

  /** A session refresh without an offer (RFC 4028 §7.4, RFC 3311). */
  private sendUpdate(call: Call): void {
    this.sendInDialog(
      call,
      'UPDATE',
      (rs) => {
        if (rs.status < 200 || call.info.phase.phase !== 'confirmed') {
          return;
        }
        if (rs.status < 300) {
          this.takeTimerFrom2xx(call, rs);
        } else if (rs.status === 481 || rs.status === 408) {
          this.o.logger.warn(
            { call: call.info.id, status: rs.status },
            'session refresh failed: the call is gone',
          );
          this.dispatch(call, { type: 'session-expired' });
        } else if (rs.status === 405 || rs.status === 501) {
          call.updateAllowed = false;
          this.dispatch(call, { type: 'session-refresh-due' });
        } else {
          this.o.logger.warn({ call: call.info.id, status: rs.status }, 'session refresh refused');
        }
      },
      undefined,
      this.withinCallHeaders(call),
    );
  }

  private findCall(rq: sip.Request): Call | undefined {
    const call = this.calls.get(rq.headers['call-id'] ?? '');
    if (!call) {
      return undefined;
    }
    // In-dialog requests carry our tag in To; a CANCEL/ACK for the initial INVITE may not yet.
    const toTag = rq.headers.to?.params.tag;
    if (toTag !== undefined && toTag !== call.dialog.local.params.tag) {
      return undefined;
    }
    return call;
  }

  private onRequest(rq: sip.Request, remote: sip.Remote): void {
    if (this.closed) {
      return;
    }
    try {
      if (this.refusesSource(rq, remote)) {
        this.logRefused(remote.address);
        this.stack.respond(sip.makeResponse(rq, 403, "Forbidden (not from this line's proxy)"));
        return;
      }
      this.route(rq);
    } catch (e) {
      this.o.logger.error({ method: rq.method, err: errorMessage(e) }, 'request handling failed');
      if (rq.method !== 'ACK') {
        this.stack.respond(sip.makeResponse(rq, 500, 'Server Internal Error'));
      }
    }
  }

  /**
   * A request without a To tag begins something (RFC 3261 §12); one with a tag belongs to a dialog, which
   * it must match. ACK and CANCEL belong to an INVITE transaction.
   */
  private refusesSource(rq: sip.Request, remote: sip.Remote): boolean {
    const accepts = this.o.acceptsNewRequestsFrom;
    const begins = rq.headers.to?.params.tag === undefined && rq.method !== 'ACK' && rq.method !== 'CANCEL';
    return accepts !== undefined && begins && !accepts(remote.address);
  }

  /**
   * Who answers NOTIFYs of an event package other than a call's (message-summary: service/sip/mwi-client.ts),
   * with the status to answer.
   */
  handleNotifies(event: string, handler: (rq: sip.Request) => { status: number; reason: string }): void {
    this.notifyHandlers.set(event, handler);
  }

  /**
   * Who answers MESSAGE requests (text messages, RFC 3428: service/daemon/line-messages.ts), with the
   * status to answer; without one they get 405.
   */
  handleMessages(handler: (rq: sip.Request) => TextAnswer): void {
    this.messageHandler = handler;
  }

  private route(rq: sip.Request): void {
    const event = rq.method === 'NOTIFY' ? eventPackage(rq.headers.event) : undefined;
    const handler = event === undefined ? undefined : this.notifyHandlers.get(event);
    if (handler) {
      const { status, reason } = handler(rq);
      this.stack.respond(sip.makeResponse(rq, status, reason));
      return;
    }
    const call = this.findCall(rq);
    const withinCall =
      WITHIN_A_CALL.has(rq.method) || (rq.method === 'INVITE' && rq.headers.to?.params.tag !== undefined);
    if (withinCall) {
      if (!call) {
        this.stack.respond(sip.makeResponse(rq, 481, 'Call/Transaction Does Not Exist'));
        return;
      }
      this.routeWithinCall(call, rq);
      return;
    }
    switch (rq.method) {
      case 'OPTIONS':
        this.stack.respond(
          sip.makeResponse(rq, 200, 'OK', {
            headers: {
              allow: SUPPORTED_METHODS.join(', '),
              accept: 'application/sdp',
              'accept-language': 'en',
            },
          }),
        );
        return;
      case 'INVITE':
        void this.onNewInvite(rq);
        return;
      case 'MESSAGE':
        // One with a To tag belongs to a call (RFC 3428 §4), and skipped the check on where new requests come from.
        if (rq.headers.to?.params.tag !== undefined && !call) {
          this.stack.respond(sip.makeResponse(rq, 481, 'Call/Transaction Does Not Exist'));
          return;
        }
        if (this.messageHandler) {
          const answer = this.messageHandler(rq);
          const extension = answer.headers ? { headers: answer.headers } : undefined;
          this.stack.respond(sip.makeResponse(rq, answer.status, answer.reason, extension));
          return;
        }
        break;
      case 'ACK':
        if (call) {
          this.stopRetransmit(call);
        }
        return;
      case 'CANCEL':
        if (
          !call ||
          call.serverInvite?.headers.via?.[0]?.params.branch !== rq.headers.via?.[0]?.params.branch
        ) {
          this.stack.respond(sip.makeResponse(rq, 481, 'Call/Transaction Does Not Exist'));
          return;
        }
        // RFC 3261 §9.2: the same To tag as the INVITE's responses.
        this.stack.respond(sip.makeResponse(rq, 200, 'OK', { headers: { to: call.dialog.local } }));
        this.dispatch(call, { type: 'remote-cancel' });
        return;
    }
    this.stack.respond(
      sip.makeResponse(rq, 405, 'Method Not Allowed', { headers: { allow: SUPPORTED_METHODS.join(', ') } }),
    );
  }

  private routeWithinCall(call: Call, rq: sip.Request): void {
    switch (rq.method) {
      case 'INVITE':
        this.onReinvite(call, rq);
        return;
      case 'PRACK':
        this.onPrack(call, rq);
        return;
      case 'UPDATE':
        this.onUpdate(call, rq);
        return;
      case 'BYE':
        this.stack.respond(sip.makeResponse(rq, 200, 'OK'));
        this.dispatch(call, { type: 'remote-bye' });
        return;
      case 'NOTIFY':
        this.stack.respond(sip.makeResponse(rq, 200, 'OK'));
        this.onNotify(call, rq);
        return;
      case 'REFER':
        this.onRefer(call, rq);
        return;
      case 'INFO': {
        this.stack.respond(sip.makeResponse(rq, 200, 'OK'));
        const control = controlPart(
          String(rq.headers['content-type'] ?? ''),
          rq.content,
          rq.headers['content-id'],
        );
        if (control) {
          this.events.emit('control', call.info.id, control.xml, control.ref);
        }
        return;
      }
    }
  }

  /**
   * The far end asks us to call someone else (RFC 3515): a blind transfer, or an attended one whose
   * Refer-To carries the Replaces for the target's call with the transferor (RFC 5589). The new call is
   * placed through the call rules like any Dial (the line's transfer listener); its progress goes back
   * in NOTIFYs of the refer event.
   */
  private onRefer(call: Call, rq: sip.Request): void {
    const target = referTarget(rq.headers['refer-to']);
    if ('problem' in target) {
      this.stack.respond(sip.makeResponse(rq, 400, `Bad Request (${target.problem})`));
      return;
    }
    if (call.info.phase.phase !== 'confirmed') {
      this.stack.respond(sip.makeResponse(rq, 403, 'Forbidden (the call is not established)'));
      return;
    }
    const refusal = this.o.decideTransfer
      ? this.o.decideTransfer(call.info.id)
      : 'transfers are not taken on this line';
    if (refusal) {
      this.stack.respond(sip.makeResponse(rq, 403, `Forbidden (${refusal})`));
      return;
    }
    call.referSeq = rq.headers.cseq?.seq ?? 0;
    this.stack.respond(sip.makeResponse(rq, 202, 'Accepted'));
    this.o.logger.info({ call: call.info.id, target: target.uri, attended: !!target.replaces }, 'transfer');
    // The target is dialled (which holds this call by re-INVITE) once the NOTIFY is answered: see
    // reportTransfer on the order of in-dialog requests through a proxy.
    this.notifyRefer(call, 100, () => this.events.emit('transfer', call.info.id, target));
  }

  /**
   * oFono's Transfer (explicit call transfer; RFC 5589 §7): the far end of `heldId` is asked by REFER
   * to call the far end of `activeId`. Where both said they support Replaces, the Refer-To carries one
   * for our call with the target, which then swaps that call for the new one; else it is the target
   * alone (a phone that does not take Replaces may not take URI headers either: baresip 1.0 dials them
   * as part of the address), and the target has a second call until ours ends. Resolves once the
   * REFER is accepted; both our calls end when the transferee's NOTIFY says the new call was answered.
   */
  async transfer(heldId: string, activeId: string): Promise<void> {
    const held = this.calls.get(heldId);
    const active = this.calls.get(activeId);
    if (held?.info.phase.phase !== 'confirmed' || active?.info.phase.phase !== 'confirmed') {
      throw new CarphoneError('FAILED', 'a transfer needs two established calls');
    }
    const d = active.dialog;
    // RFC 3891 §3: the tags as the target sees them: its own (our remote) as to-tag, ours as from-tag.
    const replaces = `${d.callId};to-tag=${String(d.remote.params.tag ?? '')};from-tag=${String(d.local.params.tag ?? '')}`;
    // The target's Contact, not its address of record: the device in the call with us, not every
    // device registered under its number.
    const referTo =
      held.replacesSupported && active.replacesSupported
        ? `${d.remoteTarget}?Replaces=${encodeURIComponent(replaces)}`
        : d.remoteTarget;
    const status = await new Promise<number>((resolve) => {
      this.sendInDialog(
        held,
        'REFER',
        (rs) => {
          if (rs.status >= 200) {
            resolve(rs.status);
          }
        },
        undefined,
        { 'refer-to': { uri: referTo, params: {} }, 'referred-by': `<${this.o.aor}>` },
      );
    });
    if (status >= 300) {
      throw new CarphoneError('FAILED', `the held party refused the transfer (${status})`);
    }
    held.handingOver = { with: activeId };
  }

  /** A NOTIFY of the refer event from a transferee: once the new call is answered, ours end. */
  private onNotify(call: Call, rq: sip.Request): void {
    const handingOver = call.handingOver;
    const event = rq.headers.event;
    if (!handingOver || typeof event !== 'string' || !/^refer\b/i.test(event)) {
      return;
    }
    const status = Number(/^SIP\/2\.0 (\d{3})/.exec(rq.content ?? '')?.[1] ?? NaN);
    if (!(status >= 200)) {
      return;
    }
    call.handingOver = undefined;
    if (status >= 300) {
      this.o.logger.warn({ call: call.info.id, status }, 'the transferee could not reach the target');
      return;
    }
    this.o.logger.info({ call: call.info.id, with: handingOver.with }, 'transferred');
    for (const c of [call, this.calls.get(handingOver.with)]) {
      if (c?.info.phase.phase === 'confirmed') {
        this.dispatch(c, { type: 'user-hangup' });
      }
    }
  }

  /** A NOTIFY of the refer event: how the new call went; a final status ends the subscription. */
  private notifyRefer(call: Call, status: number, then: () => void = () => undefined): void {
    if (call.info.phase.phase !== 'confirmed' || call.referSeq === undefined) {
      then();
      return; // the transferor hung up already, as RFC 5589 §6 allows after the 202
    }
    this.sendInDialog(
      call,
      'NOTIFY',
      (rs) => {
        if (rs.status < 200) {
          return;
        }
        if (rs.status >= 300) {
          this.o.logger.debug({ call: call.info.id, status: rs.status }, 'transfer NOTIFY refused');
        }
        then();
      },
      { type: 'message/sipfrag;version=2.0', content: sipfrag(status) },
      {
        event: `refer;id=${call.referSeq}`,
        'subscription-state': status >= 200 ? 'terminated;reason=noresource' : 'active;expires=60',
      },
    );
  }

  /** Who asked for a transferred call (RFC 3892's Referred-By): the transferor's identity in its dialog. */
  private transferFrom(t: { from: string; replaces?: string }): NonNullable<Call['transfer']> {
    const from = this.calls.get(t.from);
    return { ...t, referredBy: from?.dialog.remote.uri ?? '', told: false };
  }

  /** Tells the transferor how the call it asked for went, once: it was answered, or it failed. */
  private reportTransfer(call: Call, status: number): void {
    const transfer = call.transfer;
    if (!transfer || transfer.told) {
      return;
    }
    transfer.told = true;
    const from = this.calls.get(transfer.from);
    if (!from) {
      return;
    }
    if (status >= 300) {
      // The transfer failed: back to the transferor, whom the new call put on hold. The re-INVITE
      // waits for the NOTIFY's answer: sent together, a proxy may pass the re-INVITE first, and the
      // NOTIFY, with the lower CSeq, is then refused as out of order (RFC 3261 §12.2.2).
      this.notifyRefer(from, status, () => {
        const p = from.info.phase;
        if (p.phase === 'confirmed' && (p.localHold || p.bridgedHold)) {
          this.dispatch(from, { type: 'user-resume' });
        }
      });
      return;
    }
    this.notifyRefer(from, status);
    // RFC 5589 §6: the transferor ends its call now. One that does not is ended here, rather than
    // left on hold on the driver's screen.
    this.o.clock.setTimeout(() => {
      if (this.calls.get(from.info.id) === from && from.info.phase.phase === 'confirmed') {
        this.dispatch(from, { type: 'user-hangup' });
      }
    }, TRANSFEROR_GRACE_MS);
  }

  /** A transfer the call rules refused after the 202: the transferor hears that it failed. */
  transferFailed(fromId: string, reason: string): void {
    const from = this.calls.get(fromId);
    this.o.logger.warn({ call: fromId, reason }, 'transfer not carried out');
    if (from) {
      this.notifyRefer(from, 503);
    }
  }

  private async onNewInvite(rq: sip.Request): Promise<void> {
    const callId = rq.headers['call-id'] ?? '';
    if (this.calls.has(callId)) {
      return; // a retransmission the transaction layer did not absorb
    }
    const offerSdp = safeBodyPart(String(rq.headers['content-type'] ?? ''), rq.content, 'application/sdp');
    if (!offerSdp) {
      this.stack.respond(sip.makeResponse(rq, 488, 'Not Acceptable Here (SDP offer required)'));
      return;
    }
    // A multipart offer (a PSAP's callback may carry data too) is answered from its SDP part.
    rq.content = offerSdp;
    rq.headers['content-type'] = 'application/sdp';
    try {
      // Acceptability only: the same codecs and SRTP mode as the real answer, with a placeholder key.
      answerOffer(
        offerSdp,
        {
          // Of the family the call's media will be bound to: RTP cannot cross from IPv4 to IPv6.
          address: this.o.mediaAddress ?? this.stack.address,
          port: 9,
          sessionId: 0,
          version: 0,
          ...this.mediaOptions(`inline:${'A'.repeat(40)}`),
        },
        'sendrecv',
      );
    } catch (e) {
      const reason = e instanceof SdpError ? e.message : 'bad SDP';
      this.stack.respond(sip.makeResponse(rq, 488, `Not Acceptable Here (${reason})`));
      return;
    }
    // An attended transfer's last step (RFC 3891): this call takes the place of one of ours.
    let replaced: Call | undefined;
    if (rq.headers.replaces !== undefined) {
      const found = this.replacedCall(rq);
      if (typeof found === 'object') {
        replaced = found;
      } else {
        this.stack.respond(sip.makeResponse(rq, found, REPLACES_REFUSALS[found]));
        return;
      }
    }
    const timer = this.timerForRequest(undefined, rq);
    if (!timer) {
      return;
    }
    const decision = replaced ? 'incoming' : this.o.decideIncoming();
    if (typeof decision === 'object' || decision === 'busy') {
      const forwarded = typeof decision === 'object';
      this.stack.respond(
        forwarded
          ? sip.makeResponse(rq, 302, 'Moved Temporarily', redirectTo(decision.redirectTo))
          : sip.makeResponse(rq, 486, 'Busy Here'),
      );
      const caller = rq.headers.from;
      if (caller) {
        this.events.emit('call-turned-away', {
          remoteUri: caller.uri,
          lineIdentification: lineIdentification(caller.uri),
          name: displayName(caller.name),
          forwarding: incomingForwarding(rq.headers),
          how: forwarded ? 'forwarded' : 'busy',
        });
      }
      return;
    }
    this.stopEndingTones();
    let media: MediaSession;
    try {
      media = this.newMedia(
        await this.media.create(callId.replace(/[^A-Za-z0-9]/g, '').slice(0, 12) || 'call'),
        callId,
      );
    } catch (e) {
      this.o.logger.error({ err: errorMessage(e) }, 'no media for incoming call');
      this.stack.respond(sip.makeResponse(rq, 503, 'Service Unavailable'));
      return;
    }
    const from = rq.headers.from;
    const to = rq.headers.to;
    const contact = Array.isArray(rq.headers.contact) ? rq.headers.contact[0] : undefined;
    if (!from || !to) {
      media.close();
      return;
    }
    const rr = rq.headers['record-route'];
    const forwarding = incomingForwarding(rq.headers);
    const call: Call = {
      info: {
        id: callId,
        direction: 'incoming',
        remoteUri: from.uri,
        lineIdentification: lineIdentification(from.uri),
        name: displayName(from.name),
        phase: { phase: 'incoming', waiting: decision === 'waiting' },
        ...(forwarding ? { forwarding } : {}),
        incomingLine: calledLine(rq.headers),
      },
      dialog: {
        callId,
        local: { ...to, params: { ...to.params, tag: randomBytes(6).toString('hex') } },
        remote: from,
        remoteTarget: contact?.uri ?? from.uri,
        secure: isSipsUri(String(rq.uri)),
        routeSet: Array.isArray(rr) ? [...rr] : [],
        localSeq: Math.floor(Math.random() * 10_000),
        remoteSeq: rq.headers.cseq?.seq ?? 0,
      },
      media,
      sdpVersion: 1,
      sessionId: Math.floor(Math.random() * 1e9),
      serverInvite: rq,
      authTried: false,
      replacesSupported: optionTags(rq.headers.supported).includes('replaces'),
      updateAllowed: allowsUpdate(rq.headers.allow),
      ...(timer !== 'none' ? { answerTimer: timer } : {}),
    };
    media.onDtmf((digit) => this.events.emit('dtmf', call.info.id, digit));
    this.calls.set(callId, call);
    const [phase, effects] = startIncoming(decision === 'waiting');
    // A replacement is answered at once, without ringing (RFC 3891 §3), and the call it replaces ended.
    this.apply(call, [phase, replaced ? effects.filter((e) => e.type !== 'send-ringing') : effects], true);
    if (replaced) {
      this.o.logger.info({ call: callId, replaces: replaced.info.id }, 'call replaced');
      this.dispatch(call, { type: 'user-answer' });
      this.dispatch(replaced, { type: 'user-hangup' });
    }
  }

  /**
   * The established call an INVITE's Replaces names (RFC 3891 §3: its to-tag is our tag, its
   * from-tag the far end's), or the status to refuse it with.
   */
  private replacedCall(rq: sip.Request): Call | keyof typeof REPLACES_REFUSALS {
    const r = parseReplaces(rq.headers.replaces);
    if (!r) {
      return 400;
    }
    const call = this.calls.get(r.callId);
    const d = call?.dialog;
    const matches = d?.local.params.tag === r.toTag && d.remote.params.tag === r.fromTag;
    if (!call || !matches || call.info.phase.phase !== 'confirmed') {
      return 481;
    }
    if (r.earlyOnly) {
      return 486;
    }
    if (call.emergency) {
      return 603;
    }
    return call;
  }

  /** Takes a request within the dialog in CSeq order (RFC 3261 §12.2.2), or answers 500. */
  private inOrder(call: Call, rq: sip.Request): boolean {
    const seq = rq.headers.cseq?.seq ?? 0;
    if (seq <= call.dialog.remoteSeq) {
      this.stack.respond(sip.makeResponse(rq, 500, 'Server Internal Error (CSeq out of order)'));
      return false;
    }
    call.dialog.remoteSeq = seq;
    return true;
  }

  /**
   * The session timer a request sets up (RFC 4028 §9), or undefined after refusing it. A line without
   * session timers refuses a request that requires them (420) and runs none.
   */
  private timerForRequest(
    call: Call | undefined,
    rq: sip.Request,
  ): Extract<ServerDecision, { type: 'accept' }> | 'none' | undefined {
    const policy = this.o.sessionTimer;
    if (!policy) {
      if (optionTags(rq.headers.require).includes('timer')) {
        this.stack.respond(sip.makeResponse(rq, 420, 'Bad Extension', { headers: { unsupported: 'timer' } }));
        return undefined;
      }
      return 'none';
    }
    const decision = decideForRequest(rq.headers, policy, call?.sessionTimer);
    if (decision.type === 'refuse') {
      this.stack.respond(
        sip.makeResponse(rq, decision.status, decision.reason, { headers: decision.headers }),
      );
      return undefined;
    }
    return decision;
  }

  /** A re-INVITE, or an UPDATE with an offer: the far end changes the session (hold, resume, codecs). */
  private onReoffer(call: Call, rq: sip.Request, offer: string): void {
    if (call.info.phase.phase !== 'confirmed') {
      this.stack.respond(sip.makeResponse(rq, 491, 'Request Pending'));
      return;
    }
    let direction: Direction;
    try {
      direction = offeredDirection(offer);
    } catch (e) {
      this.stack.respond(sip.makeResponse(rq, 488, `Not Acceptable Here (${errorMessage(e)})`));
      return;
    }
    const timer = this.timerForRequest(call, rq);
    if (!timer) {
      return;
    }
    const contact = Array.isArray(rq.headers.contact) ? rq.headers.contact[0] : undefined;
    if (contact) {
      call.dialog.remoteTarget = contact.uri;
    }
    if (rq.headers.allow !== undefined) {
      call.updateAllowed = allowsUpdate(rq.headers.allow);
    }
    if (timer !== 'none') {
      call.answerTimer = timer;
    }
    call.serverInvite = rq;
    this.dispatch(call, { type: 'remote-reoffer', direction });
  }

  private onReinvite(call: Call, rq: sip.Request): void {
    if (this.inOrder(call, rq)) {
      this.onReoffer(call, rq, rq.content ?? '');
    }
  }

  /** UPDATE (RFC 3311): a session refresh when it has no body, a change of the session when it has an offer. */
  private onUpdate(call: Call, rq: sip.Request): void {
    if (!this.inOrder(call, rq)) {
      return;
    }
    const offer = safeBodyPart(String(rq.headers['content-type'] ?? ''), rq.content, 'application/sdp');
    if (offer) {
      // Answered from its SDP part, as an INVITE is.
      rq.content = offer;
      rq.headers['content-type'] = 'application/sdp';
      this.onReoffer(call, rq, offer);
      return;
    }
    const confirmed = call.info.phase.phase === 'confirmed';
    const timer = confirmed ? this.timerForRequest(call, rq) : 'none';
    if (!timer) {
      return;
    }
    this.stack.respond(
      sip.makeResponse(rq, 200, 'OK', {
        headers: {
          contact: [{ uri: this.contactFor(call), params: {} }],
          supported: this.extensions,
          ...(timer !== 'none' ? timer.headers : {}),
        },
      }),
    );
    if (timer !== 'none') {
      this.setSessionTimer(call, timer.timer);
    }
  }

  /**
   * The line's address changed (a handover between networks, a modem's new address): from now on
   * everything goes through `stack`, on the new address, and new calls get their media from `media`.
   * Each answered call follows: its media moves to the new address, then a re-INVITE gives the far end
   * the new Contact and SDP (call-machine.ts, 'address-changed'). A call not yet answered ends.
   */
  async moveTo(stack: SipStack, media: MediaFactory): Promise<void> {
    this.stack = stack;
    this.media = media;
    stack.onRequest((rq, remote) => this.onRequest(rq, remote));
    await Promise.all(
      [...this.calls.values()].map(async (call) => {
        if (call.info.phase.phase === 'confirmed') {
          try {
            await call.media.moveTo(stack.address);
          } catch (e) {
            this.o.logger.warn({ call: call.info.id, err: errorMessage(e) }, 'media could not move');
          }
        }
        if (call.info.phase.phase !== 'ended') {
          this.dispatch(call, { type: 'address-changed' });
        }
      }),
    );
  }

  /** Ends every call (BYE/CANCEL/486 as each state needs) and stops listening. */
  shutdown(): void {
    this.stopEndingTones();
    for (const call of [...this.calls.values()]) {
      if (call.info.phase.phase !== 'ended') {
        this.dispatch(call, { type: 'user-hangup' });
      }
      call.media.close();
    }
    this.closed = true;
  }
}

/** The control block in a body (whole or multipart) and "cid:…" of its Content-ID, for the <ack ref>. */
function controlPart(
  contentType: string,
  body: string | undefined,
  contentId: unknown,
): { xml: string; ref?: string } | undefined {
  const xml = safeBodyPart(contentType, body, CONTROL_CONTENT_TYPE);
  if (!xml) {
    return undefined;
  }
  const boundary = boundaryOf(contentType);
  let id = typeof contentId === 'string' ? contentId : undefined;
  if (boundary && body) {
    try {
      id = parseMultipart(body, boundary).find((p) =>
        (p.headers['content-type'] ?? '').toLowerCase().startsWith(CONTROL_CONTENT_TYPE.toLowerCase()),
      )?.headers['content-id'];
    } catch (e) {
      if (!(e instanceof MultipartError)) {
        throw e;
      }
      id = undefined;
    }
  }
  const bare = id?.trim().replace(/^<|>$/g, '');
  return bare ? { xml, ref: `cid:${bare}` } : { xml };
}

function safeBodyPart(contentType: string, body: string | undefined, wanted: string): string | undefined {
  try {
    return findBodyPart(contentType, body, wanted);
  } catch (e) {
    if (e instanceof MultipartError) {
      return undefined;
    }
    throw e;
  }
}

/** Whether an Allow header (as the sip package joined it) names UPDATE. */
/** The package an Event header names (RFC 6665 §8.2.1), lower-cased, without its parameters. */
function eventPackage(header: unknown): string | undefined {
  return typeof header === 'string' ? header.split(';')[0]?.trim().toLowerCase() : undefined;
}

function allowsUpdate(allow: unknown): boolean {
  return typeof allow === 'string' && allow.split(',').some((m) => m.trim().toUpperCase() === 'UPDATE');
}
