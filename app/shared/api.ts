import type { QuickReplies } from '../../service/sms/quick-replies.js';

/**
 * The contract between the HMI's renderer and its main process: a snapshot of the phone that the
 * renderer draws, and the few actions a driver can take. The renderer never sees D-Bus; the main
 * process validates every action before it reaches carphoned.
 */
export type CallState = 'active' | 'held' | 'dialing' | 'alerting' | 'incoming' | 'waiting' | 'disconnected';

export interface CallView {
  path: string;
  state: CallState;
  number: string;
  name: string;
  /** ms since the epoch when first answered. */
  startedAt?: number;
  emergency: boolean;
  remoteHeld: boolean;
  /** Part of the multiparty call (a conference mixed by carphoned). */
  multiparty: boolean;
  /** The call's org.carphone.CallQuality Quality: what the signal-quality indicator shows. */
  quality: 'good' | 'fair' | 'poor' | 'unknown';
  /** The network forwarded the call (VoiceCall Forwarded non-empty). */
  forwarded: boolean;
  /** The number the caller called, which forwarded the call here (incoming only; '' where unsaid). */
  forwardedFrom: string;
}

export interface RecentView {
  id: number;
  kind: 'outgoing' | 'incoming' | 'missed' | 'rejected';
  number: string;
  name: string;
  startTime: string;
  duration: number;
  /** An emergency call (eCall or 112): never offered for redial. */
  emergency: boolean;
  /** The network forwarded the call to this line. */
  forwarded: boolean;
  /** The number the caller called, which forwarded it here ('' where unsaid). */
  forwardedFrom: string;
}

/** A text message from org.carphone.MessageHistory. */
export interface TextView {
  id: number;
  direction: 'incoming' | 'outgoing';
  number: string;
  name: string;
  text: string;
  /** "%Y-%m-%dT%H:%M:%S%z", as the history gives it. */
  time: string;
  /** A text sent: "sent", then "delivered" or "undelivered" where the SMS centre reported on it. */
  state: 'received' | 'sent' | 'delivered' | 'undelivered' | 'failed';
}

export interface ContactView {
  id: string;
  name: string;
  numbers: { number: string; type: string }[];
  favourite: boolean;
}

export interface PhoneSnapshot {
  /** false while carphoned is not on the bus. */
  available: boolean;
  line: string;
  registration: 'registered' | 'registering' | 'unregistered' | 'failed' | 'unknown';
  registrationError: string;
  calls: CallView[];
  muted: boolean;
  /** org.carphone.Emergency State: the eCall from its first INVITE to the end of its callback window. */
  ecall: string;
  /** org.carphone.Emergency CallbackUntil (ISO 8601, UTC), or '': until when the PSAP may call back. */
  ecallCallbackUntil: string;
  /** org.carphone.Emergency TriggeredAt (ISO 8601, UTC), or '': when this eCall began, over its redials. */
  ecallTriggeredAt: string;
  /**
   * The car is moving (org.carphone.Vehicle Speed): manual number and text entry is locked, as the
   * driver-distraction guidelines in docs/hmi.md require.
   */
  driving: boolean;
  /** org.ofono.MessageWaiting: messages on the voicemail server, and the number that reaches it. */
  voicemail: VoicemailView;
  /**
   * org.ofono.CallForwarding VoiceUnconditional: where every call goes instead of ringing here; "" when
   * calls ring. Said in the status line: a driver who forwarded calls before a drive must not wonder why
   * nobody calls.
   */
  forwardedTo: string;
  /**
   * Text messages received and not yet read (carphoned's MessageHistory UnreadCount; textsSeen marks
   * them read when the driver looks at Messages): said in the status line, so that a text is noticed
   * without its words being shown while driving. Kept by carphoned, so a restart of the HMI keeps it.
   */
  newTexts: number;
  /**
   * Missed calls the driver has not looked at (carphoned's CallHistory MissedCount; callsSeen marks them
   * seen when the driver opens Recents): said in the status line. Kept by carphoned, as newTexts is.
   */
  missedCalls: number;
  /**
   * Counts the changes to the message history (a text logged, a delivery report taken): the Messages
   * screen reads its list again when it moves.
   */
  textLog: number;
  /**
   * Counts the steering wheel's requests for Recents (the phone key pressed with no call: Vehicle's
   * HmiRequest "recents"): the screen opens Recents when it moves.
   */
  recentsRequests: number;
  /**
   * The replies a driver can send with one touch, driving or not, per HMI language (carphoned's
   * MessageHistory QuickReplies, from its config): no text is typed (NHTSA's per-se lock-out is on
   * manual text entry), and the main process sends nothing else. Empty: texting is off.
   */
  quickReplies: QuickReplies;
}

/** Language (ISO 639-1) → the replies offered in it: carphoned's own type, as D-Bus carries it. */
export type { QuickReplies };

export interface VoicemailView {
  waiting: boolean;
  /** New messages; 0 while waiting: not counted. */
  count: number;
  /** What callVoicemail dials; empty: none known. */
  number: string;
}

