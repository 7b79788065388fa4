import { CarphoneError } from '../core/errors.js';
import { uriUserText } from './header-text.js';

/**
 * What a dialled string means. oFono accepts `[+][0-9*#]{1,80}`; carphone adds SIP URIs.
 * E.164 numbers become `sip:+49…@domain;user=phone` (RFC 3261 §19.1.6), local digits `sip:123@domain`.
 */
export type DialTarget =
  { kind: 'e164'; number: string } | { kind: 'digits'; number: string } | { kind: 'uri'; uri: string };

const E164 = /^\+[1-9][0-9]{1,14}$/;
const DIGITS = /^[0-9*#]{1,80}$/;
/** The host is a name, an IPv4 address or a bracketed IPv6 reference (RFC 3261 §25.1). */
const SIP_URI =
  /^sips?:(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/%]+@)?(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?(?:;[^\s<>"]*)?$/;

/** A phone number the driver can dial (+E.164 or digits 0-9*#), as a voicemail number must be. */
export function isPhoneNumber(s: string): boolean {
  return E164.test(s) || DIGITS.test(s);
}

export function parseDialString(input: string): DialTarget {
  const s = input.trim();
  if (E164.test(s)) {
    return { kind: 'e164', number: s };
  }
  if (DIGITS.test(s)) {
    return { kind: 'digits', number: s };
  }
  if (s.length <= 256 && SIP_URI.test(s)) {
    return { kind: 'uri', uri: s };
  }
  throw new CarphoneError(
    'INVALID_FORMAT',
    `"${input.slice(0, 40)}" is not a phone number (+E.164 or digits 0-9*#) or a SIP URI`,
  );
}

/** A sips: URI: reached over TLS on every hop (RFC 3261 §26.2.2). */
export function isSipsUri(uri: string): boolean {
  return /^sips:/i.test(uri);
}

export function targetUri(target: DialTarget, domain: string): string {
  switch (target.kind) {
    case 'e164':
      return `sip:${target.number}@${domain};user=phone`;
    case 'digits':
      return `sip:${encodeURIComponent(target.number).replace(/%2A/g, '*')}@${domain}`;
    case 'uri':
      return target.uri;
  }
}

/**
 * The line identification oFono shows for a call: the number, or the user part of a SIP URI (as the
 * sip package parsed it from the network, or as dialled), or the number of a tel URI (RFC 3966),
 * its parameters left off.
 */
export function lineIdentification(uri: string): string {
  const tel = /^tel:([^;?]*)/i.exec(uri);
  if (tel) {
    return uriUserText(tel[1] ?? '');
  }
  const m = /^sips?:([^@;]+)@/.exec(uri);
  return uriUserText(m?.[1] ?? uri.replace(/^sips?:/, ''));
}
