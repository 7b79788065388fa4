import { describe, expect, it } from 'vitest';
import { toDict } from '../../../service/dbus/properties.js';
import { entryDict } from '../../../service/dbus/callhistory-iface.js';

describe('strings going out on D-Bus', () => {
  it('leaves NUL, which dbus-next refuses to marshal, out of call properties and call log entries', () => {
    const props = toDict({ LineIdentification: 'a\u0000b', Name: 'Eve\u0000', State: 'incoming' });
    expect(props.Name?.value).toBe('Eve');
    expect(props.LineIdentification?.value).toBe('ab');
    const entry = entryDict({
      id: 1,
      line: 'sip0',
      kind: 'incoming',
      number: '1\u00002',
      name: '\u0000x',
      startedAt: 0,
      duration: 0,
      emergency: false,
      reason: 'remote',
      forwarded: 'busy',
      forwardedFrom: '20\u000099',
    });
    expect(entry.Name?.value).toBe('x');
    expect(entry.LineIdentification?.value).toBe('12');
    expect(entry.ForwardedFrom?.value).toBe('2099');
  });
});
