import { lineIdentification } from './dial-string.js';

/** One entry of a header listing name-addrs (History-Info, Diversion, P-Called-Party-ID …). */
export interface AddressEntry {
  uri: string;
  /** The URI's own parameters (inside <>), lower-cased names. */
  uriParams: Map<string, string>;
  /** The header parameters (after >), lower-cased names. */
  params: Map<string, string>;
}

/**
 * The entries of a header that lists name-addrs, as the sip package hands a header it does not know:
 * every occurrence joined with commas. A comma inside quotes or <> does not split.
 */
export function addressEntries(value: unknown): AddressEntry[] {
  if (typeof value !== 'string') {
    return [];
  }
  const entries: string[] = [];
  let current = '';
  let quoted = false;
  let angled = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i] ?? '';
    if (quoted && c === '\\') {
      current += c + (value[++i] ?? '');
      continue;
    }
    if (c === '"' && !angled) {
      quoted = !quoted;
    } else if (!quoted && c === '<') {
      angled = true;
    } else if (!quoted && c === '>') {
      angled = false;
    } else if (!quoted && !angled && c === ',') {
      entries.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  entries.push(current);
  return entries.flatMap((entry) => {
    const m = /<([^>]*)>(.*)$/s.exec(entry);
    if (!m) {
      return [];
    }
    const inside = m[1] ?? '';
    const uri = inside.split('?')[0] ?? '';
    return [
      { uri, uriParams: params(uri.split(';').slice(1)), params: params((m[2] ?? '').split(';').slice(1)) },
    ];
  });
}

function params(parts: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of parts) {
    const [name = '', ...value] = part.split('=');
    if (name.trim()) {
      out.set(
        name.trim().toLowerCase(),
        value
          .join('=')
          .trim()
          .replace(/^"(.*)"$/, '$1'),
      );
    }
  }
  return out;
}

/**
 * The line a call came in on, where the network says which of the subscriber's numbers the caller
 * called (P-Called-Party-ID, RFC 3455; an IMS core sets it): oFono's IncomingLine. '' where unsaid.
 */
export function calledLine(headers: { [name: string]: unknown }): string {
  const called = addressEntries(headers['p-called-party-id'])[0];
  return called ? lineIdentification(called.uri) : '';
}
