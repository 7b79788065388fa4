/**
 * DTMF as RTP telephone-event packets (RFC 4733 §2.3): each key is one event whose packets share the
 * RTP timestamp of its start, carry a growing duration, and end with the E bit set three times (the
 * end packet is repeated for robustness, §2.5.1.4); the first packet has the marker bit. Between keys
 * the stream carries audio again.
 */
export const DTMF_KEYS = '0123456789*#ABCD';

export type DtmfFrame =
  { kind: 'event'; payload: Uint8Array; first: boolean; eventStart: boolean } | { kind: 'gap' };

export interface DtmfTiming {
  /** Samples per packet (160 at 8 kHz, 20 ms). */
  samplesPerFrame: number;
  toneFrames: number;
  gapFrames: number;
  volume: number;
}

export const defaultTiming: DtmfTiming = { samplesPerFrame: 160, toneFrames: 5, gapFrames: 3, volume: 10 };

function payload(event: number, end: boolean, volume: number, duration: number): Uint8Array {
  return Uint8Array.from([
    event,
    (end ? 0x80 : 0) | (volume & 0x3f),
    (duration >> 8) & 0xff,
    duration & 0xff,
  ]);
}

/** The packets that send `keys`, one per frame, in order. Throws on a key RFC 4733 has no event for. */
export function dtmfFrames(keys: string, t: DtmfTiming = defaultTiming): DtmfFrame[] {
  const frames: DtmfFrame[] = [];
  for (const key of keys.toUpperCase()) {
    const event = DTMF_KEYS.indexOf(key);
    if (event < 0) {
      throw new RangeError(`"${key}" is not a DTMF key`);
    }
    for (let i = 1; i <= t.toneFrames; i++) {
      frames.push({
        kind: 'event',
        payload: payload(event, false, t.volume, i * t.samplesPerFrame),
        first: i === 1,
        eventStart: i === 1,
      });
    }
    for (let i = 0; i < 3; i++) {
      frames.push({
        kind: 'event',
        payload: payload(event, true, t.volume, t.toneFrames * t.samplesPerFrame),
        first: false,
        eventStart: false,
      });
    }
    for (let i = 0; i < t.gapFrames; i++) {
      frames.push({ kind: 'gap' });
    }
  }
  return frames;
}
