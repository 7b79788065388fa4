import { assertNever } from '../core/errors.js';
import type { Direction } from '../sdp/offer-answer.js';

/**
 * One call's life as a pure state machine. It speaks in SIP-session terms (INVITE, CANCEL, BYE,
 * re-INVITE) but owns no socket, timer or dialog: the user agent (service/sip/user-agent.ts) feeds it
 * events built from messages and carries out the effects it returns.
 *
 * The oFono-visible state (dialing, alerting, incoming, waiting, active, held, disconnected) is derived
 * from the phase with `ofonoState`, so there is one source of truth.
 */
export type DisconnectReason = 'local' | 'remote' | 'network';

export type OfonoCallState =
  'active' | 'held' | 'dialing' | 'alerting' | 'incoming' | 'waiting' | 'disconnected';

export type CallPhase =
  | { phase: 'dialing' }
  /** `ringing`: a 180 came (the far end rings), not only another provisional response such as 183. */
  | { phase: 'alerting'; earlyMedia: boolean; ringing: boolean }
  | { phase: 'incoming'; waiting: boolean }
  | {
      phase: 'confirmed';
      localHold: boolean;
      remoteHold: boolean;
      /**
       * Held on the head unit only, as a member of a held multiparty call: the far end stays in the mix
       * and goes on talking with the other members, without the cabin (3GPP TS 22.084 §1.3.2: the
       * parties of a held multiparty call may go on talking with each other). No re-INVITE says so.
       */
      bridgedHold: boolean;
      /** Our re-INVITE on its way: one at a time (RFC 3261 §14.1). */
      pending: 'hold' | 'resume' | 'refresh' | null;
      /** A hold or resume asked for while a session refresh was on its way: sent once it is done. */
      queued: 'hold' | 'resume' | null;
    }
  | {
      phase: 'ended';
      reason: DisconnectReason;
      /** SIP status that ended the call, when one did. */
      status?: number;
      /** It had been answered: the driver was talking in it (or had it on hold) when it ended. */
      answered?: true;
      /** Outgoing call hung up before the far end answered: CANCEL waits for a provisional response. */
      cancel: 'none' | 'await-provisional' | 'sent';
    };

export type CallEvent =
  | { type: 'user-answer' }
  | { type: 'user-hangup' }
  /** bridged: a member of the multiparty call, held with it (see `bridgedHold`). */
  | { type: 'user-hold'; bridged?: boolean }
  | { type: 'user-resume' }
  /** oFono's Deflect: send a ringing call on to another number instead of answering it. */
  | { type: 'user-deflect'; target: string }
  | { type: 'set-waiting'; waiting: boolean }
  | { type: 'provisional'; status: number; earlyMedia: boolean }
  | { type: 'final-success' }
  | { type: 'final-failure'; status: number }
  | { type: 'remote-cancel' }
  | { type: 'remote-bye' }
  | { type: 'remote-reoffer'; direction: Direction }
  | { type: 'reinvite-result'; status: number }
  | { type: 'ack-timeout' }
  /** No RTP for the media timeout in an active call: the network dropped it. */
  | { type: 'media-timeout' }
  /** Our session timer (RFC 4028) wants a refresh, and the far end takes none but a re-INVITE. */
  | { type: 'session-refresh-due' }
  /** The far end was to refresh the session and has not (RFC 4028 §10). */
  | { type: 'session-expired' }
  /** The caller never acknowledged our reliable ringing (RFC 3262 §3: no PRACK in 64·T1). */
  | { type: 'prack-timeout' }
  /**
   * The head unit's address changed (a handover between networks, a modem's new address), and the
   * transactions on the old one are gone with it: an answered call tells the far end its new Contact
   * and media address by re-INVITE (a target refresh, RFC 3261 §12.2); a call not yet answered has no
   * dialog to refresh and ends.
   */
  | { type: 'address-changed' };

export type MediaMode =
  | {
      send: boolean;
      receive: boolean;
      /** false: neither the cabin's microphone is sent nor the far end played (a bridged hold). */
      cabin?: boolean;
    }
  | 'stop';

