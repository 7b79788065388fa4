import { describe, expect, it } from 'vitest';
import {
  burstRatio,
  delayImpairment,
  G711_WITH_PLC,
  mosFromR,
  rFactor,
} from '../../../service/media/e-model.js';

describe('E-model (ITU-T G.107)', () => {
  it('gives the default R of 93.2 and MOS 4.41 for G.711 with no delay and no loss', () => {
    const r = rFactor({ oneWayDelayMs: 0, lossPct: 0, burstRatio: 1, codec: G711_WITH_PLC });
    expect(r).toBeCloseTo(93.2, 5);
    expect(mosFromR(r)).toBeCloseTo(4.41, 2);
  });

  it('charges no delay impairment up to 100 ms and about 24 points at 400 ms', () => {
    expect(delayImpairment(100)).toBe(0);
    expect(delayImpairment(150)).toBeCloseTo(0.16, 2);
    expect(delayImpairment(200)).toBeCloseTo(3.04, 2);
    expect(delayImpairment(400)).toBeCloseTo(24.07, 2);
  });

  it('charges packet loss through Bpl 25.1, more when it comes in bursts', () => {
    const at = (lossPct: number, burst: number): number =>
      rFactor({ oneWayDelayMs: 0, lossPct, burstRatio: burst, codec: G711_WITH_PLC });
    expect(at(1, 1)).toBeCloseTo(89.56, 2);
    expect(at(5, 1)).toBeCloseTo(77.42, 2);
    expect(at(5, 2)).toBeCloseTo(75.99, 2);
  });

  it('maps R to MOS on G.107 Annex B’s curve', () => {
    expect(mosFromR(80)).toBeCloseTo(4.02, 2);
    expect(mosFromR(70)).toBeCloseTo(3.6, 2);
    expect(mosFromR(-5)).toBe(1);
    expect(mosFromR(120)).toBe(4.5);
  });

  it('finds BurstR 1 for losses of one packet at a time and more for runs', () => {
    expect(burstRatio(10, 10, 1000)).toBe(1);
    expect(burstRatio(40, 10, 1000)).toBeCloseTo(4 * 0.96, 5);
    expect(burstRatio(0, 0, 1000)).toBe(1);
  });
});
