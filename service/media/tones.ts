/**
 * The tones a phone makes itself, where over SIP no network makes them: ringback while the far end
 * rings (RFC 3960 §3: a UAC that gets 180 and no early media generates it locally), the call-waiting
 * tone over the active call (3GPP TS 24.615 leaves it to the terminal), the ringtone of an incoming
 * call, for a few seconds after a call we placed failed, the busy or congestion tone, and three short
 * beeps when the far end or the network ended a call the driver was in. All but the ringtone and the
 * call-ended beeps follow the driver's country, as the network tones the driver knows do (ETSI TR 101
 * 041, ITU-T E.180 Supplement 2).
 */
export type LocalTone = 'ringback' | 'call-waiting' | 'ringtone' | 'busy' | 'congestion' | 'call-ended';

export interface Cadence {
  /** Frequencies played together. */
  hz: readonly number[];
  /** Level of each frequency, dBm0 (0 dBm0 is a sine 3.17 dB below a 16-bit full scale). */
  levelDbm0: number;
  /** Milliseconds on, off, on, off …, repeated from the start. */
  pattern: readonly number[];
}

export const TONE_PLAN_NAMES = ['europe', 'north-america', 'uk'] as const;
export type TonePlanName = (typeof TONE_PLAN_NAMES)[number];

/** A recording played in a loop (a carmaker's own ringtone), 16-bit mono PCM at the devices' 8 kHz. */
export interface RecordedSound {
  pcm: Int16Array;
}

export type ToneSound = Cadence | RecordedSound;

export type TonePlan = Record<LocalTone, ToneSound | undefined>;

/** A ringtone of carphone's own (no standard gives one): two notes, in a double ring. */
const RINGTONE: Cadence = { hz: [660, 880], levelDbm0: -10, pattern: [400, 200, 400, 2000] };

/**
 * carphone's own (no standard gives one; a mobile phone beeps so): short beeps of the ringtone's
 * lower note, unlike any country's busy or congestion tone in pitch, played for CALL_ENDED_TONE_MS.
 */
const CALL_ENDED: Cadence = { hz: [660], levelDbm0: -13, pattern: [150, 150] };

export const TONE_PLANS: Record<TonePlanName, TonePlan> = {
  // CEPT: 425 Hz; ringing 1 s on, 4 s off; call waiting 0.2 on, 0.2 off, 0.2 on, then 5 s off;
  // busy 0.5 on, 0.5 off; congestion 0.2 on, 0.2 off.
  europe: {
    ringback: { hz: [425], levelDbm0: -13, pattern: [1000, 4000] },
    'call-waiting': { hz: [425], levelDbm0: -13, pattern: [200, 200, 200, 5000] },
    ringtone: RINGTONE,
    busy: { hz: [425], levelDbm0: -13, pattern: [500, 500] },
    congestion: { hz: [425], levelDbm0: -13, pattern: [200, 200] },
    'call-ended': CALL_ENDED,
  },
  // ANSI T1.401: audible ringing 440 + 480 Hz, 2 s on, 4 s off; call waiting 440 Hz, 0.3 s each 10 s;
  // busy 480 + 620 Hz 0.5 on, 0.5 off; reorder (congestion) the same, 0.25 on, 0.25 off.
  'north-america': {
    ringback: { hz: [440, 480], levelDbm0: -19, pattern: [2000, 4000] },
    'call-waiting': { hz: [440], levelDbm0: -13, pattern: [300, 9700] },
    ringtone: RINGTONE,
    busy: { hz: [480, 620], levelDbm0: -24, pattern: [500, 500] },
    congestion: { hz: [480, 620], levelDbm0: -24, pattern: [250, 250] },
    'call-ended': CALL_ENDED,
  },
  // SIN 350: ringing 400 + 450 Hz, 0.4 on, 0.2 off, 0.4 on, 2 s off; call waiting 400 Hz, 0.1 s each
  // 3 s; busy 400 Hz 0.375 on, 0.375 off; congestion 400 Hz 0.4 on, 0.35 off.
  uk: {
    ringback: { hz: [400, 450], levelDbm0: -19, pattern: [400, 200, 400, 2000] },
    'call-waiting': { hz: [400], levelDbm0: -18, pattern: [100, 3000] },
    ringtone: RINGTONE,
    busy: { hz: [400], levelDbm0: -18, pattern: [375, 375] },
    congestion: { hz: [400], levelDbm0: -18, pattern: [400, 350] },
    'call-ended': CALL_ENDED,
  },
};

