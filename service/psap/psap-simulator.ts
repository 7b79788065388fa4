import { randomBytes } from 'node:crypto';
import { parseControl, type ActionResult } from '../ecall/control.js';
import * as sip from 'sip';
import type { Clock, TimerHandle } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { SafeEmitter } from '../core/emitter.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';
import { decodeECallMessage, type ECallMessage } from '../ecall/msd/msd.js';
import { NullDevice } from '../media/devices/null-device.js';
import type { MediaSession } from '../media/media-session.js';
import { RtpMediaFactory } from '../media/rtp-session.js';
import { answerOffer, createOffer, readAnswer } from '../sdp/offer-answer.js';
import { boundaryOf, buildMultipart, findBodyPart, parseMultipart, type BodyPart } from '../sip/multipart.js';
import { SipStack } from '../sip/stack.js';
import { CONTROL_CONTENT_TYPE, MSD_CONTENT_TYPE, MSD_INFO_PACKAGE } from '../sip/user-agent.js';
import { endpointText } from '../core/ip-address.js';

/**
 * A PSAP (emergency call centre) for tests and for integrators: it accepts NG eCalls (RFC 8147),
 * decodes the MSD, acknowledges it in the answer, can ask for a new MSD, clear down, and call the
 * vehicle back. Every event is also a JSON line for the log.
 */
export interface PsapCall {
  callId: string;
  urn: string;
  from: string;
  /** The vehicle's Contact: where in-dialog requests and a callback go. */
  vehicleContact: string;
  headers: { callInfo: string; accept: string; recvInfo: string; contentType: string };
  msds: ECallMessage[];
  /** Content-ID of the MSD part, and whether Call-Info referenced it. */
  msdContentId: string;
  msdDisposition: string;
  /** The actions the vehicle said it can carry out (the control block of its INVITE). */
  capabilities: string[];
  /** The vehicle's answers to the PSAP's requests (<actionResult>s of its acks). */
  actionResults: ActionResult[];
  state: 'ringing' | 'active' | 'ended' | 'dropped';
  endedBy?: 'vehicle' | 'psap';
}

export type PsapEvents = {
  ecall: [PsapCall];
  msd: [PsapCall, ECallMessage];
  ended: [PsapCall];
  log: [Record<string, unknown>];
};

interface Dialog {
  call: PsapCall;
  invite: sip.Request;
  localTag: string;
  seq: number;
  media: MediaSession;
  /** The version of our SDP's o= line: 1 in the answer to the eCall, one more in each after. */
  sdpVersion: number;
  ok?: sip.Response;
  retransmit?: TimerHandle;
}

const CONTROL_NS = 'urn:ietf:params:xml:ns:EmergencyCallData:control';

export class PsapSimulator {
  readonly events: SafeEmitter<PsapEvents>;
  private readonly dialogs = new Map<string, Dialog>();
  private readonly media: RtpMediaFactory;

  private constructor(
    private readonly stack: SipStack,
    private readonly clock: Clock,
    logger: Logger,
    private readonly options: { answer: boolean; ackMsd: boolean; reject: number },
  ) {
    this.events = new SafeEmitter((e) => logger.error({ err: errorMessage(e) }, 'psap listener failed'));
    this.media = new RtpMediaFactory(stack.address, { min: 31000, max: 31999 }, new NullDevice(), logger);
    stack.onRequest((rq) => this.onRequest(rq));
  }

  /** `reject`: answer the first N eCalls 503, as an overloaded or unreachable PSAP would. */
  static async start(
    o: {
      address?: string;
      port?: number;
      answer?: boolean;
      ackMsd?: boolean;
      reject?: number;
      logger?: Logger;
      clock?: Clock;
    } = {},
  ): Promise<PsapSimulator> {
    const logger = o.logger ?? silentLogger;
    const stack = await SipStack.open({
      address: o.address ?? '127.0.0.1',
      port: o.port ?? 0,
      transport: 'udp',
      logger,
    });
    return new PsapSimulator(stack, o.clock ?? systemClock, logger, {
      answer: o.answer ?? true,
      ackMsd: o.ackMsd ?? true,
      reject: o.reject ?? 0,
    });
  }

