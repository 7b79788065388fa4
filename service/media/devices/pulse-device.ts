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
    const rec = this.spawnTool('parec', this.o.source, callTag);
    const play = this.spawnTool('pacat', this.o.sink, callTag);
    let captured = Buffer.alloc(0);
    rec.stdout?.on('data', (d: Buffer) => {
      captured = Buffer.concat([captured, d]);
      if (captured.length > MAX_BUFFERED * 2) {
        captured = captured.subarray(captured.length - MAX_BUFFERED * 2);
      }
    });
    const source: AudioSource = {
      read(count) {
        const out = new Int16Array(count);
        const available = Math.min(count, Math.floor(captured.length / 2));
        for (let i = 0; i < available; i++) {
          out[i] = captured.readInt16LE(2 * i);
        }
        captured = captured.subarray(available * 2);
        return out;
      },
    };
    let closed = false;
    const sink: AudioSink = {
      write(pcm) {
        if (!closed && play.stdin?.writable) {
          play.stdin.write(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
        }
      },
      close() {
        if (closed) {
          return;
        }
        closed = true;
        play.stdin?.end();
        rec.kill('SIGTERM');
        setTimeout(() => play.kill('SIGTERM'), 500).unref();
      },
    };
    return { source, sink };
  }
}
