import type * as sip from 'sip';
import { optionTags } from './validate.js';

/**
 * Session timers (RFC 4028): a call's dialog is refreshed by a re-INVITE or UPDATE every so often, so
 * that a proxy or session border controller that keeps per-call state (and may tear calls down that it
 * no longer hears from) and the far end both know the call is alive. Everything here is decided from
 * headers alone; the user agent (service/sip/user-agent.ts) keeps the timers and sends the requests.
 */

/** What this line asks for and accepts (the account's `sessionTimer` in the config). */
export interface SessionTimerPolicy {
  /** The interval asked for in our INVITEs, and the largest we accept in a request. */
  expiresSeconds: number;
  /** The smallest interval accepted in a request (RFC 4028 Min-SE; 90 s by the RFC). */
  minSeconds: number;
}

/** A session timer that runs: its interval, and which side sends the refreshes. */
export interface SessionTimer {
  seconds: number;
  weRefresh: boolean;
}

type Refresher = 'uac' | 'uas';

interface SessionExpires {
  seconds: number;
  refresher?: Refresher;
}

const DELTA_SECONDS = /^\d{1,9}$/;

/**
 * The Session-Expires header of a message (also in its compact form, x), undefined where it has none,
 * or why it cannot be read.
 */
export function readSessionExpires(headers: sip.Headers): SessionExpires | undefined | { problem: string } {
  const raw = headers['session-expires'] ?? headers.x;
  if (raw === undefined) {
    return undefined;
  }
  if (typeof raw !== 'string' || raw.includes(',')) {
    return { problem: 'Session-Expires must be given once' };
  }
  const [value = '', ...params] = raw.split(';').map((p) => p.trim());
  if (!DELTA_SECONDS.test(value) || Number(value) === 0) {
    return { problem: 'Session-Expires must be a number of seconds' };
  }
  let refresher: Refresher | undefined;
  for (const param of params) {
    const [name = '', paramValue = ''] = param.split('=').map((p) => p.trim().toLowerCase());
    if (name === 'refresher') {
      if (paramValue !== 'uac' && paramValue !== 'uas') {
        return { problem: 'Session-Expires refresher must be uac or uas' };
      }
      refresher = paramValue;
    }
  }
  return { seconds: Number(value), ...(refresher ? { refresher } : {}) };
}

function readMinSe(headers: sip.Headers): number | undefined {
  const raw = headers['min-se'];
  const value = typeof raw === 'string' ? (raw.split(';')[0] ?? '').trim() : '';
  return DELTA_SECONDS.test(value) ? Number(value) : undefined;
}

function supportsTimer(headers: sip.Headers): boolean {
  return [...optionTags(headers.supported), ...optionTags(headers.require)].includes('timer');
}

// Headers we write are keyed as their RFCs spell them where the sip package's capitalisation of a
// lower-case key would not (Min-SE, not Min-Se); header names are case-insensitive, but not every
// peer's parser is.

function sessionExpiresHeader(seconds: number, refresher: Refresher): string {
  return `${seconds};refresher=${refresher}`;
}

export type ServerDecision =
  | { type: 'refuse'; status: 400 | 422; reason: string; headers: sip.Headers }
  /** Go on, with `headers` added to the 2xx and `timer` running from then on (none: no timer). */
  | { type: 'accept'; timer: SessionTimer | undefined; headers: sip.Headers };

/**
 * What to do with the session timer of an INVITE, re-INVITE or UPDATE we received, given the timer the
 * call runs now (RFC 4028 §9). The far end's own choice of refresher is kept; where it names none, the
 * side that asks for the timer refreshes it if it can, and we do when it cannot (a proxy put the header
 * in). A refresh or re-INVITE without the header from a far end that cannot send it leaves the timer
 * running with us refreshing, since the proxy that asked for it is still in the path.
 */