  get uri(): string {
    return `sip:${endpointText(this.stack.address, this.stack.port)}`;
  }

  get port(): number {
    return this.stack.port;
  }

  calls(): PsapCall[] {
    return [...this.dialogs.values()].map((d) => d.call);
  }

  private log(event: string, fields: Record<string, unknown>): void {
    this.events.emit('log', { time: new Date(this.clock.now()).toISOString(), event, ...fields });
  }

  private onRequest(rq: sip.Request): void {
    const callId = rq.headers['call-id'] ?? '';
    const dialog = this.dialogs.get(callId);
    if (dialog?.call.state === 'dropped') {
      return; // the network is gone: nothing comes back
    }
    switch (rq.method) {
      case 'INVITE':
        if (!dialog) {
          void this.onEcall(rq);
        } else {
          this.onReinvite(dialog, rq);
        }
        return;
      case 'ACK':
        if (dialog) {
          this.clock.clearTimeout(dialog.retransmit);
          if (dialog.call.state === 'ringing') {
            dialog.call.state = 'active';
          }
        }
        return;
      case 'BYE':
        this.stack.respond(
          sip.makeResponse(rq, dialog ? 200 : 481, dialog ? 'OK' : 'Call/Transaction Does Not Exist'),
        );
        if (dialog) {
          this.end(dialog, 'vehicle');
        }
        return;
      case 'INFO': {
        this.stack.respond(
          sip.makeResponse(rq, dialog ? 200 : 481, dialog ? 'OK' : 'Call/Transaction Does Not Exist'),
        );
        const body = dialog
          ? findBodyPart(String(rq.headers['content-type'] ?? ''), rq.content, MSD_CONTENT_TYPE)
          : undefined;
        if (dialog && body) {
          this.receiveMsd(dialog.call, body, {
            via: 'INFO',
            infoPackage: headerText(rq.headers['info-package']),
          });
        }
        const control = dialog
          ? findBodyPart(String(rq.headers['content-type'] ?? ''), rq.content, CONTROL_CONTENT_TYPE)
          : undefined;
        if (dialog && control) {
          try {
            const results = parseControl(control).acks.flatMap((a) => a.results);
            dialog.call.actionResults.push(...results);
            this.log('control-ack', { callId: dialog.call.callId, results });
          } catch (e) {
            this.log('control-unreadable', { callId: dialog.call.callId, error: errorMessage(e) });
          }
        }
        return;
      }
      default:
        this.stack.respond(sip.makeResponse(rq, 200, 'OK'));
    }
  }

  private receiveMsd(call: PsapCall, binary: string, fields: Record<string, unknown>): void {
    try {
      const msd = decodeECallMessage(Uint8Array.from(Buffer.from(binary, 'binary')));
      call.msds.push(msd);
      this.log('msd', { callId: call.callId, ...fields, msd });
      this.events.emit('msd', call, msd);
    } catch (e) {
      this.log('msd-undecodable', {
        callId: call.callId,
        error: errorMessage(e),
        hex: Buffer.from(binary, 'binary').toString('hex'),
      });
    }
  }

