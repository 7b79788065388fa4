import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../service/core/clock.js';
import { silentLogger } from '../../../service/log/logger.js';
import { NmeaSource } from '../../../service/gnss/gnss-source.js';
import { parseNmea } from '../../../service/gnss/nmea.js';
import type { GnssFix } from '../../../service/gnss/nmea.js';

describe('NMEA sentences', () => {
  it('reads position, course and time from a valid RMC', () => {
    // The widely published RMC example: 48°07.038' N, 11°31.000' E, course 84.4°, 23 March 1994 12:35:19 UTC.
    const fix = parseNmea('$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A', 0);
    expect(fix?.latitude).toBeCloseTo(48.1173, 4);
    expect(fix?.longitude).toBeCloseTo(11.516667, 5);
    expect(fix?.course).toBe(84.4);
    expect(fix?.at).toBe(Date.UTC(1994, 2, 23, 12, 35, 19));
  });

  it('turns southern and western hemispheres negative', () => {
    const body = 'GNRMC,000000,A,3351.000,S,15112.000,W,0.0,,010125,,';
    let c = 0;
    for (const ch of body) {
      c ^= ch.charCodeAt(0);
    }
    const fix = parseNmea(`$${body}*${c.toString(16).toUpperCase().padStart(2, '0')}`, 0);
    expect(fix?.latitude).toBeCloseTo(-33.85, 5);
    expect(fix?.longitude).toBeCloseTo(-151.2, 5);
    expect(fix?.course).toBeUndefined();
  });

  it('ignores a receiver without a fix and other sentences, and rejects corrupted ones', () => {
    expect(
      parseNmea('$GPRMC,123519,V,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*7D', 0),
    ).toBeUndefined();
    expect(parseNmea('$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47', 0)).toBeUndefined();
    expect(() =>
      parseNmea('$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6B', 0),
    ).toThrow(/checksum/);
    expect(() => parseNmea('GPRMC,no dollar', 0)).toThrow(/not an NMEA sentence/);
  });

  it('an NMEA file source delivers the fixes and skips the broken lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carphone-nmea-'));
    const file = join(dir, 'drive.nmea');
    writeFileSync(
      file,
      [
        '$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A',
        'garbage',
        '$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*00',
        '',
      ].join('\r\n'),
    );
    const fixes: GnssFix[] = [];
    const source = new NmeaSource(file, new ManualClock(), silentLogger);
    source.start((f) => fixes.push(f));
    await new Promise((r) => setTimeout(r, 200));
    source.stop();
    expect(fixes).toHaveLength(1);
  });
});
