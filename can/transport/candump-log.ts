import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { CAN_EFF_MASK, CAN_ERR_FLAG, CanFrameError, validateFrame, type CanFrame } from '../frame.js';
import { CanTransportError, type CanTransport } from './transport.js';

/**
 * can-utils' `candump -l` log lines: `(SECONDS.MICROS) IFACE ID#DATA`, `ID#R` for remote frames,
 * `ID##<flags><data>` for CAN FD. Returns undefined for error frames (CAN_ERR_FLAG ids), which carry
 * controller state, not data.
 */
export function parseCandumpLine(line: string): { iface: string; frame: CanFrame } | undefined {
  const m =
    /^\((\d+)\.(\d{1,9})\)\s+(\S+)\s+([0-9A-Fa-f]{3}|[0-9A-Fa-f]{8})#(#[0-9A-Fa-f])?(R\d*|[0-9A-Fa-f]*)(?:_[0-9A-Fa-f])?\s*$/.exec(
      line.trim(),
    );
  if (!m) {
    throw new CanFrameError(`not a candump log line: ${line.slice(0, 60)}`);
  }
  const [, sec = '0', frac = '0', iface = '', idHex = '', fdFlags, payload = ''] = m;
  const rawId = parseInt(idHex, 16);
  if (idHex.length === 8 && rawId & CAN_ERR_FLAG) {
    return undefined;
  }
  const rtr = payload.startsWith('R');
  if (!rtr && payload.length % 2 !== 0) {
    throw new CanFrameError(`odd number of hex digits in ${line.slice(0, 60)}`);
  }
  const frame: CanFrame = {
    id: rawId & CAN_EFF_MASK,
    extended: idHex.length === 8,
    rtr,
    fd: fdFlags !== undefined,
    data: rtr ? new Uint8Array(0) : Uint8Array.from(Buffer.from(payload, 'hex')),
    timestampMs: Number(sec) * 1000 + Number(frac.padEnd(6, '0').slice(0, 6)) / 1000,
  };
  validateFrame(frame);
  return { iface, frame };
}

export interface ReplayOptions {
  /** Wait between frames as the log's timestamps say (default), or deliver as fast as possible. */
  paced: boolean;
  /** Called when the whole log has been delivered. */
  onEnd?: (stats: { frames: number; skipped: number }) => void;
}

/** Replays a candump log file as if it were a live bus. Bad lines are reported and skipped. */
export class ReplayTransport implements CanTransport {
  readonly description: string;
  private stopped = false;

  constructor(
    private readonly path: string,
    private readonly options: ReplayOptions = { paced: true },
  ) {
    this.description = `replay:${path}`;
  }

  async start(onFrame: (frame: CanFrame) => void, onError: (e: Error) => void): Promise<void> {
    try {
      await access(this.path);
    } catch {
      throw new CanTransportError(this.description, 'log file not found or not readable');
    }
    void this.run(onFrame, onError);
  }

  private async run(onFrame: (frame: CanFrame) => void, onError: (e: Error) => void): Promise<void> {
    const lines = createInterface({ input: createReadStream(this.path, 'latin1'), crlfDelay: Infinity });
    let first: { log: number; wall: number } | undefined;
    let frames = 0;
    let skipped = 0;
    let n = 0;
    for await (const line of lines) {
      n++;
      if (this.stopped) {
        break;
      }
      if (line.trim() === '') {
        continue;
      }
      let parsed: ReturnType<typeof parseCandumpLine>;
      try {
        parsed = parseCandumpLine(line);
      } catch (e) {
        skipped++;
        onError(new CanTransportError(this.description, `line ${n}: ${(e as Error).message}`));
        continue;
      }
      if (!parsed) {
        continue;
      }
      if (this.options.paced) {
        first ??= { log: parsed.frame.timestampMs, wall: performance.now() };
        const due = first.wall + (parsed.frame.timestampMs - first.log);
        const wait = due - performance.now();
        if (wait > 1) {
          await new Promise((r) => setTimeout(r, wait));
        }
      }
      frames++;
      onFrame(parsed.frame);
    }
    this.options.onEnd?.({ frames, skipped });
  }

  stop(): Promise<void> {
    this.stopped = true;
    return Promise.resolve();
  }
}
