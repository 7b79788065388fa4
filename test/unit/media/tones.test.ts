import { describe, expect, it } from 'vitest';
import { soundSource, TONE_PLANS, without, type ToneSound } from '../../../service/media/tones.js';
import { toneShare } from '../../harness/audio.js';

/** `seconds` of a tone, generated frame by frame as a call's clock asks for it. */
function play(sound: ToneSound, seconds: number, frame = 160): Int16Array {
  const tone = soundSource(sound);
  const out = new Int16Array(seconds * 8000);
  for (let at = 0; at < out.length; at += frame) {
    out.set(tone.next(Math.min(frame, out.length - at)), at);
  }
  return out;
}

/** Whether each 100 ms of `pcm` sounds (any sample not zero). */
function sounding(pcm: Int16Array): boolean[] {
  const windows: boolean[] = [];
  for (let i = 0; i + 800 <= pcm.length; i += 800) {
    windows.push(pcm.subarray(i, i + 800).some((x) => x !== 0));
  }
  return windows;
}

const on = (n: number): boolean[] => Array.from({ length: n }, () => true);
const off = (n: number): boolean[] => Array.from({ length: n }, () => false);

describe('the tones carphoned plays itself', () => {
  it("plays Europe's ringback as 425 Hz at -13 dBm0, one second on and four off", () => {
    const pcm = play(TONE_PLANS.europe.ringback!, 10);
    expect(sounding(pcm)).toEqual([...on(10), ...off(40), ...on(10), ...off(40)]);
    expect(toneShare(pcm.subarray(0, 8000), 8000, 425)).toBeGreaterThan(0.95);
    // -13 dBm0 is a sine of 32767 x 10^((-13 - 3.17) / 20), about 5100, at its peak.
    const peak = Math.max(...pcm.subarray(0, 8000));
    expect(peak).toBeGreaterThan(5050);
    expect(peak).toBeLessThan(5150);
  });

  it("plays Europe's call-waiting tone as two 200 ms bursts, then five seconds of silence", () => {
    const pcm = play(TONE_PLANS.europe['call-waiting']!, 6);
    expect(sounding(pcm)).toEqual([...on(2), ...off(2), ...on(2), ...off(50), ...on(2), ...off(2)]);
  });

  it('plays North American ringback as 440 and 480 Hz together, two seconds on and four off', () => {
    const pcm = play(TONE_PLANS['north-america'].ringback!, 6);
    expect(sounding(pcm)).toEqual([...on(20), ...off(40)]);
    const burst = pcm.subarray(0, 16000);
    expect(toneShare(burst, 8000, 440)).toBeGreaterThan(0.4);
    expect(toneShare(burst, 8000, 480)).toBeGreaterThan(0.4);
    expect(toneShare(burst, 8000, 425)).toBeLessThan(0.05);
  });

  it("plays a carmaker's recorded ringtone from its start over and over, whatever frames it is asked for in", () => {
    const recording = {
      pcm: Int16Array.from({ length: 2999 }, (_, i) => (i % 300) - 150 + (i === 0 ? 1000 : 0)),
    };
    const pcm = play(recording, 1);
    expect(Array.from(pcm.subarray(0, 2999))).toEqual(Array.from(recording.pcm));
    expect(Array.from(pcm.subarray(2999, 5998))).toEqual(Array.from(recording.pcm));
    expect(pcm[5998]).toBe(1000 - 150);
    expect(play(recording, 1, 37)).toEqual(pcm);
    expect(play({ pcm: new Int16Array(0) }, 1)).toEqual(new Int16Array(8000));
  });

  it('is the same audio whatever frames it is asked for in: no click where one frame ends', () => {
    const cadence = TONE_PLANS.uk.ringback!;
    const whole = play(cadence, 3, 24000);
    expect(play(cadence, 3, 160)).toEqual(whole);
    expect(play(cadence, 3, 37)).toEqual(whole);
  });

  it('fades each burst in and out: no step between samples steeper than the sine itself makes', () => {
    // Bursts that end and start mid-cycle (the plans' own all hold whole cycles), where a hard edge jumps.
    const pcm = play({ hz: [425], levelDbm0: -13, pattern: [103, 211] }, 1);
    const slope = 5102 * ((2 * Math.PI * 425) / 8000);
    let steepest = 0;
    for (let i = 1; i < pcm.length; i++) {
      steepest = Math.max(steepest, Math.abs((pcm[i] ?? 0) - (pcm[i - 1] ?? 0)));
    }
    expect(steepest).toBeLessThan(slope * 1.05);
  });

  it('has no ringtone or call-ended beeps in a plan for an HMI that plays those, and keeps the other tones', () => {
    const plan = without(TONE_PLANS.europe, ['ringtone', 'call-ended']);
    expect(plan.ringtone).toBeUndefined();
    expect(plan['call-ended']).toBeUndefined();
    expect(plan.ringback).toBe(TONE_PLANS.europe.ringback);
    expect(without(TONE_PLANS.uk, [])).toEqual(TONE_PLANS.uk);
  });
});
