/**
 * The E-model of ITU-T G.107 (06/2015), reduced to the impairments a VoIP call can measure: delay
 * (Idd), equipment and packet loss (Ie,eff). Everything else takes G.107's default values, which give
 * Ro - Is = 93.2. Talker echo (Idte) is left out: echo cancellation is the audio server's job on a head
 * unit, and with the default TELR of 65 dB it stays small at the delays of a working call.
 */
export interface CodecImpairment {
  /** Equipment impairment factor Ie (G.113 Appendix I). */
  ie: number;
  /** Packet-loss robustness factor Bpl. */
  bpl: number;
}

/** G.711 with packet loss concealment (G.113 Appendix I): Ie 0, Bpl 25.1. */
export const G711_WITH_PLC: CodecImpairment = { ie: 0, bpl: 25.1 };

export const R_DEFAULT = 93.2;

export interface EModelInput {
  /** Mouth-to-ear delay Ta in ms. */
  oneWayDelayMs: number;
  /** Packet loss probability Ppl in percent (late losses included). */
  lossPct: number;
  /** BurstR: 1 for random loss, above 1 for bursty loss. */
  burstRatio: number;
  codec: CodecImpairment;
}

/** Delay impairment Idd (G.107 §7.4, mT = 100 ms, sT = 1). */
export function delayImpairment(ta: number): number {
  if (ta <= 100) {
    return 0;
  }
  const x = Math.log2(ta / 100);
  return 25 * ((1 + x ** 6) ** (1 / 6) - 3 * (1 + (x / 3) ** 6) ** (1 / 6) + 2);
}

/** Effective equipment impairment Ie,eff (G.107 §7.5). */
export function lossImpairment(lossPct: number, burstRatio: number, codec: CodecImpairment): number {
  const ppl = Math.max(0, Math.min(100, lossPct));
  const burst = Math.max(1, burstRatio);
  return codec.ie + ((95 - codec.ie) * ppl) / (ppl / burst + codec.bpl);
}

export function rFactor(i: EModelInput): number {
  return R_DEFAULT - delayImpairment(i.oneWayDelayMs) - lossImpairment(i.lossPct, i.burstRatio, i.codec);
}

/** MOS-CQE from R (G.107 Annex B). */
export function mosFromR(r: number): number {
  if (r <= 0) {
    return 1;
  }
  if (r >= 100) {
    return 4.5;
  }
  return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
}

/**
 * BurstR from what a receiver sees: the mean length of its loss runs over the mean that random loss of
 * the same rate gives (1 / (1 - p)).
 */
export function burstRatio(lost: number, lossRuns: number, expected: number): number {
  if (lost <= 0 || lossRuns <= 0 || expected <= 0) {
    return 1;
  }
  const p = Math.min(0.99, lost / expected);
  return Math.max(1, (lost / lossRuns) * (1 - p));
}
