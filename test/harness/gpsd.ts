import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { Child } from './process.js';

function checksum(body: string): string {
  let c = 0;
  for (const ch of body) {
    c ^= ch.charCodeAt(0);
  }
  return c.toString(16).toUpperCase().padStart(2, '0');
}

/** An NMEA drive north-east at 45°, starting at 48°08.232' N 11°34.536' E, one fix per line pair. */
export function nmeaDrive(fixes: number): string {
  const out: string[] = [];
  for (let i = 0; i < fixes; i++) {
    const lat = (4808.232 + i * 0.01).toFixed(4).padStart(9, '0');
    const lon = (1134.536 + i * 0.01).toFixed(4).padStart(10, '0');
    const t = `1200${String(i % 60).padStart(2, '0')}.00`;
    const rmc = `GPRMC,${t},A,${lat},N,${lon},E,30.5,45.0,241126,,,A`;
    const gga = `GPGGA,${t},${lat},N,${lon},E,1,08,0.9,520.0,M,47.0,M,,`;
    out.push(`$${rmc}*${checksum(rmc)}`, `$${gga}*${checksum(gga)}`);
  }
  return `${out.join('\r\n')}\r\n`;
}

/** Debian's gpsd, fed by gpsfake from an NMEA log, on a port of its own. */
export class Gpsd {
  private constructor(
    readonly port: number,
    private readonly child: Child,
  ) {}

  static async start(nmea: string): Promise<Gpsd> {
    const dir = mkdtempSync(join(tmpdir(), 'carphone-gpsd-'));
    const file = join(dir, 'drive.nmea');
    writeFileSync(file, nmea);
    const port = await freePort();
    const child = new Child('gpsfake', 'gpsfake', ['-q', '-P', String(port), '-c', '0.05', file], {
      cwd: dir,
    });
    await new Promise((r) => setTimeout(r, 1500));
    if (child.exited) {
      throw new Error(`gpsfake failed:\n${child.tail()}`);
    }
    return new Gpsd(port, child);
  }

  async stop(): Promise<void> {
    await this.child.stop();
  }
}
