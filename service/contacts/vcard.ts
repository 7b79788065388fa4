import { createHash } from 'node:crypto';

/**
 * vCard 2.1, 3.0 and 4.0 (RFC 6350) as phones export their address books: FN, N and TEL, with line
 * folding, quoted-printable names (2.1) and escaped commas and semicolons. Cards without a number are
 * of no use to a phone and are skipped.
 */
export interface Contact {
  id: string;
  name: string;
  numbers: { number: string; type: string }[];
}

export class VcardError extends Error {
  constructor(line: number, problem: string) {
    super(`vCard line ${line}: ${problem}`);
    this.name = 'VcardError';
  }
}

function unescape(v: string): string {
  return v.replace(/\\([,;\\nN])/g, (_, c: string) => (c === 'n' || c === 'N' ? ' ' : c));
}

function decodeQuotedPrintable(v: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < v.length; i++) {
    if (v[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(v.slice(i + 1, i + 3))) {
      bytes.push(parseInt(v.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(v.charCodeAt(i) & 0xff);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

export function parseVcards(text: string): Contact[] {
  // Unfold: a line starting with a space or tab continues the previous one (RFC 6350 §3.2);
  // vCard 2.1 quoted-printable soft breaks end a line with "=".
  const raw = text.replace(/\r\n/g, '\n').split('\n');
  const lines: { text: string; no: number }[] = [];
  raw.forEach((l, i) => {
    const last = lines[lines.length - 1];
    if (last && /^[ \t]/.test(l)) {
      last.text += l.slice(1);
    } else if (last && /QUOTED-PRINTABLE/i.test(last.text) && last.text.endsWith('=')) {
      last.text = last.text.slice(0, -1) + l;
    } else {
      lines.push({ text: l, no: i + 1 });
    }
  });
  const contacts: Contact[] = [];
  let current: { fn?: string; n?: string; numbers: Contact['numbers']; start: number } | undefined;
  for (const { text, no } of lines) {
    if (text.trim() === '') {
      continue;
    }
    const m = /^([^:;]+)((?:;[^:]*)?):(.*)$/.exec(text);
    if (!m) {
      throw new VcardError(no, `not a property line: ${text.slice(0, 40)}`);
    }
    const name = (m[1] ?? '').toUpperCase().replace(/^item\d+\./i, '');
    const params = (m[2] ?? '').toUpperCase();
    let value = m[3] ?? '';
    if (params.includes('QUOTED-PRINTABLE')) {
      value = decodeQuotedPrintable(value);
    }
    if (name === 'BEGIN' && value.toUpperCase() === 'VCARD') {
      current = { numbers: [], start: no };
    } else if (name === 'END' && value.toUpperCase() === 'VCARD') {
      if (!current) {
        throw new VcardError(no, 'END:VCARD without BEGIN:VCARD');
      }
      const displayName = current.fn ?? current.n ?? '';
      if (current.numbers.length > 0) {
        const name = displayName || (current.numbers[0]?.number ?? '');
        // Stable across re-imports of the same card, so that favourites stay marked.
        const id = createHash('sha1')
          .update(`${name}\n${current.numbers.map((n) => n.number).join(',')}`)
          .digest('hex')
          .slice(0, 12);
        contacts.push({ id, name, numbers: current.numbers });
      }
      current = undefined;
    } else if (current) {
      if (name === 'FN') {
        current.fn = unescape(value).trim();
      } else if (name === 'N') {
        const [family = '', given = ''] = value.split(';').map(unescape);
        current.n = `${given} ${family}`.trim();
      } else if (name === 'TEL') {
        const number = value.replace(/^tel:/i, '').replace(/[^\d+*#]/g, '');
        const type =
          /TYPE=([^;:]+)/.exec(params)?.[1]?.toLowerCase() ??
          /;(CELL|HOME|WORK|VOICE)/.exec(params)?.[1]?.toLowerCase() ??
          'other';
        if (number) {
          current.numbers.push({ number, type: type.split(',')[0] ?? 'other' });
        }
      }
    }
  }
  if (current) {
    throw new VcardError(current.start, 'BEGIN:VCARD without END:VCARD');
  }
  return contacts;
}

/** Case- and accent-insensitive search over names and numbers. */
export function searchContacts(contacts: Contact[], query: string, limit: number): Contact[] {
  const fold = (s: string): string =>
    s
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase();
  const q = fold(query.trim());
  const digits = query.replace(/[^\d+]/g, '');
  const hits = contacts.filter(
    (c) =>
      q === '' ||
      fold(c.name)
        .split(/\s+/)
        .some((w) => w.startsWith(q)) ||
      fold(c.name).startsWith(q) ||
      (digits.length >= 3 && c.numbers.some((n) => n.number.includes(digits))),
  );
  return hits.sort((a, b) => a.name.localeCompare(b.name)).slice(0, limit);
}