export const NO_VOICEMAIL: VoicemailView = { waiting: false, count: 0, number: '' };

/** What the HMI knows before carphoned is reached, and while it is gone. */
export const PHONE_UNAVAILABLE: PhoneSnapshot = {
  available: false,
  line: '',
  registration: 'unknown',
  registrationError: '',
  calls: [],
  muted: false,
  ecall: '',
  ecallCallbackUntil: '',
  ecallTriggeredAt: '',
  driving: false,
  voicemail: NO_VOICEMAIL,
  forwardedTo: '',
  newTexts: 0,
  missedCalls: 0,
  textLog: 0,
  recentsRequests: 0,
  quickReplies: {},
};

/** Entry locks at this speed and unlocks only below UNLOCK_SPEED_KMH, so stop-and-go does not flicker. */
export const LOCK_SPEED_KMH = 8;
export const UNLOCK_SPEED_KMH = 3;

export function drivingAfter(wasDriving: boolean, speedKmh: number | undefined): boolean {
  if (speedKmh === undefined || !Number.isFinite(speedKmh)) {
    return false;
  }
  return wasDriving ? speedKmh > UNLOCK_SPEED_KMH : speedKmh >= LOCK_SPEED_KMH;
}

export const IPC = {
  snapshot: 'phone:snapshot',
  dial: 'phone:dial',
  answer: 'phone:answer',
  hangup: 'phone:hangup',
  holdAndAnswer: 'phone:hold-and-answer',
  swap: 'phone:swap',
  merge: 'phone:merge',
  hangupMultiparty: 'phone:hangup-multiparty',
  privateChat: 'phone:private-chat',
  sendTones: 'phone:send-tones',
  setMuted: 'phone:set-muted',
  recents: 'phone:recents',
  callsSeen: 'phone:calls-seen',
  contacts: 'phone:contacts',
  setFavourite: 'phone:set-favourite',
  callVoicemail: 'phone:call-voicemail',
  texts: 'phone:texts',
  textsSeen: 'phone:texts-seen',
  replyToText: 'phone:reply-to-text',
  declineWithText: 'phone:decline-with-text',
  state: 'phone:state',
} as const;

/** What the preload script exposes as window.carphone (and what tests provide in Chromium). */
export interface PhoneApi {
  snapshot(): Promise<PhoneSnapshot>;
  dial(number: string): Promise<void>;
  answer(): Promise<void>;
  hangup(path?: string): Promise<void>;
  holdAndAnswer(): Promise<void>;
  swap(): Promise<void>;
  /** Joins the active and the held call into a conference. */
  merge(): Promise<void>;
  /** Ends every call of the conference. */
  hangupMultiparty(): Promise<void>;
  /** Talks to one party of the conference alone; the others are held, together where two or more. */
  privateChat(path: string): Promise<void>;
  sendTones(tones: string): Promise<void>;
  setMuted(muted: boolean): Promise<void>;
  recents(limit: number): Promise<RecentView[]>;
  /** The driver looked at Recents: no missed call is new any more. */
  callsSeen(): Promise<void>;
  contacts(query: string): Promise<ContactView[]>;
  setFavourite(id: string, favourite: boolean): Promise<void>;
  /** Dials the line's voicemail number (org.ofono.MessageWaiting VoicemailMailboxNumber). */
  callVoicemail(): Promise<void>;
  /** The newest text messages, received and sent, newest first. */
  texts(limit: number): Promise<TextView[]>;
  /** The driver looked at Messages: none is new any more. */
  textsSeen(): Promise<void>;
  /** Answers the received text `id` with one of the quickReplies (never free text: see docs/hmi.md). */
  replyToText(id: number, reply: string): Promise<void>;
  /** Declines the ringing call `path` and texts its caller one of the quickReplies. */
  declineWithText(path: string, reply: string): Promise<void>;
  /** Calls `listener` on every change; returns the function that stops it. */
  onState(listener: (s: PhoneSnapshot) => void): () => void;
}

/** The quick replies offered in language `lang`: none where carphoned has no list for it. */
export function repliesIn(replies: QuickReplies, lang: string): readonly string[] {
  return Object.hasOwn(replies, lang) ? (replies[lang] ?? []) : [];
}

/** Whether `s` is one of the quick replies, in any language: the main process sends nothing else. */
export function isQuickReply(replies: QuickReplies, s: unknown): s is string {
  return Object.values(replies).some((list) => (list as readonly unknown[]).includes(s));
}

/** Checks a dial string before it leaves the renderer's world (the daemon checks again). */
export function validDialString(s: unknown): s is string {
  return typeof s === 'string' && /^(\+?[0-9*#]{1,80}|sips?:[^\s]{3,256})$/.test(s);
}

export function validTones(s: unknown): s is string {
  return typeof s === 'string' && /^[0-9*#A-Da-d]{1,64}$/.test(s);
}
