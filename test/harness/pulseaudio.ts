import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Child, waitFor } from './process.js';

/**
 * A private PulseAudio server with two null sinks standing in for the cabin: "cabin_speaker" (what the
 * car plays; its .monitor is what a microphone next to the speaker would hear) and "cabin_mic" (what
 * the test speaks; carphone records its .monitor as the microphone).
 */
export class PrivatePulse {
  private constructor(
    readonly server: string,
    private readonly child: Child,
  ) {}

  static async start(): Promise<PrivatePulse> {
    const dir = mkdtempSync(join(tmpdir(), 'carphone-pulse-'));
    const socket = join(dir, 'native');
    writeFileSync(
      join(dir, 'default.pa'),
      [
        `load-module module-native-protocol-unix socket=${socket} auth-anonymous=1`,
        'load-module module-null-sink sink_name=cabin_speaker',
        'load-module module-null-sink sink_name=cabin_mic',
        '',
      ].join('\n'),
    );
    const child = new Child(
      'pulseaudio',
      'pulseaudio',
      [
        '-n',
        '-F',
        join(dir, 'default.pa'),
        '--daemonize=no',
        '--exit-idle-time=-1',
        '--use-pid-file=no',
        '--disable-shm=yes',
      ],
      { env: { ...process.env, HOME: dir, XDG_RUNTIME_DIR: dir } },
    );
    await waitFor('pulseaudio socket', () => existsSync(socket), 10_000);
    return new PrivatePulse(`unix:${socket}`, child);
  }

  /** Plays a WAV into a sink with paplay; resolves when it has finished. */
  play(wav: string, sink: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const p = spawn('paplay', [`--device=${sink}`, wav], {
        env: { ...process.env, PULSE_SERVER: this.server },
      });
      p.on('error', reject);
      p.on('exit', () => resolve());
    });
  }

  /** Records a source to a WAV until stop() is called. */
  record(source: string, wav: string): { stop(): Promise<void> } {
    const p = spawn(
      'parecord',
      [`--device=${source}`, '--rate=8000', '--channels=1', '--format=s16le', wav],
      {
        env: { ...process.env, PULSE_SERVER: this.server },
      },
    );
    return {
      stop: () =>
        new Promise<void>((resolve) => {
          p.on('exit', () => resolve());
          p.kill('SIGINT');
        }),
    };
  }

  async stop(): Promise<void> {
    await this.child.stop();
  }
}