  private async onEcall(rq: sip.Request): Promise<void> {
    const contentType = String(rq.headers['content-type'] ?? '');
    const boundary = boundaryOf(contentType);
    const parts = boundary && rq.content ? parseMultipart(rq.content, boundary) : [];
    const msdPart = parts.find(
      (p) => (p.headers['content-type'] ?? '').toLowerCase() === MSD_CONTENT_TYPE.toLowerCase(),
    );
    const sdp = findBodyPart(contentType, rq.content, 'application/sdp');
    const contact = Array.isArray(rq.headers.contact) ? rq.headers.contact[0]?.uri : undefined;
    const call: PsapCall = {
      callId: rq.headers['call-id'] ?? '',
      urn: rq.uri,
      from: rq.headers.from?.uri ?? '',
      vehicleContact: contact ?? rq.headers.from?.uri ?? '',
      headers: {
        callInfo: headerText(rq.headers['call-info']),
        accept: headerText(rq.headers.accept),
        recvInfo: headerText(rq.headers['recv-info']),
        contentType,
      },
      msds: [],
      msdContentId: (msdPart?.headers['content-id'] ?? '').replace(/^<|>$/g, ''),
      msdDisposition: msdPart?.headers['content-disposition'] ?? '',
      capabilities: capabilitiesIn(parts),
      actionResults: [],
      state: 'ringing',
    };
    if (!sdp) {
      this.stack.respond(sip.makeResponse(rq, 488, 'Not Acceptable Here'));
      return;
    }
    if (this.options.reject > 0) {
      this.options.reject--;
      this.log('rejected', { callId: call.callId, urn: call.urn, status: 503 });
      this.stack.respond(sip.makeResponse(rq, 503, 'Service Unavailable'));
      return;
    }
    const media = await this.media.create(call.callId.slice(0, 8));
    const dialog: Dialog = {
      call,
      invite: rq,
      localTag: randomBytes(6).toString('hex'),
      seq: 1,
      media,
      sdpVersion: 1,
    };
    this.dialogs.set(call.callId, dialog);
    this.log('ecall', {
      callId: call.callId,
      urn: call.urn,
      from: call.from,
      headers: call.headers,
      msdContentId: call.msdContentId,
    });
    if (msdPart) {
      this.receiveMsd(call, msdPart.body, { via: 'INVITE' });
    }
    this.events.emit('ecall', call);
    const ringing = sip.makeResponse(rq, 180, 'Ringing');
    ringing.headers.to = {
      ...(rq.headers.to ?? { uri: rq.uri, params: {} }),
      params: { ...(rq.headers.to?.params ?? {}), tag: dialog.localTag },
    };
    this.stack.respond(ringing);
    if (this.options.answer) {
      this.answer(dialog, sdp);
    }
  }

  /**
   * A re-INVITE from the vehicle (its address changed, a session refresh): a target refresh (RFC 3261
   * §12.2.2) and a new offer, answered at once; the PSAP's audio goes where the offer says from now on.
   */
  private onReinvite(dialog: Dialog, rq: sip.Request): void {
    const offer = findBodyPart(String(rq.headers['content-type'] ?? ''), rq.content, 'application/sdp');
    if (!offer) {
      this.stack.respond(sip.makeResponse(rq, 488, 'Not Acceptable Here (SDP offer required)'));
      return;
    }
    let answered: ReturnType<typeof answerOffer>;
    try {
      dialog.sdpVersion++;
      answered = answerOffer(
        offer,
        {
          address: this.stack.address,
          port: dialog.media.localPort,
          sessionId: 1,
          version: dialog.sdpVersion,
        },
        'sendrecv',
      );
    } catch (e) {
      this.stack.respond(sip.makeResponse(rq, 488, `Not Acceptable Here (${errorMessage(e)})`));
      return;
    }
    dialog.media.configure(answered.negotiated);
    const contact = Array.isArray(rq.headers.contact) ? rq.headers.contact[0]?.uri : undefined;
    if (contact) {
      dialog.call.vehicleContact = contact;
    }
    this.log('reinvite', {
      callId: dialog.call.callId,
      vehicleContact: dialog.call.vehicleContact,
      media: `${answered.negotiated.remoteAddress}:${answered.negotiated.remotePort}`,
    });
    this.stack.respond(
      sip.makeResponse(rq, 200, 'OK', {
        headers: {
          contact: [{ uri: this.stack.contactUri('psap'), params: {} }],
          'content-type': 'application/sdp',
        },
        content: answered.answer,
      }),
    );
  }

