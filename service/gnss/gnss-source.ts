import { createReadStream } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { Clock, TimerHandle } from '../core/clock.js';
import { ConfigError, errorMessage } from '../core/errors.js';
import { endpoint } from '../config/endpoint.js';
import type { Logger } from '../log/logger.js';
import { parseNmea, type GnssFix } from './nmea.js';

/** Where positions come from: gpsd on the head unit, or an NMEA stream or file. */
export interface GnssSource {
  readonly description: string;
  start(onFix: (fix: GnssFix) => void): void;
  stop(): void;
}

/**
 * gpsd's JSON protocol: ?WATCH={"enable":true,"json":true}; then TPV reports (mode 2 or 3 = a fix).
 * gpsd going away is normal on a head unit (it restarts with the receiver): reconnect every 2 s.
 */
export class GpsdSource implements GnssSource {
  readonly description: string;
  private socket: Socket | undefined;
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.description = `gpsd:${host}:${port}`;
  }

  start(onFix: (fix: GnssFix) => void): void {
    if (this.stopped) {
      return;
    }
    const socket = connect(this.port, this.host, () => socket.write('?WATCH={"enable":true,"json":true};\n'));
    this.socket = socket;
    createInterface({ input: socket }).on('line', (line) => {
      let msg: { class?: string; mode?: number; lat?: number; lon?: number; track?: number; time?: string };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        return;
      }
      if (
        msg.class === 'TPV' &&
        (msg.mode ?? 0) >= 2 &&
        typeof msg.lat === 'number' &&
        typeof msg.lon === 'number'
      ) {
        const at = msg.time ? Date.parse(msg.time) : this.clock.now();
        onFix({
          latitude: msg.lat,
          longitude: msg.lon,
          ...(typeof msg.track === 'number' ? { course: msg.track } : {}),
          at: Number.isFinite(at) ? at : this.clock.now(),
        });
      }
    });
    socket.on('error', (e) =>
      this.logger.debug({ err: e.message, source: this.description }, 'gpsd connection'),
    );
    socket.on('close', () => {
      if (!this.stopped) {
        this.timer = this.clock.setTimeout(() => this.start(onFix), 2000);
      }
    });
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    this.socket?.destroy();
  }
}

/** NMEA sentences from a file, a FIFO or a serial device; bad sentences are logged and skipped. */
export class NmeaSource implements GnssSource {
  readonly description: string;
  private stream: ReturnType<typeof createReadStream> | undefined;

  constructor(
    private readonly path: string,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.description = `nmea:${path}`;
  }

  start(onFix: (fix: GnssFix) => void): void {
    this.stream = createReadStream(this.path, 'latin1');
    this.stream.on('error', (e) =>
      this.logger.error({ err: e.message, source: this.description }, 'NMEA source unavailable'),
    );
    createInterface({ input: this.stream }).on('line', (line) => {
      if (line.trim() === '') {
        return;
      }
      try {
        const fix = parseNmea(line, this.clock.now());
        if (fix) {
          onFix(fix);
        }
      } catch (e) {
        this.logger.debug({ err: errorMessage(e) }, 'NMEA sentence skipped');
      }
    });
  }

  stop(): void {
    this.stream?.destroy();
  }
}

export function parseGnssSource(spec: string, clock: Clock, logger: Logger): GnssSource {
  // gpsd, gpsd:PORT, gpsd:ADDRESS or gpsd:ADDRESS:PORT
  const gpsd = /^gpsd(?::([^:]*[^:\d][^:]*))?(?::([^:]*))?$/.exec(spec);
  if (gpsd) {
    const { address, port } = endpoint('gnss.source', spec, gpsd[1] ?? '127.0.0.1', gpsd[2] ?? '2947');
    return new GpsdSource(address, port, clock, logger);
  }
  if (spec.startsWith('nmea:') && spec.length > 5) {
    return new NmeaSource(spec.slice(5), clock, logger);
  }
  throw new ConfigError('gnss.source', `"${spec}" is not gpsd, gpsd:PORT, gpsd:ADDRESS[:PORT] or nmea:PATH`);
}
