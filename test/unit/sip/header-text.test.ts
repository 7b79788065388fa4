import { describe, expect, it } from 'vitest';
import * as sip from 'sip';
import { lineIdentification } from '../../../service/sip/dial-string.js';
import { displayName, quotedDisplayName, textFromWire } from '../../../service/sip/header-text.js';

/** A header as the sip package hands it over: the message's bytes, one character each. */
const wire = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

describe('caller identity from the network', () => {
  it('decodes a UTF-8 display name that the sip package parsed byte by byte', () => {
    const m = sip.parse(
      wire('INVITE sip:a@b SIP/2.0\r\nFrom: "Jürgen Müller 山田" <sip:2001@x>;tag=1\r\n\r\n'),
    );
    expect(displayName(m?.headers.from?.name)).toBe('Jürgen Müller 山田');
  });

  it('unescapes a quoted-string and drops control characters, NUL among them', () => {
    expect(displayName(wire('"Say \\"hi\\" \\\\ bye"'))).toBe('Say "hi" \\ bye');
    expect(displayName(wire('"Eve\u0000\u0007\u001b[2J\u007f\u0085 Mallory"'))).toBe('Eve[2J Mallory');
    expect(displayName(wire('"line\r\n\tfolded"'))).toBe('line folded');
    expect(displayName(wire('"Bank \u202e1234\u202c \u2067x\u2069"'))).toBe('Bank 1234 x');
    expect(displayName(undefined)).toBe('');
  });

  it('turns bytes that are not UTF-8 into U+FFFD instead of failing', () => {
    expect(displayName('"M\xfcller"')).toBe('M\ufffdller');
    expect(textFromWire('\xc3')).toBe('\ufffd');
  });

  it("decodes a URI user's percent-escapes as UTF-8 and keeps a malformed escape as it is", () => {
    expect(lineIdentification('sip:J%C3%BCrgen@example.com')).toBe('Jürgen');
    expect(lineIdentification('sip:%2B4930123%23@example.com;user=phone')).toBe('+4930123#');
    expect(lineIdentification('sip:%zz%4@example.com')).toBe('%zz%4');
    expect(lineIdentification('sip:a%00b@example.com')).toBe('ab');
    expect(lineIdentification('sip:example.com')).toBe('example.com');
  });
});

describe('our display name to the network', () => {
  it('writes it as a quoted-string of UTF-8 bytes that parses back to the same name', () => {
    const name = quotedDisplayName('Jürgen "JM" Müller');
    expect(Buffer.from(name, 'latin1').toString('utf8')).toBe('"Jürgen \\"JM\\" Müller"');
    const m = sip.parse(`INVITE sip:a@b SIP/2.0\r\nFrom: ${name} <sip:1000@x>;tag=1\r\n\r\n`);
    expect(displayName(m?.headers.from?.name)).toBe('Jürgen "JM" Müller');
  });
});
