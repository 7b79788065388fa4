/**
 * Text in SIP headers as the driver sees it, and ours as the network gets it. The sip package reads and
 * writes messages as binary strings, one character per byte, while SIP's text is UTF-8 (RFC 3261 §25.1,
 * TEXT-UTF8 and percent-escaped URI users): a caller named "Jürgen" arrives as "JÃ¼rgen" unless decoded,
 * and a display name of ours would go out truncated to Latin-1 unless encoded. What the network sends
 * may also hold control characters, which no display shows and a D-Bus string cannot carry (NUL).
 */

/** UTF-8 text from a binary string as the sip package parsed it; invalid sequences become U+FFFD. */
export function textFromWire(binary: string): string {
  return Buffer.from(binary, 'latin1').toString('utf8');
}

/** A binary string, for the sip package to write, holding `text` as UTF-8. */
export function wireFromText(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

// C0 controls, DEL and C1 controls (tabs and line breaks are folding whitespace to a header), and the
// bidirectional embeddings, overrides and isolates, with which a name can make digits or another name
// read backwards on the screen (a caller ID spoof).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with control characters removed and whitespace runs made single spaces, for a display. */
export function printable(text: string): string {
  return text.replace(CONTROL, '').replace(/\s+/g, ' ').trim();
}

/** A caller's display name from a From header (a token or a quoted-string, RFC 3261 §25.1). */
export function displayName(fromHeaderName: string | undefined): string {
  const raw = fromHeaderName ?? '';
  const quoted = /^"((?:[^"\\]|\\.)*)"$/.exec(raw.trim());
  const unquoted = quoted ? (quoted[1] ?? '').replace(/\\(.)/g, '$1') : raw;
  return printable(textFromWire(unquoted));
}

/** Our display name as a quoted-string for a From header, as the sip package should write it. */
export function quotedDisplayName(text: string): string {
  return `"${wireFromText(printable(text).replace(/["\\]/g, '\\$&'))}"`;
}

/** The user part of a SIP URI as text: percent-escapes decoded as UTF-8; a malformed escape kept. */
export function uriUserText(binaryUser: string): string {
  const bytes = binaryUser.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
  return printable(textFromWire(bytes));
}
