import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrivateBus } from './dbus-daemon.js';
import { Child, waitFor } from './process.js';

/** A private audio server that speaks PulseAudio's protocol, and how tests play into and record from it. */
export abstract class PulseServer {
  constructor(readonly server: string) {}

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
          // parecord may have ended already (killed from outside, say): its exit event is gone by then.
          if (p.exitCode !== null || p.signalCode !== null) {
            resolve();
            return;
          }
          p.on('exit', () => resolve());
          p.kill('SIGINT');
        }),
    };
  }

  abstract stop(): Promise<void>;

  /**
   * Stops the server that clients connect to and starts it again on the same socket, as a crash and
   * restart of the audio server would: every client's streams end with it.
   */
  abstract restart(): Promise<void>;
}

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
export class PrivatePulse extends PulseServer {
  private constructor(
    server: string,
    private child: Child,
    private readonly launch: () => Child,
    private readonly socket: string,
  ) {
    super(server);
  }

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
    const launch = (): Child =>
      new Child(
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
    const child = launch();
    await waitFor('pulseaudio socket', () => existsSync(socket), 10_000);
    return new PrivatePulse(`unix:${socket}`, child, launch, socket);
  }

  async restart(): Promise<void> {
    await this.child.stop('SIGKILL');
    rmSync(this.socket, { force: true });
    this.child = this.launch();
    await waitFor('pulseaudio socket', () => existsSync(this.socket), 10_000);
  }

  async stop(): Promise<void> {
    await this.child.stop();
  }
}

/**
 * The same cabin (null sinks "cabin_speaker" and "cabin_mic") on a private PipeWire: pipewire itself,
 * WirePlumber as its session manager (which links streams to the devices they ask for), and
 * pipewire-pulse, the PulseAudio server head units with PipeWire give clients like carphone. WirePlumber
 * needs a D-Bus session bus: a private one.
 *
 * With `echoingCabin`, as for PulseAudio: a loopback from the speaker into the microphone (20 ms), and
 * PipeWire's echo-cancel module (WebRTC) as docs/media.md shows it, giving phone_mic and phone_speaker.
 * The "microphone" here is a sink, so its streams capture the sink's monitor (stream.capture.sink).
 */
export class PrivatePipeWire extends PulseServer {
  private constructor(
    server: string,
    private readonly children: Child[],
    private readonly bus: PrivateBus,
    private readonly env: NodeJS.ProcessEnv,
    private readonly socket: string,
  ) {
    super(server);
  }

  static async start(options: { echoingCabin?: boolean } = {}): Promise<PrivatePipeWire> {
    const dir = mkdtempSync(join(tmpdir(), 'carphone-pipewire-'));
    const runtime = join(dir, 'run');
    const confDir = join(dir, 'config', 'pipewire', 'pipewire.conf.d');
    mkdirSync(runtime, { mode: 0o700 });
    mkdirSync(confDir, { recursive: true });
    const nullSink = (name: string): string =>
      `  { factory = adapter args = { factory.name = support.null-audio-sink node.name = ${name} media.class = Audio/Sink audio.position = [ MONO ] } }`;
    const echoingCabin = [
      'context.modules = [',
      '  { name = libpipewire-module-loopback args = { target.delay.sec = 0.02',
      '      capture.props = { node.name = cabin_air_in target.object = cabin_speaker stream.capture.sink = true node.passive = true audio.position = [ MONO ] }',
      '      playback.props = { node.name = cabin_air_out target.object = cabin_mic audio.position = [ MONO ] } } }',
      '  { name = libpipewire-module-echo-cancel args = { library.name = aec/libspa-aec-webrtc',
      '      capture.props = { node.name = phone_capture target.object = cabin_mic stream.capture.sink = true }',
      '      source.props = { node.name = phone_mic }',
      '      sink.props = { node.name = phone_speaker }',
      '      playback.props = { node.name = phone_playback target.object = cabin_speaker } } }',
      ']',
    ];
    writeFileSync(
      join(confDir, 'cabin.conf'),
      [
        'context.objects = [',
        nullSink('cabin_speaker'),
        nullSink('cabin_mic'),
        ']',
        ...(options.echoingCabin ? echoingCabin : []),
        '',
      ].join('\n'),
    );
    const bus = await PrivateBus.start();
    const env = {
      ...process.env,
      HOME: dir,
      XDG_RUNTIME_DIR: runtime,
      XDG_CONFIG_HOME: join(dir, 'config'),
      DBUS_SESSION_BUS_ADDRESS: bus.address,
    };
    const children: Child[] = [];
    const socket = join(runtime, 'pulse', 'native');
    try {
      children.push(new Child('pipewire', 'pipewire', [], { env }));
      await waitFor('pipewire socket', () => existsSync(join(runtime, 'pipewire-0')), 10_000);
      children.push(new Child('wireplumber', 'wireplumber', [], { env }));
      children.push(new Child('pipewire-pulse', 'pipewire-pulse', [], { env }));
      await waitFor('pipewire-pulse socket', () => existsSync(socket), 10_000);
      const server = new PrivatePipeWire(`unix:${socket}`, children, bus, env, socket);
      // The sinks are there once WirePlumber has made them available to pulse clients.
      const sinks = ['cabin_speaker', 'cabin_mic', ...(options.echoingCabin ? ['phone_speaker'] : [])];
      await waitFor('the cabin sinks', () => server.hasSinks(sinks), 10_000);
      return server;
    } catch (e) {
      await Promise.allSettled([...children.map((c) => c.stop()), bus.stop()]);
      throw e;
    }
  }

  /** Restarts pipewire-pulse, the server carphone's pacat and parec talk to; PipeWire itself runs on. */
  async restart(): Promise<void> {
    const index = this.children.findIndex((c) => c.name === 'pipewire-pulse');
    await this.children[index]?.stop('SIGKILL');
    rmSync(this.socket, { force: true });
    this.children[index] = new Child('pipewire-pulse', 'pipewire-pulse', [], { env: this.env });
    await waitFor('pipewire-pulse socket', () => existsSync(this.socket), 10_000);
    await waitFor('the cabin sinks', () => this.hasSinks(['cabin_speaker', 'cabin_mic']), 10_000);
  }

  private hasSinks(names: string[]): Promise<boolean> {
    return new Promise((resolve) => {
      execFile(
        'pactl',
        ['list', 'short', 'sinks'],
        { env: { ...process.env, PULSE_SERVER: this.server } },
        (err, out) => resolve(!err && names.every((n) => out.includes(n))),
      );
    });
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.children.reverse().map((c) => c.stop()), this.bus.stop()]);
  }
}
