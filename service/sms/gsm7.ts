/**
 * The GSM 7-bit default alphabet and its extension table (3GPP TS 23.038 §6.2.1), as SMS text is
 * written in most messages, and the packing of its septets into octets (§6.1.2.1.1).
 */

// Index = septet value. 0x1B is the escape to the extension table.
const DEFAULT_ALPHABET =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

const EXTENSION: Readonly<Record<number, string>> = {
  0x0a: '\f',
  0x14: '^',
  0x28: '{',
  0x29: '}',
  0x2f: '\\',
  0x3c: '[',
  0x3d: '~',
  0x3e: ']',
  0x40: '|',
  0x65: '€',
};

const ESCAPE = 0x1b;

/** Septets as text. An escape before a value the extension table lacks reads as a space (§6.2.1.1). */
export function gsm7Text(septets: readonly number[]): string {
  let out = '';
  for (let i = 0; i < septets.length; i++) {
    const s = septets[i] ?? 0;
    if (s === ESCAPE && i + 1 < septets.length) {
      const next = septets[++i] ?? 0;
      out += EXTENSION[next] ?? ' ';
    } else {
      out += DEFAULT_ALPHABET[s] ?? ' ';
    }
  }
  return out;
}

/**
 * `count` septets packed little-end first in `octets`, from septet `skip` on: a user data header
 * before the text fills up to a septet boundary, and its septets are skipped (§6.1.2.1.1, TS 23.040
 * §9.2.3.24).
 */
export function unpackSeptets(octets: Uint8Array, count: number, skip = 0): number[] {
  const out: number[] = [];
  for (let n = skip; n < count; n++) {
    const bit = n * 7;
    const byte = bit >> 3;
    const shift = bit & 7;
    const low = (octets[byte] ?? 0) >> shift;
    const high = shift > 1 ? (octets[byte + 1] ?? 0) << (8 - shift) : 0;
    out.push((low | high) & 0x7f);
  }
  return out;
}

const CODE_OF = new Map([...DEFAULT_ALPHABET].map((c, i) => [c, i] as const).filter(([, i]) => i !== ESCAPE));
const EXTENSION_CODE_OF = new Map(Object.entries(EXTENSION).map(([code, c]) => [c, Number(code)] as const));

/** `text` as GSM 7-bit septets (extension characters as ESC and their code); none if a character has none. */
export function gsm7Septets(text: string): number[] | undefined {
  const out: number[] = [];
  for (const c of text) {
    const code = CODE_OF.get(c);
    if (code !== undefined) {
      out.push(code);
      continue;
    }
    const extension = EXTENSION_CODE_OF.get(c);
    if (extension === undefined) {
      return undefined;
    }
    out.push(ESCAPE, extension);
  }
  return out;
}

/** Septets packed into octets, after `fill` zero bits (the fill after a user data header). */
export function packSeptets(septets: readonly number[], fill = 0): number[] {
  const bits = fill + septets.length * 7;
  const out = new Array<number>(Math.ceil(bits / 8)).fill(0);
  septets.forEach((s, n) => {
    const bit = fill + n * 7;
    const byte = bit >> 3;
    const shift = bit & 7;
    out[byte] = (out[byte] ?? 0) | ((s << shift) & 0xff);
    if (shift > 1) {
      out[byte + 1] = (out[byte + 1] ?? 0) | (s >> (8 - shift));
    }
  });
  return out;
}