/** A plan without some of its tones, for a head unit whose HMI or audio manager plays those itself. */
export function without(plan: TonePlan, tones: readonly LocalTone[]): TonePlan {
  return { ...plan, ...Object.fromEntries(tones.map((t) => [t, undefined])) };
}

/** What plays a tone's sound: PCM frame after frame, each valid until the next call. */
export interface SoundSource {
  next(count: number): Int16Array;
}

export function soundSource(sound: ToneSound): SoundSource {
  return 'pcm' in sound ? new LoopedSound(sound.pcm) : new ToneGenerator(sound);
}

/** A recording from its start, over and over, into one buffer of its own. */
export class LoopedSound implements SoundSource {
  private position = 0;
  private buffer = new Int16Array(160);

  constructor(private readonly pcm: Int16Array) {}

  next(count: number): Int16Array {
    if (this.buffer.length < count) {
      this.buffer = new Int16Array(count);
    }
    const out = this.buffer.subarray(0, count);
    if (this.pcm.length === 0) {
      return out.fill(0);
    }
    for (let i = 0; i < count; i++) {
      out[i] = this.pcm[(this.position + i) % this.pcm.length] ?? 0;
    }
    this.position = (this.position + count) % this.pcm.length;
    return out;
  }
}

/** 4 ms at 8 kHz. */
const RAMP_SAMPLES = 32;

/** dBm0 of a full-scale 16-bit sine (ITU-T G.711's digital milliwatt is 3.17 dB below it). */
const FULL_SCALE_DBM0 = 3.17;

/**
 * A cadenced tone as 16-bit PCM, frame after frame, phase-continuous across frames, from the start
 * of its pattern. Frames are written into one buffer of its own: valid until the next call.
 */
export class ToneGenerator implements SoundSource {
  private readonly amplitude: number;
  private readonly steps: number[];
  private readonly phases: number[];
  private readonly periodSamples: number;
  /** Where each "on" segment starts and ends in the period, in samples. */
  private readonly onSpans: [number, number][] = [];
  private position = 0;
  private buffer = new Int16Array(160);

  constructor(
    readonly cadence: Cadence,
    sampleRate = 8000,
  ) {
    this.amplitude = 32767 * 10 ** ((cadence.levelDbm0 - FULL_SCALE_DBM0) / 20);
    this.steps = cadence.hz.map((hz) => (2 * Math.PI * hz) / sampleRate);
    this.phases = cadence.hz.map(() => 0);
    let at = 0;
    cadence.pattern.forEach((ms, i) => {
      const samples = Math.round((ms * sampleRate) / 1000);
      if (i % 2 === 0) {
        this.onSpans.push([at, at + samples]);
      }
      at += samples;
    });
    this.periodSamples = Math.max(1, at);
  }

  next(count: number): Int16Array {
    if (this.buffer.length < count) {
      this.buffer = new Int16Array(count);
    }
    const out = this.buffer.subarray(0, count);
    for (let i = 0; i < count; i++) {
      const at = (this.position + i) % this.periodSamples;
      let sample = 0;
      const span = this.spanAt(at);
      if (span) {
        for (let f = 0; f < this.steps.length; f++) {
          sample += Math.sin(this.phases[f] ?? 0);
        }
        // Faded in and out over a few ms: a burst that starts at full level clicks.
        const edge = Math.min(at - span[0] + 1, span[1] - at, RAMP_SAMPLES) / RAMP_SAMPLES;
        sample *= this.amplitude * edge;
      }
      // Phases run on through the silences, so each burst starts where a steady tone would be.
      for (let f = 0; f < this.steps.length; f++) {
        this.phases[f] = ((this.phases[f] ?? 0) + (this.steps[f] ?? 0)) % (2 * Math.PI);
      }
      out[i] = Math.max(-32768, Math.min(32767, Math.round(sample)));
    }
    this.position = (this.position + count) % this.periodSamples;
    return out;
  }

  /** The "on" segment `at` falls in, if any: a loop, as this runs for every sample. */
  private spanAt(at: number): [number, number] | undefined {
    for (const span of this.onSpans) {
      if (at >= span[0] && at < span[1]) {
        return span;
      }
    }
    return undefined;
  }
}