export type CallEffect =
  | { type: 'send-ringing' }
  | { type: 'accept' }
  | { type: 'reject'; status: 486 | 487 | 504 | 603 }
  /** 302 Moved Temporarily to `target` (RFC 3261 §21.3.3): the caller's side calls it instead. */
  | { type: 'redirect'; target: string }
  | { type: 'send-cancel' }
  | { type: 'send-ack' }
  | { type: 'send-bye' }
  | { type: 'send-reinvite'; direction: Direction }
  | { type: 'accept-reoffer'; wanted: Direction }
  | { type: 'media'; mode: MediaMode }
  | { type: 'changed' }
  | { type: 'ended'; reason: DisconnectReason; status?: number };

export type Step = [CallPhase, CallEffect[]];

export function ofonoState(p: CallPhase): OfonoCallState {
  switch (p.phase) {
    case 'dialing':
      return 'dialing';
    case 'alerting':
      return 'alerting';
    case 'incoming':
      return p.waiting ? 'waiting' : 'incoming';
    case 'confirmed':
      return p.localHold || p.bridgedHold ? 'held' : 'active';
    case 'ended':
      return 'disconnected';
    default:
      return assertNever(p);
  }
}

/** What we ask for in SDP, from our point of view, given both hold flags. */
export function wantedDirection(localHold: boolean, remoteHold: boolean): Direction {
  if (localHold) {
    return remoteHold ? 'inactive' : 'sendonly';
  }
  return remoteHold ? 'recvonly' : 'sendrecv';
}

export type Confirmed = Extract<CallPhase, { phase: 'confirmed' }>;

/** A call just answered: neither side holds it, and no re-INVITE is on its way. */
export const ANSWERED: Confirmed = {
  phase: 'confirmed',
  localHold: false,
  remoteHold: false,
  bridgedHold: false,
  pending: null,
  queued: null,
};

/**
 * What the media path does: a held call (either side) neither sends the cabin microphone nor plays; a
 * bridged one sends and plays, but only between the multiparty call's members.
 */
function mediaMode(p: Confirmed): Exclude<MediaMode, 'stop'> {
  return {
    send: !p.localHold && !p.remoteHold,
    receive: !p.localHold,
    cabin: !p.bridgedHold,
  };
}

/** `next`, with its media mode for the media path and a change for the call's listeners. */
function withMedia(next: Confirmed): Step {
  return [next, [{ type: 'media', mode: mediaMode(next) }, { type: 'changed' }]];
}

/** Maps a final failure of our INVITE to oFono's disconnect reasons. */
export function reasonForStatus(status: number): DisconnectReason {
  if (status === 408 || (status >= 500 && status < 600) || status < 400) {
    return 'network';
  }
  return 'remote';
}

function ended(reason: DisconnectReason, effects: CallEffect[], status?: number): Step {
  return [
    { phase: 'ended', reason, cancel: 'none', ...(status !== undefined ? { status } : {}) },
    [
      ...effects,
      { type: 'media', mode: 'stop' },
      { type: 'ended', reason, ...(status !== undefined ? { status } : {}) },
    ],
  ];
}

export function startOutgoing(): Step {
  return [{ phase: 'dialing' }, [{ type: 'changed' }]];
}

export function startIncoming(waiting: boolean): Step {
  return [{ phase: 'incoming', waiting }, [{ type: 'send-ringing' }, { type: 'changed' }]];
}

export function transition(p: CallPhase, e: CallEvent): Step {
  switch (p.phase) {
    case 'dialing':
    case 'alerting':
      return outgoingEarly(p, e);
    case 'incoming':
      return incoming(p, e);
    case 'confirmed': {
      const [next, effects] = confirmed(p, e);
      return next.phase === 'ended' ? [{ ...next, answered: true }, effects] : [next, effects];
    }
    case 'ended':
      return afterEnd(p, e);
    default:
      return assertNever(p);
  }
}

