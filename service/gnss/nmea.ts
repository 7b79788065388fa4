/**
 * NMEA 0183 sentences a GNSS receiver writes, as far as an eCall needs them: RMC (position, course,
 * validity) and GGA (fix quality). Sentences with a wrong checksum are rejected.
 */
export interface GnssFix {
  latitude: number;
  longitude: number;
  /** Course over ground in degrees from true north, when moving. */
  course?: number;
  /** Milliseconds since the epoch (the receiver's time when it gives a date, else reception time). */
  at: number;
}

export class NmeaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NmeaError';
  }
}

function checksum(body: string): string {
  let c = 0;
  for (let i = 0; i < body.length; i++) {
    c ^= body.charCodeAt(i);
  }
  return c.toString(16).toUpperCase().padStart(2, '0');
}

function coordinate(value: string, hemisphere: string, degreeDigits: number): number {
  if (!/^\d+(\.\d+)?$/.test(value)) {
    throw new NmeaError(`bad coordinate ${value}`);
  }
  const degrees = Number(value.slice(0, degreeDigits));
  const minutes = Number(value.slice(degreeDigits));
  if (minutes >= 60) {
    throw new NmeaError(`bad minutes in ${value}`);
  }
  const v = degrees + minutes / 60;
  return hemisphere === 'S' || hemisphere === 'W' ? -v : v;
}

/**
 * Parses one sentence. Returns a fix for a valid RMC, undefined for sentences without a usable fix
 * (other types, RMC with status V, GGA), and throws NmeaError for malformed or corrupted ones.
 */
export function parseNmea(line: string, receivedAt: number): GnssFix | undefined {
  const m = /^\$([A-Z0-9,.*\-+ ]*?)\*([0-9A-Fa-f]{2})\s*$/.exec(line.trim());
  if (!m) {
    throw new NmeaError(`not an NMEA sentence: ${line.slice(0, 40)}`);
  }
  const [, body = '', sum = ''] = m;
  if (checksum(body) !== sum.toUpperCase()) {
    throw new NmeaError(`checksum mismatch in ${line.slice(0, 40)}`);
  }
  const f = body.split(',');
  const type = (f[0] ?? '').slice(2);
  if (type !== 'RMC') {
    return undefined;
  }
  if (f[2] !== 'A') {
    return undefined; // V: the receiver has no valid fix
  }
  const latitude = coordinate(f[3] ?? '', f[4] ?? '', 2);
  const longitude = coordinate(f[5] ?? '', f[6] ?? '', 3);
  if (Math.abs(latitude) > 90 || Math.abs(longitude) > 180) {
    throw new NmeaError('position off the globe');
  }
  const course = f[8] !== undefined && f[8] !== '' ? Number(f[8]) : undefined;
  const time = f[1] ?? '';
  const date = f[9] ?? '';
  let at = receivedAt;
  if (/^\d{6}/.test(time) && /^\d{6}$/.test(date)) {
    // RMC has a two-digit year; receivers' firmware pivots it, here at 1980.
    const yy = Number(date.slice(4, 6));
    at = Date.UTC(
      yy < 80 ? 2000 + yy : 1900 + yy,
      Number(date.slice(2, 4)) - 1,
      Number(date.slice(0, 2)),
      Number(time.slice(0, 2)),
      Number(time.slice(2, 4)),
      Number(time.slice(4, 6)),
    );
  }
  return { latitude, longitude, ...(course !== undefined && Number.isFinite(course) ? { course } : {}), at };
}
