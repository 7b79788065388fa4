import {
  PHONE_UNAVAILABLE,
  repliesIn,
  type CallView,
  type ContactView,
  type PhoneApi,
  type PhoneSnapshot,
  type RecentView,
  type TextView,
  validDialString,
} from '../shared/api.js';
import { groupRecents } from './group-recents.js';
import { STRINGS, type Lang, type Strings } from './i18n.js';

/**
 * The driver's phone screen. It draws the snapshot the main process sends and turns touches into the
 * phone API's actions; it has no state of the phone of its own. Screens: keypad, recents, contacts,
 * messages;
 * over them the call screen whenever a call exists (incoming, in call, waiting) and the eCall screen.
 */
declare global {
  interface Window {
    carphone: PhoneApi;
  }
}

type Tab = 'keypad' | 'recents' | 'contacts' | 'messages';

const params = new URLSearchParams(location.search);
const lang: Lang = (params.get('lang') ?? navigator.language).startsWith('de') ? 'de' : 'en';
const t: Strings = STRINGS[lang];
document.documentElement.lang = lang;
document.body.dataset.theme = params.get('theme') === 'night' ? 'night' : 'day';

let phone: PhoneSnapshot = PHONE_UNAVAILABLE;
let query = '';
let tab: Tab = 'keypad';
let digits = '';
let showDtmf = false;
/** The conference's parties listed, each to be ended or talked to alone. */
let showParties = false;
let recents: RecentView[] = [];
let contacts: ContactView[] = [];
let texts: TextView[] = [];
/** The received text whose canned replies are offered, if any. */
let replyTo: TextView | undefined;
/** The ringing or waiting call the driver chose to decline with a text: its canned replies are shown. */
let decliningWithText: string | undefined;
/** The text open in full (parked only: its words are never on screen while the car moves). */
let reading: TextView | undefined;
/** The contact whose numbers are offered to choose from (it has more than one), if any. */
let choosingNumber: ContactView | undefined;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

function button(label: string, id: string, onClick: () => void, cls = ''): HTMLButtonElement {
  const b = el('button', { type: 'button', 'data-testid': id, ...(cls ? { class: cls } : {}) }, label);
  b.addEventListener('click', onClick);
  return b;
}

/** Groups a number for reading at a glance: +49 30 1234 5678, 0301 2345. */
export function formatNumber(n: string): string {
  if (!/^\+?[0-9]+$/.test(n) || n.length < 5) {
    return n;
  }
  const plus = n.startsWith('+');
  const d = plus ? n.slice(1) : n;
  const head = plus ? d.slice(0, 2) : d.slice(0, 4);
  const rest = (plus ? d.slice(2) : d.slice(4)).replace(/(\d{4})(?=\d)/g, '$1 ');
  return `${plus ? '+' : ''}${head} ${rest}`.trim();
}

function act(p: Promise<unknown>): void {
  p.catch((e: unknown) => console.error(e instanceof Error ? e.message : String(e)));
}

