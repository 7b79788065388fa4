import { describe, expect, it } from 'vitest';
import { ConferenceRoom } from '../../../service/media/conference.js';

const N = 160;
const filled = (value: number): Int16Array => new Int16Array(N).fill(value);

describe('ConferenceRoom (a multiparty call mixed on the head unit)', () => {
  it('sends each far end the cabin and every other far end, never its own voice back', () => {
    const room = new ConferenceRoom();
    const [a, b, c] = [room.join(), room.join(), room.join()];
    const cabin = filled(1);
    let heard: number[] = [];
    for (let frame = 0; frame < 5; frame++) {
      a.heard(filled(100));
      b.heard(filled(1000));
      c.heard(filled(10000));
      heard = [a, b, c].map((seat) => seat.mix(cabin)[N - 1] ?? NaN);
    }
    expect(heard).toEqual([1 + 1000 + 10000, 1 + 100 + 10000, 1 + 100 + 1000]);
    expect(cabin[0]).toBe(1);
  });

  it('starts mixing another far end only once a frame of slack is waiting, so a late tick leaves no gap', () => {
    const room = new ConferenceRoom();
    const [a, b] = [room.join(), room.join()];
    const sent: number[] = [];
    for (let frame = 1; frame <= 6; frame++) {
      b.heard(filled(frame * 10));
      sent.push(a.mix(filled(0))[0] ?? NaN);
    }
    // One frame of delay from the second frame on; the frames come in order, none repeated or lost.
    expect(sent).toEqual([0, 10, 20, 30, 40, 50]);
    // b's tick is late once: a still has a frame waiting, and gets b's audio on in order after.
    sent.length = 0;
    sent.push(a.mix(filled(0))[0] ?? NaN);
    b.heard(filled(70));
    b.heard(filled(80));
    sent.push(a.mix(filled(0))[0] ?? NaN, a.mix(filled(0))[0] ?? NaN);
    expect(sent).toEqual([60, 70, 80]);
  });

  it('clips where two loud voices add up beyond 16 bits instead of wrapping round', () => {
    const room = new ConferenceRoom();
    const [a, b] = [room.join(), room.join()];
    b.heard(filled(-30000));
    b.heard(filled(30000));
    expect(a.mix(filled(-30000))[0]).toBe(-32768);
    expect(a.mix(filled(30000))[0]).toBe(32767);
  });

  it('keeps at most a few frames of a far end for a member that stopped sending (held), the newest ones', () => {
    const room = new ConferenceRoom();
    const [a, b] = [room.join(), room.join()];
    for (let frame = 1; frame <= 100; frame++) {
      b.heard(filled(frame));
    }
    const next = a.mix(filled(0))[0] ?? NaN;
    expect(next).toBeGreaterThanOrEqual(97);
    expect(next).toBeLessThanOrEqual(100);
  });

  it('stops mixing a member that left, in both directions', () => {
    const room = new ConferenceRoom();
    const [a, b] = [room.join(), room.join()];
    b.heard(filled(5));
    b.heard(filled(5));
    a.heard(filled(7));
    a.heard(filled(7));
    b.leave();
    expect(room.size).toBe(1);
    b.heard(filled(5));
    expect(a.mix(filled(1))[0]).toBe(1);
    expect(b.mix(filled(1))[0]).toBe(1);
  });
});