  private answer(dialog: Dialog, offer: string): void {
    const rq = dialog.invite;
    const { answer, negotiated } = answerOffer(
      offer,
      { address: this.stack.address, port: dialog.media.localPort, sessionId: 1, version: dialog.sdpVersion },
      'sendrecv',
    );
    dialog.media.configure(negotiated);
    dialog.media.setMode({ send: true, receive: true });
    const boundary = `psap-${dialog.localTag}`;
    const ack = `<?xml version="1.0" encoding="UTF-8"?><EmergencyCallData.Control xmlns="${CONTROL_NS}"><ack received="true" ref="cid:${dialog.call.msdContentId}"/></EmergencyCallData.Control>`;
    const parts: BodyPart[] = [{ headers: { 'Content-Type': 'application/sdp' }, body: answer }];
    const headers: sip.Headers = {
      contact: [{ uri: this.stack.contactUri('psap'), params: {} }],
    };
    if (this.options.ackMsd && dialog.call.msds.length > 0) {
      parts.push({
        headers: {
          'Content-Type': CONTROL_CONTENT_TYPE,
          'Content-ID': `<ack-${dialog.localTag}@psap>`,
          'Content-Disposition': 'by-reference',
        },
        body: ack,
      });
      headers['call-info'] = `<cid:ack-${dialog.localTag}@psap>;purpose=EmergencyCallData.Control`;
    }
    const ok = sip.makeResponse(rq, 200, 'OK', {
      headers: {
        ...headers,
        'content-type': parts.length > 1 ? `multipart/mixed;boundary=${boundary}` : 'application/sdp',
      },
      content: parts.length > 1 ? buildMultipart(boundary, parts) : answer,
    });
    ok.headers.to = {
      ...(rq.headers.to ?? { uri: rq.uri, params: {} }),
      params: { ...(rq.headers.to?.params ?? {}), tag: dialog.localTag },
    };
    dialog.ok = ok;
    const send = (interval: number): void => {
      this.stack.respond(ok);
      dialog.retransmit = this.clock.setTimeout(() => send(Math.min(interval * 2, 4000)), interval);
    };
    send(500);
    this.log('answered', {
      callId: dialog.call.callId,
      msdAcknowledged: this.options.ackMsd && dialog.call.msds.length > 0,
    });
  }

  private inDialog(dialog: Dialog, method: string, extra: sip.Headers = {}, content?: string): void {
    const rq = dialog.invite;
    dialog.seq++;
    const request: sip.Request = {
      method,
      uri: dialog.call.vehicleContact,
      headers: {
        to: rq.headers.from,
        from: { ...(rq.headers.to ?? { uri: rq.uri, params: {} }), params: { tag: dialog.localTag } },
        'call-id': dialog.call.callId,
        cseq: { method, seq: 1000 + dialog.seq },
        'max-forwards': 70,
        contact: [{ uri: this.stack.contactUri('psap'), params: {} }],
        ...extra,
      },
      ...(content !== undefined ? { content } : {}),
    };
    this.stack.send(request, (rs) =>
      this.log(`${method.toLowerCase()}-response`, { callId: dialog.call.callId, status: rs.status }),
    );
  }

  /** Asks the vehicle for a new MSD (RFC 8147 §9: request action="send-data"). */
  requestMsd(callId: string): void {
    this.request(callId, 'send-data', { datatype: 'eCall.MSD' });
    this.log('msd-requested', { callId });
  }

  /**
   * Sends the vehicle a control request (RFC 8147 §9.1.3; the actions of the IANA registry, e.g.
   * "honk", "lamp", "msg-static"), in an INFO of the eCall info package.
   */
  request(callId: string, action: string, attributes: Record<string, string> = {}): void {
    const dialog = this.dialogs.get(callId);
    if (!dialog || dialog.call.state !== 'active') {
      throw new Error(`no active eCall ${callId}`);
    }
    const attrs = Object.entries({ action, ...attributes })
      .map(([k, v]) => ` ${k}="${v.replace(/[<>&"]/g, '')}"`)
      .join('');
    const body = `<?xml version="1.0" encoding="UTF-8"?><EmergencyCallData.Control xmlns="${CONTROL_NS}"><request${attrs}/></EmergencyCallData.Control>`;
    this.inDialog(
      dialog,
      'INFO',
      {
        'info-package': MSD_INFO_PACKAGE,
        'content-type': CONTROL_CONTENT_TYPE,
        'content-disposition': 'Info-Package',
      },
      body,
    );
    this.log('control-request', { callId, action, ...attributes });
  }

