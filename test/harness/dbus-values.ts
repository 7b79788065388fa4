import dbus from 'dbus-next';
import type { Random } from './sip-fuzz.js';

/**
 * Random arguments for a D-Bus method, built from its signature as introspection gives it: values a
 * client may send that carphoned must answer with a reply or a named error. Strings come from a list
 * of what has broken handlers (empty, huge, dial strings near the valid ones, property names, paths)
 * and from random text.
 */
const STRINGS = [
  '',
  ' ',
  '0',
  '-1',
  '+',
  '+4930123456',
  '+0000000000000000000000',
  '*43',
  '*#06#',
  '112',
  '2001',
  '1'.repeat(81),
  'sip:2001@127.0.0.1',
  'sip:%zz@127.0.0.1',
  'sips:a@[::1]',
  'urn:service:sos.ecall.manual',
  'tel:+4930123',
  'Powered',
  'Online',
  'Muted',
  'SpeakerVolume',
  'MicrophoneVolume',
  'Name',
  'Lockdown',
  'default',
  'enabled',
  'disabled',
  'manual',
  'automatic',
  'test',
  'cell',
  'jür',
  '山田',
  '\u202eevil',
  '\ud800',
  '/sip0',
  '/sip0/voicecall01',
  'x'.repeat(70_000),
];

const PATHS = ['/', '/sip0', '/local', '/local/voicecall01', '/local/voicecall02', '/nope', '/a/b/c'];

function randomText(rand: Random): string {
  const length = Math.floor(rand() * 40);
  return Array.from({ length }, () => String.fromCodePoint(1 + Math.floor(rand() * 0x2fff))).join('');
}

const pick = <T>(rand: Random, items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;

/** The complete types a signature is made of, e.g. "sa{sv}u" → ["s", "a{sv}", "u"]. */
export function completeTypes(signature: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < signature.length) {
    const end = typeEnd(signature, i);
    out.push(signature.slice(i, end));
    i = end;
  }
  return out;
}

function typeEnd(sig: string, i: number): number {
  const c = sig[i];
  if (c === 'a') {
    return typeEnd(sig, i + 1);
  }
  if (c === '(' || c === '{') {
    const close = c === '(' ? ')' : '}';
    let j = i + 1;
    while (sig[j] !== close) {
      j = typeEnd(sig, j);
    }
    return j + 1;
  }
  return i + 1;
}

const VARIANT_TYPES = ['b', 's', 'y', 'u', 'i', 'd', 'as', 'o', 'a{sv}'];

/** A random value of one complete type, in the form dbus-next marshals. */
export function randomValue(type: string, rand: Random, depth = 0): unknown {
  switch (type[0]) {
    case 'b':
      return rand() < 0.5;
    case 'y':
      return pick(rand, [0, 1, 100, 101, 255]);
    case 'n':
      return pick(rand, [-32768, -1, 0, 1, 32767]);
    case 'q':
      return pick(rand, [0, 1, 65535]);
    case 'i':
      return pick(rand, [-2147483648, -1, 0, 1, 10, 2147483647]);
    case 'u':
      return pick(rand, [0, 1, 3, 10, 100, 4294967295]);
    case 'x':
    case 't':
      return pick(rand, [0, 1, 1000]);
    case 'd':
      return pick(rand, [0, -1, 0.5, 1e308, -1e308]);
    case 's':
      return rand() < 0.8 ? pick(rand, STRINGS) : randomText(rand);
    case 'o':
      return pick(rand, PATHS);
    case 'g':
      return pick(rand, ['', 's', 'a{sv}']);
    case 'v': {
      const inner = depth > 2 ? 's' : pick(rand, VARIANT_TYPES);
      return new dbus.Variant(inner, randomValue(inner, rand, depth + 1));
    }
    case 'a': {
      const element = type.slice(1);
      const count = depth > 2 ? 0 : Math.floor(rand() * 4);
      if (element.startsWith('{')) {
        const [key = 's', value = 'v'] = completeTypes(element.slice(1, -1));
        const entries = Array.from({ length: count }, () => [
          randomValue(key, rand, depth + 1),
          randomValue(value, rand, depth + 1),
        ]);
        return Object.fromEntries(entries as [string, unknown][]);
      }
      return Array.from({ length: count }, () => randomValue(element, rand, depth + 1));
    }
    case '(':
      return completeTypes(type.slice(1, -1)).map((t) => randomValue(t, rand, depth + 1));
    default:
      throw new Error(`no random value for D-Bus type ${type}`);
  }
}

/** Random arguments for a whole signature. */
export function randomArguments(signature: string, rand: Random): unknown[] {
  return completeTypes(signature).map((t) => randomValue(t, rand));
}