export function decideForRequest(
  headers: sip.Headers,
  policy: SessionTimerPolicy,
  current: SessionTimer | undefined,
): ServerDecision {
  const asked = readSessionExpires(headers);
  if (asked && 'problem' in asked) {
    return { type: 'refuse', status: 400, reason: `Bad Request (${asked.problem})`, headers: {} };
  }
  const theyCanRefresh = supportsTimer(headers);
  if (!asked) {
    if (!current) {
      return { type: 'accept', timer: undefined, headers: {} };
    }
    return {
      type: 'accept',
      timer: { seconds: current.seconds, weRefresh: true },
      headers: { 'session-expires': sessionExpiresHeader(current.seconds, 'uas') },
    };
  }
  if (asked.seconds < policy.minSeconds) {
    return {
      type: 'refuse',
      status: 422,
      reason: 'Session Interval Too Small',
      headers: { 'Min-SE': String(policy.minSeconds) },
    };
  }
  // We may shorten the interval to ours, never below the Min-SE the request carries, and never
  // lengthen it (RFC 4028 §9), whatever a Min-SE above it says.
  const floor = Math.min(readMinSe(headers) ?? 0, asked.seconds);
  const seconds = Math.max(Math.min(asked.seconds, policy.expiresSeconds), floor);
  const refresher: Refresher = asked.refresher ?? (theyCanRefresh ? 'uac' : 'uas');
  const weRefresh = refresher === 'uas' || !theyCanRefresh;
  return {
    type: 'accept',
    timer: { seconds, weRefresh },
    headers: {
      'session-expires': sessionExpiresHeader(seconds, weRefresh ? 'uas' : 'uac'),
      ...(theyCanRefresh ? { require: 'timer' } : {}),
    },
  };
}

/** What an initial INVITE of ours asks for: the policy's interval, or what a 422 asked for instead. */
export interface SessionAsk {
  seconds: number;
  minSe: number;
}

export function initialAsk(policy: SessionTimerPolicy): SessionAsk {
  return { seconds: policy.expiresSeconds, minSe: policy.minSeconds };
}

/**
 * The session-timer headers of a request we send: an initial INVITE asks for an interval and leaves
 * the refresher to the far end; a request within the call restates the timer it runs.
 */
export function requestHeaders(ask: SessionAsk | undefined, current: SessionTimer | undefined): sip.Headers {
  if (ask) {
    return { 'session-expires': String(ask.seconds), 'Min-SE': String(ask.minSe) };
  }
  if (!current) {
    return {};
  }
  return { 'session-expires': sessionExpiresHeader(current.seconds, current.weRefresh ? 'uac' : 'uas') };
}

/**
 * The timer that runs after a 2xx to a request of ours (RFC 4028 §7.2). A 2xx without the header to our
 * INVITE means no timer. A 2xx without it to a refresh of ours means a far end that does not take part,
 * which changes nothing for the proxies that saw our request: we go on refreshing.
 */
export function timerAfterResponse(
  headers: sip.Headers,
  current: SessionTimer | undefined,
  initial: boolean,
): SessionTimer | undefined {
  const given = readSessionExpires(headers);
  if (!given || 'problem' in given) {
    return initial || !current?.weRefresh ? undefined : current;
  }
  return { seconds: given.seconds, weRefresh: given.refresher !== 'uas' };
}

/**
 * What to ask for after a 422 (RFC 4028 §7.3): its Min-SE as both interval and minimum, when that is
 * more than we asked; undefined when asking again would not help.
 */
export function askAfter422(headers: sip.Headers, asked: SessionAsk): SessionAsk | undefined {
  const minSe = readMinSe(headers);
  return minSe !== undefined && minSe > asked.seconds ? { seconds: minSe, minSe } : undefined;
}

/**
 * When the running timer next needs us: the refresher refreshes at half the interval; the other side
 * ends the call if no refresh came by the interval less a third of it, at most 32 s (RFC 4028 §10).
 */
export function timerDeadlineMs(timer: SessionTimer): number {
  const seconds = timer.weRefresh ? timer.seconds / 2 : timer.seconds - Math.min(32, timer.seconds / 3);
  // A far end's 2xx may name any interval up to nine digits of seconds; a timer longer than 2^31 - 1 ms
  // (24.8 days) would fire at once.
  return Math.min(Math.round(seconds * 1000), MAX_TIMER_MS);
}

const MAX_TIMER_MS = 2 ** 31 - 1;