  /** The PSAP ends the eCall: only the PSAP may (the occupants cannot). */
  clearDown(callId: string): void {
    const dialog = this.dialogs.get(callId);
    if (!dialog) {
      throw new Error(`no eCall ${callId}`);
    }
    this.inDialog(dialog, 'BYE');
    this.end(dialog, 'psap');
  }

  /** Simulates the network losing the call: media stops and nothing more is answered, no BYE. */
  drop(callId: string): void {
    const dialog = this.dialogs.get(callId);
    if (!dialog) {
      throw new Error(`no eCall ${callId}`);
    }
    this.clock.clearTimeout(dialog.retransmit);
    dialog.media.close();
    dialog.call.state = 'dropped';
    this.log('dropped', { callId });
  }

  private end(dialog: Dialog, by: 'vehicle' | 'psap'): void {
    if (dialog.call.state === 'ended') {
      return;
    }
    this.clock.clearTimeout(dialog.retransmit);
    dialog.call.state = 'ended';
    dialog.call.endedBy = by;
    dialog.media.close();
    this.log('ended', { callId: dialog.call.callId, by });
    this.events.emit('ended', dialog.call);
  }

  /** Calls the vehicle back at `target` (its SIP URI); resolves with the final status of the INVITE. */
  async callBack(target: string): Promise<number> {
    const media = await this.media.create('callback');
    const callId = `${randomBytes(8).toString('hex')}@psap`;
    const tag = randomBytes(6).toString('hex');
    const from = { uri: this.stack.contactUri('psap'), params: { tag } };
    const invite: sip.Request = {
      method: 'INVITE',
      uri: target,
      headers: {
        to: { uri: target, params: {} },
        from,
        'call-id': callId,
        cseq: { method: 'INVITE', seq: 1 },
        'max-forwards': 70,
        contact: [{ uri: from.uri, params: {} }],
        'content-type': 'application/sdp',
      },
      content: createOffer({ address: this.stack.address, port: media.localPort, sessionId: 2, version: 1 }),
    };
    this.log('callback', { target, callId });
    return new Promise((resolve) => {
      this.stack.send(invite, (rs) => {
        if (rs.status < 200) {
          return;
        }
        if (rs.status < 300) {
          try {
            media.configure(readAnswer(rs.content ?? '', media.localAddress));
          } catch {
            /* the callback is about reaching the vehicle; audio is checked elsewhere */
          }
          const contact = Array.isArray(rs.headers.contact) ? rs.headers.contact[0]?.uri : undefined;
          this.stack.send({
            method: 'ACK',
            uri: contact ?? target,
            headers: {
              to: rs.headers.to,
              from,
              'call-id': callId,
              cseq: { method: 'ACK', seq: 1 },
              'max-forwards': 70,
            },
          });
          const call: PsapCall = {
            callId,
            urn: '',
            from: target,
            vehicleContact: contact ?? target,
            headers: { callInfo: '', accept: '', recvInfo: '', contentType: '' },
            msds: [],
            msdContentId: '',
            msdDisposition: '',
            capabilities: [],
            actionResults: [],
            state: 'active',
          };
          this.dialogs.set(callId, {
            call,
            invite: { ...invite, headers: { ...invite.headers, from: rs.headers.to, to: from } },
            localTag: tag,
            seq: 1,
            media,
            sdpVersion: 1,
          });
        } else {
          media.close();
        }
        this.log('callback-result', { callId, status: rs.status });
        resolve(rs.status);
      });
    });
  }

  close(): void {
    for (const d of this.dialogs.values()) {
      d.media.close();
      this.clock.clearTimeout(d.retransmit);
    }
    this.stack.close();
  }
}

/** A generic header as the `sip` package leaves it: a string (repeated headers joined with commas). */
function headerText(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** The actions listed in the <capabilities> of an INVITE's control part, if it has one. */
function capabilitiesIn(parts: { headers: Record<string, string>; body: string }[]): string[] {
  const control = parts.find((p) =>
    (p.headers['content-type'] ?? '').toLowerCase().startsWith(CONTROL_CONTENT_TYPE.toLowerCase()),
  );
  if (!control) {
    return [];
  }
  try {
    return parseControl(control.body).capabilities;
  } catch {
    return [];
  }
}
