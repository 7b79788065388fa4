import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../../log/logger.js';
import type { AudioDevice, AudioSink, AudioSource, CallAudio } from './audio-device.js';

/**
 * The head unit's real audio: PulseAudio, or PipeWire through its PulseAudio server (pipewire-pulse),
 * by way of pacat and parec from pulseaudio-utils. Each call gets a playback stream into the sink and
 * a record stream from the source, both 8 kHz mono 16-bit with a short latency, and both named so
 * that the audio server's policy (routing, echo cancellation, ducking) can pick them out.
 *
 * Echo cancellation belongs to the audio server: point `source` at module-echo-cancel's source (or
 * PipeWire's echo-cancel node), and `sink` at its sink; docs/media.md shows the setup.
 */
export interface PulseOptions {
  sink?: string;
  source?: string;
  /** PULSE_SERVER, e.g. unix:/run/user/1000/pulse/native; the default server when absent. */
  server?: string;
  latencyMs: number;
}

const RATE = 8000;
/** At most this much captured audio waits to be sent; older audio is dropped to keep delay low. */
const MAX_BUFFERED = RATE / 5;
/** A stream that ended is opened again after this long, doubling up to RESTART_MAX_MS while it keeps ending. */
const RESTART_MIN_MS = 200;
const RESTART_MAX_MS = 3200;
/** A stream that ran this long before it ended is treated as new: the next restart is quick again. */
const RESTART_SETTLED_MS = 5000;

export class PulseDevice implements AudioDevice {
  readonly kind = 'pulse';

  constructor(
    private readonly o: PulseOptions,
    private readonly logger: Logger,
  ) {}

  private spawnTool(tool: 'pacat' | 'parec', device: string | undefined, callTag: string): ChildProcess {
    const args = [
      '--raw',
      '--format=s16le',
      `--rate=${RATE}`,
      '--channels=1',
      `--latency-msec=${this.o.latencyMs}`,
      `--client-name=carphone`,
      `--stream-name=call ${callTag}`,
      '--property=media.role=phone',
      ...(device ? [`--device=${device}`] : []),
    ];
    const child = spawn(tool, args, {
      stdio: [tool === 'pacat' ? 'pipe' : 'ignore', tool === 'parec' ? 'pipe' : 'ignore', 'pipe'],
      env: { ...process.env, ...(this.o.server ? { PULSE_SERVER: this.o.server } : {}) },
    });
    child.on('error', (e) => this.logger.error({ err: e.message, tool }, 'audio tool failed to start'));
    child.stderr?.on('data', (d: Buffer) =>
      this.logger.warn({ tool, msg: d.toString().trim() }, 'audio server'),
    );
    return child;
  }

  openCall(callTag: string): CallAudio {
    let closed = false;
    let captured = Buffer.alloc(0);
    const onCaptured = (d: Buffer): void => {
      captured = Buffer.concat([captured, d]);
      if (captured.length > MAX_BUFFERED * 2) {
        captured = captured.subarray(captured.length - MAX_BUFFERED * 2);
      }
    };
    const rec = this.supervise(
      'parec',
      this.o.source,
      callTag,
      () => closed,
      (c) => c.stdout?.on('data', onCaptured),
    );
    const play = this.supervise(
      'pacat',
      this.o.sink,
      callTag,
      () => closed,
      () => undefined,
    );
    let out = new Int16Array(0);
    const source: AudioSource = {
      read(count) {
        if (out.length !== count) {
          out = new Int16Array(count);
        }
        const available = Math.min(count, Math.floor(captured.length / 2));
        for (let i = 0; i < available; i++) {
          out[i] = captured.readInt16LE(2 * i);
        }
        out.fill(0, available);
        captured = captured.subarray(available * 2);
        return out;
      },
    };
    const sink: AudioSink = {
      write(pcm) {
        const stdin = play.current.stdin;
        if (!closed && stdin?.writable) {
          stdin.write(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
        }
      },
      close() {
        if (closed) {
          return;
        }
        closed = true;
        play.current.stdin?.end();
        rec.current.kill('SIGTERM');
        const player = play.current;
        setTimeout(() => player.kill('SIGTERM'), 500).unref();
      },
    };
    return { source, sink };
  }

  /**
   * A pacat or parec for the length of a call: started again when it ends before the call does, as
   * it does when the audio server restarts (PipeWire's pulse server, or PulseAudio, after a crash or
   * an update), so that the call's audio comes back instead of staying silent to its end. Quickly at
   * first, then backing off to RESTART_MAX_MS while the server stays away.
   */
  private supervise(
    tool: 'pacat' | 'parec',
    device: string | undefined,
    callTag: string,
    callEnded: () => boolean,
    attach: (child: ChildProcess) => void,
  ): { current: ChildProcess } {
    const stream = { current: this.spawnTool(tool, device, callTag) };
    let delayMs = RESTART_MIN_MS;
    const watch = (child: ChildProcess): void => {
      attach(child);
      // A write after the tool ended fails with EPIPE: that frame is lost, the restart below mends it.
      child.stdin?.on('error', () => undefined);
      const startedAt = performance.now();
      let ended = false;
      const onEnd = (why: string): void => {
        if (ended || callEnded()) {
          return;
        }
        ended = true;
        if (performance.now() - startedAt > RESTART_SETTLED_MS) {
          delayMs = RESTART_MIN_MS;
        }
        this.logger.warn(
          { tool, why, retryMs: delayMs },
          'audio stream ended during the call; opening it again',
        );
        setTimeout(() => {
          if (!callEnded()) {
            stream.current = this.spawnTool(tool, device, callTag);
            watch(stream.current);
          }
        }, delayMs).unref();
        delayMs = Math.min(delayMs * 2, RESTART_MAX_MS);
      };
      child.on('exit', (code, signal) => onEnd(signal ?? `exit ${code ?? '?'}`));
      child.on('error', (e) => onEnd(e.message));
    };
    watch(stream.current);
    return stream;
  }
}
