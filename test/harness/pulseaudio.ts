import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Child, waitFor } from './process.js';

/**
 * A private PulseAudio server with two null sinks standing in for the cabin: "cabin_speaker" (what the
 * car plays; its .monitor is what a microphone next to the speaker would hear) and "cabin_mic" (what
 * the test speaks; carphone records its .monitor as the microphone).
 *
 * With `echoingCabin`, the speaker is also heard by the microphone (a loopback from the speaker's
 * monitor into cabin_mic, 20 ms of acoustic path), and PulseAudio's WebRTC echo canceller is loaded as
 * docs/media.md tells integrators to: the source "phone_mic" is the microphone with the speaker's echo
 * removed, the sink "phone_speaker" is the speaker as the canceller sees it.
 */
export class PrivatePulse {
  private constructor(
    readonly server: string,
    private readonly child: Child,
  ) {}

  static async start(options: { echoingCabin?: boolean } = {}): Promise<PrivatePulse> {
    const dir = mkdtempSync(join(tmpdir(), 'carphone-pulse-'));
    const socket = join(dir, 'native');
    writeFileSync(
      join(dir, 'default.pa'),
      [
        `load-module module-native-protocol-unix socket=${socket} auth-anonymous=1`,
        'load-module module-null-sink sink_name=cabin_speaker',
        'load-module module-null-sink sink_name=cabin_mic',
        ...(options.echoingCabin
          ? [
              // Pinned: PulseAudio would otherwise move the loopback onto the canceller's own source.
              'load-module module-loopback source=cabin_speaker.monitor sink=cabin_mic latency_msec=20 source_dont_move=true sink_dont_move=true',
              'load-module module-echo-cancel aec_method=webrtc source_master=cabin_mic.monitor sink_master=cabin_speaker source_name=phone_mic sink_name=phone_speaker',
            ]
          : []),
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