function outgoingEarly(p: Extract<CallPhase, { phase: 'dialing' | 'alerting' }>, e: CallEvent): Step {
  switch (e.type) {
    case 'provisional': {
      if (e.status === 100) {
        return [p, []];
      }
      const earlyMedia = e.earlyMedia || (p.phase === 'alerting' && p.earlyMedia);
      const ringing = e.status === 180 || (p.phase === 'alerting' && p.ringing);
      const next: CallPhase = { phase: 'alerting', earlyMedia, ringing };
      const effects: CallEffect[] = [];
      if (earlyMedia && !(p.phase === 'alerting' && p.earlyMedia)) {
        effects.push({ type: 'media', mode: { send: false, receive: true } });
      }
      if (p.phase === 'dialing') {
        effects.push({ type: 'changed' });
      }
      return [next, effects];
    }
    case 'final-success':
      return [
        ANSWERED,
        [{ type: 'send-ack' }, { type: 'media', mode: mediaMode(ANSWERED) }, { type: 'changed' }],
      ];
    case 'final-failure':
      return ended(reasonForStatus(e.status), [], e.status);
    case 'user-hangup': {
      const [next, effects] = ended('local', p.phase === 'alerting' ? [{ type: 'send-cancel' }] : []);
      return [
        { ...next, cancel: p.phase === 'alerting' ? 'sent' : 'await-provisional' } as CallPhase,
        effects,
      ];
    }
    case 'user-answer':
    case 'user-hold':
    case 'user-resume':
    case 'user-deflect':
    case 'set-waiting':
    case 'remote-cancel':
    case 'remote-reoffer':
    case 'reinvite-result':
    case 'ack-timeout':
    case 'media-timeout':
    case 'session-refresh-due':
    case 'session-expired':
    case 'prack-timeout':
      return [p, []];
    case 'remote-bye':
      return ended('remote', []);
    case 'address-changed':
      // The far end's phone may still ring: the CANCEL reaches it (its 200 goes to the old address).
      return ended('network', p.phase === 'alerting' ? [{ type: 'send-cancel' }] : []);
    default:
      return assertNever(e);
  }
}

function incoming(p: Extract<CallPhase, { phase: 'incoming' }>, e: CallEvent): Step {
  switch (e.type) {
    case 'user-answer':
      return [
        ANSWERED,
        [{ type: 'accept' }, { type: 'media', mode: mediaMode(ANSWERED) }, { type: 'changed' }],
      ];
    case 'user-hangup':
      // Rejecting a waiting call is "user determined user busy" (oFono's UDUB): 486; an alerting one is 603.
      return ended('local', [{ type: 'reject', status: p.waiting ? 486 : 603 }]);
    case 'user-deflect':
      return ended('local', [{ type: 'redirect', target: e.target }]);
    case 'remote-cancel':
      return ended('remote', [{ type: 'reject', status: 487 }]);
    case 'prack-timeout':
      return ended('network', [{ type: 'reject', status: 504 }]);
    case 'address-changed':
      // Its INVITE's transaction was on the old address: nothing can answer the caller any more.
      return ended('network', []);
    case 'set-waiting':
      return p.waiting === e.waiting
        ? [p, []]
        : [{ phase: 'incoming', waiting: e.waiting }, [{ type: 'changed' }]];
    case 'remote-bye':
      return ended('remote', []);
    case 'user-hold':
    case 'user-resume':
    case 'provisional':
    case 'final-success':
    case 'final-failure':
    case 'remote-reoffer':
    case 'reinvite-result':
    case 'ack-timeout':
    case 'media-timeout':
    case 'session-refresh-due':
    case 'session-expired':
      return [p, []];
    default:
      return assertNever(e);
  }
}