function elapsed(since: number | undefined): string {
  if (!since) {
    return '0:00';
  }
  const s = Math.max(0, Math.floor((Date.now() - since) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** ms since the epoch of an ISO time (carphoned's), if it is one. */
function isoTimeMs(iso: string): number | undefined {
  const at = Date.parse(iso);
  return Number.isNaN(at) ? undefined : at;
}

/** Hours and minutes of an ISO time, in the car's time zone: what the driver's clock shows. */
function clockTime(iso: string): string {
  const at = isoTimeMs(iso);
  return at === undefined
    ? ''
    : new Date(at).toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit', hour12: false });
}

/** "2 missed calls" in the status line, under its class and test id `name`; nothing at 0. */
function newCount(name: string, n: number, one: string, many: string): HTMLElement[] {
  return phone.available && n > 0
    ? [el('span', { class: name, 'data-testid': name }, `${n} ${n === 1 ? one : many}`)]
    : [];
}

function statusBar(): HTMLElement {
  const reg = phone.available ? t[phone.registration] : t.unavailable;
  const problem = !phone.available || phone.registration === 'failed';
  // The registrar's own words (e.g. "authentication rejected") say what an integrator must fix.
  const detail = phone.available && phone.registration === 'failed' ? phone.registrationError : '';
  const vm = phone.voicemail;
  return el(
    'header',
    { class: 'status' },
    el('span', {}, phone.line || 'carphone'),
    ...(phone.available && vm.waiting
      ? [el('span', { class: 'voicemail', 'data-testid': 'voicemail-waiting' }, voicemailText())]
      : []),
    ...newCount('missed-calls', phone.missedCalls, t.missedCall, t.missedCalls),
    ...newCount('new-texts', phone.newTexts, t.newText, t.newTexts),
    ...(phone.available && phone.ecall === 'callback' && phone.ecallCallbackUntil
      ? [
          el(
            'span',
            { class: 'ecall-callback', 'data-testid': 'ecall-callback' },
            `${t.ecallCallbackUntil} ${clockTime(phone.ecallCallbackUntil)}`,
          ),
        ]
      : []),
    ...(phone.available && phone.forwardedTo
      ? [
          el(
            'span',
            { class: 'forwarded', 'data-testid': 'calls-forwarded' },
            `${t.forwardedTo} ${phone.forwardedTo}`,
          ),
        ]
      : []),
    el(
      'span',
      { class: problem ? 'problem' : '', 'data-testid': 'registration' },
      detail ? `${reg}: ${detail}` : reg,
    ),
  );
}

function keypadScreen(): HTMLElement[] {
  const keys: [string, string][] = [
    ['1', ''],
    ['2', 'ABC'],
    ['3', 'DEF'],
    ['4', 'GHI'],
    ['5', 'JKL'],
    ['6', 'MNO'],
    ['7', 'PQRS'],
    ['8', 'TUV'],
    ['9', 'WXYZ'],
    ['*', ''],
    ['0', '+'],
    ['#', ''],
  ];
  const pad = el('div', { class: 'keypad' });
  const locked = phone.driving;
  for (const [k, sub] of keys) {
    const b = el(
      'button',
      { type: 'button', 'data-testid': `key-${k}`, ...(locked ? { disabled: '' } : {}) },
      k,
      el('small', {}, sub || '\u00a0'),
    );
    let timer: number | undefined;
    let long = false;
    // Long press on 0 gives +, and on 1 (with nothing typed) calls voicemail, as on every phone.
    const onLongPress =
      k === '0'
        ? (): void => {
            digits += '+';
            render();
          }
        : k === '1' && phone.voicemail.number && digits === ''
          ? (): void => act(window.carphone.callVoicemail())
          : undefined;
    b.addEventListener('pointerdown', () => {
      long = false;
      if (onLongPress) {
        timer = window.setTimeout(() => {
          long = true;
          onLongPress();
        }, 600);
      }
    });
    b.addEventListener('pointerup', () => window.clearTimeout(timer));
    b.addEventListener('click', () => {
      if (!long && digits.length < 32) {
        digits += k;
        render();
      }
    });
    pad.append(b);
  }
  const display = el(
    'div',
    { class: 'display' },
    locked
      ? el('div', { class: 'locked', 'data-testid': 'keypad-locked' }, t.keypadLocked)
      : el('div', { class: 'number', 'data-testid': 'number' }, formatNumber(digits)),
    el(
      'div',
      { class: 'row' },
      button(t.delete, 'backspace', () => {
        digits = digits.slice(0, -1);
        render();
      }),
      button(
        t.call,
        'call',
        () => {
          if (digits) {
            const n = digits;
            // Placed, the number is done with, whether or not its call was seen before it ended (a
            // refused eCall ends at once); refused by carphoned, it stays to be corrected.
            act(
              window.carphone.dial(n).then(() => {
                if (digits === n) {
                  digits = '';
                  render();
                }
              }),
            );
          } else {
            // Call with nothing typed shows the number last called, as phones do; a second Call dials it.
            // Not an emergency number: two touches must not start an eCall.
            act(
              window.carphone.recents(RECENTS_READ).then((rows) => {
                const last = rows.find((r) => r.kind === 'outgoing' && !r.emergency);
                if (last && digits === '') {
                  digits = last.number;
                  render();
                }
              }),
            );
          }
        },
        'call',
      ),
    ),
  );
  if (locked) {
    display.querySelectorAll('button').forEach((b) => b.setAttribute('disabled', ''));
  }
  return [display, pad];
}

/** "Voicemail 3 new", or "Voicemail" where the server did not count them. */
function voicemailText(): string {
  const n = phone.voicemail.count;
  return n > 0 ? `${t.voicemail} ${n === 255 ? '255+' : n} ${t.voicemailNew}` : t.voicemail;
}

function recentsScreen(): HTMLElement[] {
  const list = el('div', { class: 'list', 'data-testid': 'recents' });
  // Voicemail heads the list where its number is known: one touch, allowed while driving (no entry).
  const vm = phone.voicemail;
  if (vm.number) {
    list.append(
      button(
        vm.waiting ? voicemailText() : t.voicemail,
        'call-voicemail',
        () => act(window.carphone.callVoicemail()),
        vm.waiting ? 'voicemail waiting' : 'voicemail',
      ),
    );
  }
  if (recents.length === 0) {
    list.append(el('div', {}, t.noRecents));
  }
  // Eight rows fill the screen: no scrolling while driving.
  for (const r of groupRecents(recents, vm.number ? 7 : 8)) {
    const kind = r.kind === 'incoming' ? t.incomingKind : t[r.kind];
    const b = button(
      '',
      `recent-${r.id}`,
      () => act(window.carphone.dial(r.number)),
      r.kind === 'missed' ? 'missed' : '',
    );
    b.append(
      el('span', { class: 'who' }, r.name || formatNumber(r.number)),
      ...(r.count > 1 ? [el('span', { class: 'count', 'data-testid': 'recent-count' }, `(${r.count})`)] : []),
      el('span', { class: 'meta' }, `${kind} ${r.startTime.slice(11, 16)}${forwardedNote(r)}`),
    );
    list.append(b);
  }
  return [list];
}

/** The calls read for Recents: enough for eight rows where callers tried several times. */
const RECENTS_READ = 50;

/** " · via 2099" on a call the network forwarded here: the driver sees which of their numbers was called. */
function forwardedNote(r: RecentView): string {
  if (!r.forwarded) {
    return '';
  }
  return r.forwardedFrom ? viaNote(r.forwardedFrom) : ` · ${t.forwardedShort}`;
}

/** " · via 2099" where a call came through another of the driver's numbers; "" where not said. */
function viaNote(forwardedFrom: string): string {
  return forwardedFrom ? ` · ${t.via} ${formatNumber(forwardedFrom)}` : '';
}

/**
 * The newest texts, eight rows at most. A message's words are shown only while parked (reading them
 * is one of NHTSA's per-se lock-outs, docs/hmi.md); who sent it and when stay, and one touch on the
 * row calls them back, driving or not.
 */
const TEXT_STATE_WORDS = {
  sent: t.textSent,
  delivered: t.textDelivered,
  undelivered: t.textUndelivered,
  failed: t.textFailed,
} as const;

function messagesScreen(): HTMLElement[] {
  if (replyTo) {
    return [replyPanel(replyTo)];
  }
  if (phone.driving) {
    reading = undefined;
  }
  if (reading) {
    return [readingPanel(reading)];
  }
  const list = el('div', { class: 'list texts', 'data-testid': 'texts' });
  if (texts.length === 0) {
    list.append(el('div', {}, t.noTexts));
  }
  for (const m of texts.slice(0, 8)) {
    const failed = m.state === 'failed' || m.state === 'undelivered';
    // Driving: one touch calls back. Parked: it opens the text in full, with Call back in it.
    const open = (): void => {
      if (phone.driving) {
        act(window.carphone.dial(m.number));
      } else {
        reading = m;
        render();
      }
    };
    const b = button('', `text-${m.id}`, open, failed ? 'missed' : '');
    b.append(
      textHeading(m),
      phone.driving
        ? el('span', { class: 'body hidden', 'data-testid': 'text-hidden' }, t.textHidden)
        : el('span', { class: 'body', 'data-testid': 'text-body' }, m.text),
    );
    const row = el('div', { class: 'row' }, b);
    if (m.direction === 'incoming' && canReply()) {
      row.append(
        button(
          t.reply,
          `reply-${m.id}`,
          () => {
            replyTo = m;
            render();
          },
          'reply',
        ),
      );
    }
    list.append(row);
  }
  return [list];
}

/** Who, when and (for a text sent) what became of it: a text's first line in the list and when open. */
function textHeading(m: TextView): HTMLElement {
  const arrow = m.direction === 'incoming' ? '←' : '→';
  const state = m.state === 'received' ? '' : ` ${TEXT_STATE_WORDS[m.state]}`;
  return el(
    'span',
    { class: 'heading' },
    el('span', { class: 'who' }, `${arrow} ${m.name || formatNumber(m.number)}`),
    el('span', { class: 'meta' }, `${m.time.slice(11, 16)}${state}`),
  );
}

/** The canned replies for a ringing or waiting call: one touch declines it and texts the caller. */
function declinePanel(path: string, who: string): HTMLElement {
  return cannedPanel({
    testid: 'decline-panel',
    heading: `${t.declineWith} ${who}`,
    idPrefix: 'decline',
    choose: (reply) => act(window.carphone.declineWithText(path, reply)),
    close: () => (decliningWithText = undefined),
  });
}

/** A text in full, however long, parked: call back, reply (to one received) or close. */
function readingPanel(m: TextView): HTMLElement {
  const close = (): void => {
    reading = undefined;
    render();
  };
  const actions = el(
    'div',
    { class: 'actions' },
    button(t.callBack, 'reading-call', () => {
      close();
      act(window.carphone.dial(m.number));
    }),
  );
  if (m.direction === 'incoming' && canReply()) {
    actions.append(
      button(t.reply, 'reading-reply', () => {
        reading = undefined;
        replyTo = m;
        render();
      }),
    );
  }
  actions.append(button(t.close, 'reading-close', close));
  return el(
    'div',
    { class: 'reading-panel', 'data-testid': 'reading-panel' },
    textHeading(m),
    el('div', { class: 'full', 'data-testid': 'reading-text' }, m.text),
    actions,
  );
}

/** Whether quick replies are offered in the HMI's language: none where the carmaker set none. */
function canReply(): boolean {
  return repliesIn(phone.quickReplies, lang).length > 0;
}

/** The canned replies to `m`. */
function replyPanel(m: TextView): HTMLElement {
  return cannedPanel({
    testid: 'reply-panel',
    heading: `${t.replyTo} ${m.name || formatNumber(m.number)}`,
    idPrefix: 'reply',
    choose: (reply) => act(window.carphone.replyToText(m.id, reply)),
    close: () => (replyTo = undefined),
  });
}

/**
 * Canned replies, one touch each, and Close: nothing is typed, so they are offered while driving too.
 * Choosing one closes the panel as Close does.
 */
function cannedPanel(o: {
  testid: string;
  heading: string;
  idPrefix: string;
  choose: (reply: string) => void;
  close: () => void;
}): HTMLElement {
  return choicePanel({
    testid: o.testid,
    heading: o.heading,
    choices: repliesIn(phone.quickReplies, lang).map((reply, i) => ({
      label: reply,
      id: `${o.idPrefix}-canned-${i}`,
      cls: 'canned',
      choose: () => o.choose(reply),
    })),
    closeId: `${o.idPrefix}-close`,
    close: o.close,
  });
}

/** A heading, one touch per choice, and Close; choosing closes the panel as Close does. */
function choicePanel(o: {
  testid: string;
  heading: string;
  choices: { label: string; id: string; cls?: string; choose: () => void }[];
  closeId: string;
  close: () => void;
}): HTMLElement {
  const close = (): void => {
    o.close();
    render();
  };
  return el(
    'div',
    { class: 'reply-panel', 'data-testid': o.testid },
    el('div', { class: 'what' }, o.heading),
    ...o.choices.map((c) =>
      button(
        c.label,
        c.id,
        () => {
          c.choose();
          close();
        },
        c.cls,
      ),
    ),
    button(t.close, o.closeId, close),
  );
}

function contactsScreen(): HTMLElement[] {
  const screens: HTMLElement[] = [];
  // Typing is manual text entry: only while parked. Favourites come first either way.
  if (!phone.driving) {
    const search = el('input', {
      type: 'search',
      class: 'search',
      'data-testid': 'contact-search',
      placeholder: t.search,
      'aria-label': t.search,
      maxlength: '32',
      value: query,
    });
    search.addEventListener('input', () => {
      query = search.value;
      void refreshLists().then(() => render(true));
    });
    screens.push(search);
  }
  const list = el('div', { class: 'list contacts', 'data-testid': 'contacts' });
  if (contacts.length === 0) {
    list.append(el('div', {}, t.noContacts));
  }
  const ordered = [...contacts.filter((c) => c.favourite), ...contacts.filter((c) => !c.favourite)].slice(
    0,
    8,
  );
  for (const c of ordered) {
    const first = c.numbers[0];
    // One number: one touch calls it. Several: one touch offers them, a second calls the one chosen.
    const b = button('', `contact-${c.id}`, () => {
      if (c.numbers.length > 1) {
        choosingNumber = c;
        render();
      } else if (first) {
        act(window.carphone.dial(first.number));
      }
    });
    const more = c.numbers.length > 1 ? ` · ${c.numbers.length} ${t.numbers}` : '';
    b.append(
      el('span', { class: 'who' }, `${c.favourite ? '★ ' : ''}${c.name}`),
      el('span', { class: 'meta' }, first ? `${numberType(first.type)}${more}` : ''),
    );
    const row = el('div', { class: 'row' }, b);
    // Choosing favourites is a task for a parked car: the star is not offered while driving.
    if (!phone.driving) {
      const star = button(
        c.favourite ? '★' : '☆',
        `favourite-${c.id}`,
        () =>
          act(
            window.carphone
              .setFavourite(c.id, !c.favourite)
              .then(() => refreshLists())
              .then(() => render()),
          ),
        'favourite',
      );
      star.setAttribute('aria-pressed', String(c.favourite));
      star.setAttribute('aria-label', c.favourite ? t.unfavourite : t.favourite);
      row.append(star);
    }
    list.append(row);
  }
  screens.push(list);
  return [el('div', { class: 'column' }, ...screens)];
}

/** The numbers of a contact that has several, one touch each (four at most: no scrolling), and Close. */
function numberPanel(c: ContactView): HTMLElement {
  return choicePanel({
    testid: 'contact-numbers',
    heading: `${t.callWhich} ${c.name}`,
    choices: c.numbers.slice(0, 4).map((n, i) => ({
      label: `${numberType(n.type)} · ${formatNumber(n.number)}`,
      id: `contact-number-${i}`,
      choose: () => act(window.carphone.dial(n.number)),
    })),
    closeId: 'contact-numbers-close',
    close: () => (choosingNumber = undefined),
  });
}

/** The address book's kind of number, in the HMI's language. */
function numberType(type: string): string {
  return type === 'cell'
    ? t.numberCell
    : type === 'home'
      ? t.numberHome
      : type === 'work'
        ? t.numberWork
        : t.numberOther;
}

function qualityIndicator(call: CallView): HTMLElement {
  const bars = call.quality === 'good' ? 3 : call.quality === 'fair' ? 2 : call.quality === 'poor' ? 1 : 0;
  const label = t[`quality${call.quality}`];
  const meter = el('div', {
    class: `quality q-${call.quality}`,
    'data-testid': 'quality',
    'data-level': call.quality,
    role: 'img',
    'aria-label': label,
    title: label,
  });
  for (let i = 1; i <= 3; i++) {
    meter.append(el('span', { class: i <= bars ? 'on' : '' }));
  }
  return meter;
}

/** The eCall's states in which it holds the screen, with or without a call at that moment. */
const ECALL_IN_PROGRESS = ['calling', 'redialling', 'waiting-to-redial', 'active', 'msd-acknowledged'];

/** The failed eCall the occupants closed (its TriggeredAt): the phone is theirs again until the next. */
let closedEcallFailure: string | undefined;

/** Whether the eCall holds the screen: from its first INVITE until the PSAP clears it, or it fails. */
function ecallShown(): boolean {
  return (
    ECALL_IN_PROGRESS.includes(phone.ecall) ||
    (phone.ecall === 'failed' && phone.ecallTriggeredAt !== closedEcallFailure)
  );
}

/**
 * The eCall, its call or not: between a dropped call and the redial too, so that the occupants never
 * see the phone as if help were no longer being called. No way to end it: only the emergency centre
 * can. One that failed offers 112 again, and a way back to the phone.
 */
function ecallScreen(call: CallView | undefined): HTMLElement {
  const screen = el('section', {
    class: 'callscreen emergency',
    'data-testid': 'callscreen',
    // Which eCall this is: the same screen may stand for the next one after a failure.
    'data-triggered-at': phone.ecallTriggeredAt,
  });
  if (phone.ecall === 'failed') {
    screen.append(
      el('div', { class: 'who', 'data-testid': 'ecall' }, t.ecallFailed),
      el(
        'div',
        { class: 'actions' },
        button(
          t.close,
          'ecall-close',
          () => {
            closedEcallFailure = phone.ecallTriggeredAt;
            render();
          },
          'big',
        ),
        button(t.ecallTryAgain, 'ecall-retry', () => act(window.carphone.dial('112')), 'call big'),
      ),
    );
    return screen;
  }
  const detail: Record<string, string> = {
    calling: t.ecallCalling,
    redialling: t.ecallCalling,
    'waiting-to-redial': t.ecallLost,
    active: t.ecallData,
    'msd-acknowledged': t.ecallAck,
    callback: t.ecallCallback,
  };
  screen.append(
    el('div', { class: 'who', 'data-testid': 'ecall' }, t.ecall),
    el('div', { class: 'what', 'data-testid': 'ecall-state' }, detail[phone.ecall] ?? ''),
    // Counted from the trigger, over redials and the waits between them: how long help has been called.
    el(
      'div',
      { class: 'timer', 'data-testid': 'timer' },
      elapsed(isoTimeMs(phone.ecallTriggeredAt) ?? call?.startedAt),
    ),
  );
  return screen;
}

function callScreen(calls: CallView[]): HTMLElement {
  const incoming = calls.find((c) => c.state === 'incoming');
  const current =
    calls.find((c) => c.state === 'active' || c.state === 'dialing' || c.state === 'alerting') ??
    calls.find((c) => c.state === 'held');
  const waiting = calls.find((c) => c.state === 'waiting');
  const screen = el('section', { class: 'callscreen', 'data-testid': 'callscreen' });
  const shown = incoming ?? current;
  if (!shown) {
    return screen;
  }
  const nameOf = (c: CallView): string => c.name || formatNumber(c.number);
  // A conference is shown as one call: its parties' names, and one button that ends it all.
  const multiparty = calls.filter((c) => c.multiparty);
  const conference = shown.multiparty ? multiparty : [];
  const who = conference.length > 0 ? conference.map(nameOf).join(', ') : nameOf(shown);
  if (shown.emergency) {
    return ecallScreen(shown);
  }
  // Declining a ringing or waiting call with a text: its canned replies, until one is chosen or closed.
  const declining = [incoming, waiting].find((c) => c !== undefined && c.path === decliningWithText);
  if (declining) {
    screen.append(declinePanel(declining.path, nameOf(declining)));
    return screen;
  }
  if (incoming) {
    const actions = el(
      'div',
      { class: 'actions' },
      button(t.reject, 'reject', () => act(window.carphone.hangup(incoming.path)), 'end big'),
      button(t.answer, 'answer', () => act(window.carphone.answer()), 'call big'),
    );
    // A call forwarded here, from a number the driver also answers (the office's), is said so first.
    const what = incoming.forwardedFrom
      ? `${t.forwardedFrom} ${formatNumber(incoming.forwardedFrom)}`
      : incoming.forwarded
        ? t.forwardedCall
        : t.incoming;
    screen.append(
      el('div', { class: 'what', 'data-testid': 'incoming-what' }, what),
      el('div', { class: 'who', 'data-testid': 'caller' }, who),
      actions,
    );
    // A text can go back only to a number (a withheld caller has none).
    if (validDialString(incoming.number) && canReply()) {
      screen.append(
        button(
          t.declineText,
          'decline-text',
          () => {
            decliningWithText = incoming.path;
            render();
          },
          'decline-text',
        ),
      );
    }
    return screen;
  }
  const what =
    shown.state === 'dialing'
      ? t.calling
      : shown.state === 'alerting'
        ? shown.forwarded
          ? t.forwardedOn
          : t.ringing
        : shown.state === 'held'
          ? t.onHold
          : shown.remoteHeld
            ? t.heldByOther
            : conference.length > 0
              ? t.conference
              : '';
  const conferenceActive = conference.length > 0 && shown.state === 'active';
  if (!conferenceActive) {
    showParties = false;
  }
  // With its parties listed below, the conference is named in one word: the head stays one line high.
  const head = el(
    'div',
    { class: 'head' },
    el('div', { class: 'who', 'data-testid': 'caller' }, showParties ? t.conference : who),
    el('div', { class: 'what', 'data-testid': 'call-state' }, showParties ? '' : what),
  );
  if (shown.state === 'active' || shown.state === 'held') {
    head.append(el('div', { class: 'timer', 'data-testid': 'timer' }, elapsed(shown.startedAt)));
    head.append(qualityIndicator(shown));
  }
  screen.append(head);
  if (conferenceActive) {
    head.append(
      button(showParties ? t.close : t.parties, 'parties', () => {
        showParties = !showParties;
        showDtmf = false;
        render();
      }),
    );
  }
  const other = calls.find(
    (c) => c !== shown && !conference.includes(c) && (c.state === 'held' || c.state === 'active'),
  );
  if (other) {
    // Two calls: the other one and the ways to switch to it or join the two, always on screen.
    const joinable =
      [shown.state, other.state].includes('active') && [shown.state, other.state].includes('held');
    // The other one may be the conference, held: it is named by all its parties, as when it is shown.
    const otherParties = other.multiparty ? multiparty : [other];
    screen.append(
      el(
        'div',
        { class: 'banner', 'data-testid': 'other-call' },
        el(
          'span',
          {},
          `${other.state === 'held' ? `${t.onHold}: ` : ''}${otherParties.map(nameOf).join(', ')}`,
        ),
        button(t.swap, 'swap', () => act(window.carphone.swap()), 'call'),
        ...(joinable ? [button(t.merge, 'merge', () => act(window.carphone.merge()), 'call')] : []),
      ),
    );
  }
  // With the keypad open the screen is denser: the keys and the call buttons must all stay on screen.
  screen.classList.toggle('with-keys', showDtmf);
  if (waiting) {
    screen.append(
      el(
        'div',
        { class: 'banner', 'data-testid': 'waiting' },
        el(
          'span',
          {},
          `${t.waiting}: ${waiting.name || formatNumber(waiting.number)}${viaNote(waiting.forwardedFrom)}`,
        ),
        button(t.reject, 'reject-waiting', () => act(window.carphone.hangup(waiting.path)), 'end'),
        ...(validDialString(waiting.number) && canReply()
          ? [
              button(t.textReply, 'decline-text-waiting', () => {
                decliningWithText = waiting.path;
                render();
              }),
            ]
          : []),
        button(t.answerHold, 'hold-and-answer', () => act(window.carphone.holdAndAnswer()), 'call'),
      ),
    );
  }
  if (showParties) {
    // A private chat holds the others, which carphoned refuses while another call is held already.
    const canTalkAlone = !calls.some((c) => c.state === 'held');
    screen.append(
      el(
        'div',
        { class: 'parties', 'data-testid': 'parties-list' },
        ...conference.map((c) =>
          el(
            'div',
            { class: 'banner', 'data-testid': `party-${c.number}` },
            el('span', {}, nameOf(c)),
            ...(canTalkAlone
              ? [
                  button(t.privateChat, `private-${c.number}`, () => {
                    showParties = false;
                    act(window.carphone.privateChat(c.path));
                  }),
                ]
              : []),
            button(t.endParty, `end-${c.number}`, () => act(window.carphone.hangup(c.path)), 'end'),
          ),
        ),
      ),
    );
  }
  if (showDtmf) {
    const pad = el('div', { class: 'keypad', 'data-testid': 'dtmf' });
    for (const k of ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#']) {
      pad.append(button(k, `dtmf-${k}`, () => act(window.carphone.sendTones(k))));
    }
    screen.append(pad);
  }
  screen.append(
    el(
      'div',
      { class: 'actions' },
      button(phone.muted ? t.unmute : t.mute, 'mute', () => act(window.carphone.setMuted(!phone.muted))),
      button(shown.state === 'held' ? t.resume : t.hold, 'hold', () => act(window.carphone.swap())),
      button(showDtmf ? t.close : t.keys, 'keys', () => {
        showDtmf = !showDtmf;
        showParties = false;
        render();
      }),
      button(
        t.hangUp,
        'hangup',
        () =>
          act(
            conference.length > 0 ? window.carphone.hangupMultiparty() : window.carphone.hangup(shown.path),
          ),
        'end',
      ),
    ),
  );
  return screen;
}

function render(keepSearchFocus = false): void {
  const app = document.getElementById('app');
  if (!app) {
    return;
  }
  const searching =
    keepSearchFocus || document.activeElement?.getAttribute('data-testid') === 'contact-search';
  const calls = phone.calls.filter((c) => c.state !== 'disconnected');
  const main = el('main');
  if (!phone.available) {
    main.append(el('div', { class: 'unavailable', 'data-testid': 'unavailable' }, t.unavailable));
  } else if (ecallShown() && calls.length === 0) {
    main.append(ecallScreen(undefined));
  } else if (calls.length > 0) {
    main.append(callScreen(calls));
  } else {
    main.append(
      ...(tab === 'keypad'
        ? keypadScreen()
        : tab === 'recents'
          ? recentsScreen()
          : tab === 'contacts'
            ? choosingNumber
              ? [numberPanel(choosingNumber)]
              : contactsScreen()
            : messagesScreen()),
    );
  }
  const nav = el('nav');
  if (phone.available && calls.length === 0 && !ecallShown()) {
    for (const [id, label] of [
      ['keypad', t.keypad],
      ['recents', t.recents],
      ['contacts', t.contacts],
      ['messages', t.messages],
    ] as [Tab, string][]) {
      const b = button(label, `tab-${id}`, () => showTab(id));
      if (tab === id) {
        b.setAttribute('aria-current', 'page');
      }
      nav.append(b);
    }
  }
  app.replaceChildren(statusBar(), main, nav);
  const search = app.querySelector<HTMLInputElement>('[data-testid="contact-search"]');
  if (searching && search) {
    search.focus();
    search.setSelectionRange(search.value.length, search.value.length);
  }
}

async function refreshLists(): Promise<void> {
  if (!phone.available) {
    return;
  }
  try {
    if (tab === 'recents') {
      // More than the eight rows show: calls of one number in a row are one row (groupRecents).
      recents = await window.carphone.recents(RECENTS_READ);
      if (phone.missedCalls > 0) {
        await window.carphone.callsSeen();
      }
    } else if (tab === 'contacts') {
      contacts = await window.carphone.contacts(phone.driving ? '' : query);
    } else if (tab === 'messages') {
      texts = await window.carphone.texts(8);
      if (phone.newTexts > 0) {
        await window.carphone.textsSeen();
      }
    }
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
  }
}

/** The steering wheel's requests for Recents the screen has seen; unknown until the first snapshot. */
let recentsRequestsSeen: number | undefined;

function showTab(id: Tab): void {
  tab = id;
  replyTo = undefined;
  reading = undefined;
  choosingNumber = undefined;
  void refreshLists().then(() => render());
}

window.carphone.onState((s) => {
  const hadCalls = phone.calls.length > 0;
  const textLogMoved = s.textLog !== phone.textLog;
  // A renderer (re)loaded takes the count as it finds it: only a key pressed since opens Recents.
  const recentsRequested = recentsRequestsSeen !== undefined && s.recentsRequests !== recentsRequestsSeen;
  recentsRequestsSeen = s.recentsRequests;
  phone = s;
  if (recentsRequested) {
    // The phone key on the steering wheel, pressed with no call: Recents, to call back without a touch.
    showTab('recents');
  }
  if (textLogMoved && tab === 'messages') {
    // A text logged (arrived, or sent and answered) or a delivery report taken: shown as it comes on
    // the screen the driver is looking at, where a text that arrived is not new for long.
    void refreshLists().then(() => render());
  }
  if (hadCalls && s.calls.length === 0) {
    digits = '';
    showDtmf = false;
    void refreshLists().then(() => render());
  }
  render();
});
void window.carphone.snapshot().then((s) => {
  phone = s;
  recentsRequestsSeen ??= s.recentsRequests;
  render();
});
// The call timer ticks on its own.
window.setInterval(() => {
  if (phone.calls.some((c) => c.startedAt)) {
    render();
  }
}, 1000);
render();
