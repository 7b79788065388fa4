import { describe, expect, it } from 'vitest';
import { dtmfFrames } from '../../../service/media/rfc4733.js';

describe('RFC 4733 DTMF packets', () => {
  it('sends each key as one event: growing duration, marker on the first, three end packets, then a gap', () => {
    const frames = dtmfFrames('1#');
    const events = frames.filter((f) => f.kind === 'event');
    expect(events).toHaveLength(16);
    const first = frames.slice(0, 11);
    expect(first.map((f) => (f.kind === 'event' ? Buffer.from(f.payload).toString('hex') : 'gap'))).toEqual([
      '010a00a0',
      '010a0140',
      '010a01e0',
      '010a0280',
      '010a0320',
      '018a0320',
      '018a0320',
      '018a0320',
      'gap',
      'gap',
      'gap',
    ]);
    expect(first.filter((f) => f.kind === 'event' && f.first)).toHaveLength(1);
    expect(frames[11]?.kind === 'event' && frames[11].payload[0]).toBe(11); // '#' is event 11
  });

  it('refuses a key that is not DTMF', () => {
    expect(() => dtmfFrames('12x')).toThrow(RangeError);
  });
});