function confirmed(p: Confirmed, e: CallEvent): Step {
  switch (e.type) {
    case 'user-hangup':
      return ended('local', [{ type: 'send-bye' }]);
    case 'remote-bye':
      return ended('remote', []);
    case 'ack-timeout':
    case 'media-timeout':
    case 'session-expired':
      return ended('network', [{ type: 'send-bye' }]);
    case 'final-success':
      // A retransmitted 2xx: our ACK was lost, send it again.
      return [p, [{ type: 'send-ack' }]];
    case 'user-hold':
      if (e.bridged) {
        // Nothing to tell the far end: it stays in the multiparty mix, and only the cabin leaves it.
        if (p.localHold || p.bridgedHold || p.pending === 'hold') {
          return [p, []];
        }
        return withMedia({ ...p, bridgedHold: true });
      }
      return holdOrResume(p, true);
    case 'user-resume':
      if (p.bridgedHold && !p.pending) {
        return withMedia({ ...p, bridgedHold: false });
      }
      return holdOrResume(p, false);
    case 'address-changed':
      // A re-INVITE on its way went from the old address and its answer will not come: it goes again.
      return [
        { ...p, pending: p.pending ?? 'refresh' },
        [{ type: 'send-reinvite', direction: reinviteDirection(p) }],
      ];
    case 'session-refresh-due':
      // A hold or resume on its way refreshes the session as well.
      if (p.pending) {
        return [p, []];
      }
      return [
        { ...p, pending: 'refresh' },
        [{ type: 'send-reinvite', direction: wantedDirection(p.localHold, p.remoteHold) }],
      ];
    case 'reinvite-result': {
      if (!p.pending) {
        return [p, []];
      }
      if (e.status === 481 || e.status === 408) {
        // The dialog is gone at the far end (RFC 3261 §14.1).
        return ended('network', [{ type: 'send-bye' }], e.status);
      }
      const succeeded = e.status >= 200 && e.status < 300;
      if (p.pending === 'refresh') {
        const done: Confirmed = { ...p, pending: null, queued: null };
        return p.queued ? holdReinvite(done, p.queued === 'hold') : [done, []];
      }
      if (succeeded) {
        const localHold = p.pending === 'hold';
        // A bridged hold that became a real one (the multiparty call broke up) is one no longer.
        return withMedia({
          ...p,
          localHold,
          bridgedHold: localHold ? false : p.bridgedHold,
          pending: null,
          queued: null,
        });
      }
      return [{ ...p, pending: null, queued: null }, [{ type: 'changed' }]];
    }
    case 'remote-reoffer': {
      const remoteHold = e.direction === 'sendonly' || e.direction === 'inactive';
      const effects: CallEffect[] = [
        { type: 'accept-reoffer', wanted: wantedDirection(p.localHold, remoteHold) },
      ];
      const next: Confirmed = { ...p, remoteHold };
      if (remoteHold !== p.remoteHold) {
        effects.push({ type: 'media', mode: mediaMode(next) }, { type: 'changed' });
      }
      return [next, effects];
    }
    case 'user-answer':
    case 'user-deflect':
    case 'set-waiting':
    case 'provisional':
    case 'final-failure':
    case 'remote-cancel':
    case 'prack-timeout':
      return [p, []];
    default:
      return assertNever(e);
  }
}

/** A hold or resume by re-INVITE, one at a time, and after a session refresh on its way. */
function holdOrResume(p: Confirmed, hold: boolean): Step {
  if (p.pending === 'refresh') {
    return [{ ...p, queued: hold === p.localHold ? null : hold ? 'hold' : 'resume' }, []];
  }
  if (p.localHold === hold || p.pending) {
    return [p, []];
  }
  return holdReinvite(p, hold);
}

/** What our re-INVITE asks for: the hold or resume on its way, else the call as it is. */
function reinviteDirection(p: Confirmed): Direction {
  const hold = p.pending === 'hold' ? true : p.pending === 'resume' ? false : p.localHold;
  return wantedDirection(hold, p.remoteHold);
}

function holdReinvite(p: Confirmed, hold: boolean): Step {
  return [
    { ...p, pending: hold ? 'hold' : 'resume' },
    [{ type: 'send-reinvite', direction: wantedDirection(hold, p.remoteHold) }],
  ];
}

function afterEnd(p: Extract<CallPhase, { phase: 'ended' }>, e: CallEvent): Step {
  if (p.cancel === 'await-provisional' && e.type === 'provisional') {
    return [{ ...p, cancel: 'sent' }, [{ type: 'send-cancel' }]];
  }
  if (p.cancel !== 'none' && e.type === 'final-success') {
    // The far end answered while our CANCEL was on its way: complete the dialog and end it at once.
    return [{ ...p, cancel: 'none' }, [{ type: 'send-ack' }, { type: 'send-bye' }]];
  }
  if (p.cancel !== 'none' && e.type === 'final-failure') {
    return [{ ...p, cancel: 'none' }, []];
  }
  return [p, []];
}
