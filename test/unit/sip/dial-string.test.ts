import { describe, expect, it } from 'vitest';
import { lineIdentification, parseDialString, targetUri } from '../../../service/sip/dial-string.js';

describe('dial strings', () => {
  it('turns E.164 numbers into user=phone URIs', () => {
    expect(targetUri(parseDialString('+4930123456'), 'example.com')).toBe(
      'sip:+4930123456@example.com;user=phone',
    );
  });

  it('sends local digits, * and # (escaped) to the account domain', () => {
    expect(targetUri(parseDialString('0301234'), 'pbx')).toBe('sip:0301234@pbx');
    expect(targetUri(parseDialString('*43#'), 'pbx')).toBe('sip:*43%23@pbx');
  });

  it('passes SIP URIs through', () => {
    expect(targetUri(parseDialString('sip:alice@192.0.2.1:5070'), 'x')).toBe('sip:alice@192.0.2.1:5070');
    expect(targetUri(parseDialString('sip:bob@[2001:db8::1]:5060'), 'x')).toBe('sip:bob@[2001:db8::1]:5060');
  });

  it('refuses anything else with INVALID_FORMAT', () => {
    for (const bad of [
      '',
      'abc',
      '+49 30 1234',
      '+0123',
      '12;34',
      'tel:+4930',
      'sip:',
      'sip:x@[::1',
      'sip:x@::1]',
      'sip:x@host]:5060',
      'x'.repeat(300),
      '1'.repeat(81),
    ]) {
      expect(() => parseDialString(bad), bad).toThrow(
        expect.objectContaining({ code: 'INVALID_FORMAT' }) as Error,
      );
    }
  });

  it('shows the user part of a URI as the line identification', () => {
    expect(lineIdentification('sip:2002@127.0.0.1:5060')).toBe('2002');
    expect(lineIdentification('sip:%2B4930@x')).toBe('+4930');
    expect(lineIdentification('sip:example.com')).toBe('example.com');
    // A caller the network names by a tel URI (RFC 3966) is its number, not "tel:…".
    expect(lineIdentification('tel:+4930555;phone-context=ims.example.net')).toBe('+4930555');
    expect(lineIdentification('TEL:+49-30-555')).toBe('+49-30-555');
  });
});
