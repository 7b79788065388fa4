import { codecNames } from '../sdp/offer-answer.js';
import type { ChildProcess } from 'node:child_process';
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { procUptimeMs, SleepDetector, SYSTEM_CHECK_INTERVAL_MS } from '../core/sleep-detector.js';
import { errorMessage } from '../core/errors.js';
import { lineFamily, type Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { openBus, claimName } from '../dbus/bus.js';
import { OfonoService } from '../dbus/ofono-service.js';
import { EchoEndpoint } from '../echo/echo-endpoint.js';
import type { AudioDevice } from '../media/devices/audio-device.js';
import { FileDevice, FileDeviceError } from '../media/devices/file-device.js';
import { NullDevice } from '../media/devices/null-device.js';
import { PulseDevice } from '../media/devices/pulse-device.js';
import { RtpMediaFactory } from '../media/rtp-session.js';
import { rtpSocketKind } from '../media/transport/rtp-socket.js';
import { frameClockKind } from '../media/clock/frame-clock.js';
import { OpusCodec } from '../media/codecs/opus-codec.js';
import { Line } from './line.js';
import { dirname, join } from 'node:path';
import { stateDirectory } from './state-directory.js';
import { SettingsStore } from './line-settings.js';
import { startWatchdog } from './systemd-watchdog.js';
import { takeReport } from '../sms/status-report.js';
import { numberMatch } from '../contacts/number-match.js';
import { CallHistory, entryFor, type NewEntry, type NewMessageEntry } from '../history/call-history.js';
import { UnfinishedCalls } from '../history/unfinished-calls.js';
import { WaitingTexts } from '../history/waiting-texts.js';
import { SmsParts } from '../history/sms-parts.js';
import { SmsTaken } from '../history/sms-taken.js';
import { CallHistoryInterface, entryDict } from '../dbus/callhistory-iface.js';
import { MessageHistoryInterface, messageEntryDict } from '../dbus/messagehistory-iface.js';
import { ContactsInterface } from '../dbus/contacts-iface.js';
import { parseVcards, type Contact } from '../contacts/vcard.js';
import { readFileSync } from 'node:fs';
import { prepareVehicle, VehicleService, type PreparedVehicle } from '../vehicle/vehicle-service.js';
import { VehicleInterface } from '../dbus/vehicle-iface.js';
import { ConfigError } from '../core/errors.js';
import dbus from 'dbus-next';
import { EcallService } from '../ecall/ecall-service.js';
import { TONE_PLANS, without, type LocalTone, type RecordedSound, type TonePlan } from '../media/tones.js';
import { readWav, WavFormatError, type PcmAudio } from '../media/wav.js';
import { parseGnssSource } from '../gnss/gnss-source.js';
import { EmergencyInterface } from '../dbus/emergency-iface.js';
import { stringVariant } from '../dbus/properties.js';
import type { OfonoInterface } from '../dbus/ofono-interface.js';

export const VERSION = '0.1.0';

function audioDevice(config: Config, logger: Logger): AudioDevice {
  const d = config.audio.device;
  switch (d.type) {
    case 'file':
      try {
        return new FileDevice(d.play, d.record);
      } catch (e) {
        // A file the configuration names: a configuration error, which restarting will not mend.
        throw e instanceof FileDeviceError ? new ConfigError(`audio.device.${e.part}`, e.message) : e;
      }
    case 'pulse':
      return new PulseDevice(
        {
          latencyMs: d.latencyMs,
          ...(d.sink ? { sink: d.sink } : {}),
          ...(d.source ? { source: d.source } : {}),
          ...(d.server ? { server: d.server } : {}),
        },
        logger.child({ part: 'audio' }),
      );
    case 'null':
      return new NullDevice();
  }
}

/**
 * Everything the configuration names that only reading it can check (the audio files, the CAN bindings
 * and DBC), read; a ConfigError naming the key where one cannot be used. Opens no socket and no bus.
 */
export function readConfiguredFiles(
  config: Config,
  logger: Logger,
): { device: AudioDevice; tones: TonePlan; vehicleSetup: PreparedVehicle | undefined } {
  return {
    device: audioDevice(config, logger),
    tones: tonePlan(config.audio.tones),
    vehicleSetup: prepareVehicleSection(config),
  };
}

/** What a configuration that passed every check sets up, one line each (carphoned --check-config). */
export function configurationSummary(config: Config): string[] {
  const eCallLine = config.ecall ? (config.ecall.account ?? config.accounts[0]?.id) : undefined;
  return [
    `D-Bus: ${config.dbus.name} on the ${config.dbus.bus} bus`,
    `audio: ${config.audio.device.type}, tones: ${config.audio.tones.plan}` +
      (typeof config.audio.tones.ringtone === 'string'
        ? `, ringtone ${config.audio.tones.ringtone}`
        : config.audio.tones.ringtone
          ? ', ringtone'
          : ', no ringtone'),
    ...config.accounts.map(
      (a) =>
        `line ${a.id}: sip:${a.user}@${a.domain} over ${a.transport}, ` +
        (a.registrar ? `registering with ${a.registrar}` : 'no registrar') +
        (a.id === eCallLine ? ', places eCalls' : ''),
    ),
    config.ecall ? `eCall: PSAP ${config.ecall.psap}, VIN ${config.ecall.vin}` : 'eCall: off',
    config.vehicle.can ? `vehicle: CAN from ${config.vehicle.can}` : 'vehicle: no CAN source',
  ];
}

export interface RunningDaemon {
  busAddress: string;
  lines: Line[];
  vehicle: VehicleService | undefined;
  stop(): Promise<void>;
}

/**
 * Starts carphoned: bus, echo test line, one Line per account, the oFono-shaped D-Bus objects; then
 * claims the bus name, which is the moment clients may start talking to it.
 */
export async function startDaemon(
  config: Config,
  logger: Logger,
  clock: Clock = systemClock,
): Promise<RunningDaemon> {
  // What the configuration names is read and checked first: a file it cannot use stops the start with
  // a ConfigError (exit 2) before any line registers or an eCall found on disk is set up again.
  const { device, tones, vehicleSetup } = readConfiguredFiles(config, logger);
  if (config.accounts.some((a) => codecNames(a.codecs).includes('OPUS'))) {
    logger.info({ build: OpusCodec.encoderBuild }, 'Opus encoder');
  }
  logger.info({ kind: rtpSocketKind(), clock: frameClockKind() }, 'RTP sockets');
  const { bus, address, privateDaemon } = await openBus(config.dbus.bus, logger);
  bus.on('error', (e: unknown) => logger.error({ err: errorMessage(e) }, 'D-Bus connection error'));
  // What has been started, undone last first by stop(), or at once when a later step of the start
  // fails: a daemon that exits must not leave its private dbus-daemon behind.
  const teardown: (() => unknown)[] = [() => killPrivate(privateDaemon), () => bus.disconnect()];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      for (const step of teardown.reverse()) {
        try {
          await step();
        } catch (e) {
          logger.warn({ err: errorMessage(e) }, 'while stopping');
        }
      }
    })();
    return stopping;
  };
  try {
    const service = new OfonoService(bus, logger, VERSION);
    let echo: EchoEndpoint | undefined;
    if (config.echoTest.enabled) {
      try {
        echo = await EchoEndpoint.start(config.echoTest.address, clock, logger);
      } catch (e) {
        // Not an address of this machine's: the configuration's fault.
        throw new ConfigError('echoTest.address', errorMessage(e));
      }
      teardown.push(() => echo?.close());
    }
    // An IPv6 line cannot reach an IPv4 echo line (RTP cannot cross families): it gets one on ::1,
    // where this machine has IPv6 loopback; where it has not, *43 on such a line fails as any call would.
    let echo6: EchoEndpoint | undefined;
    if (echo && config.accounts.some((a) => lineFamily(a) === 6)) {
      try {
        echo6 = await EchoEndpoint.start('::1', clock, logger);
        teardown.push(() => echo6?.close());
      } catch (e) {
        logger.warn({ err: errorMessage(e) }, 'no echo line on ::1 for the IPv6 lines');
      }
    }
    const settings = new SettingsStore(join(stateDirectory(), 'settings.json'), logger);
    const waitingTexts = new WaitingTexts(join(stateDirectory(), 'texts-waiting.json'), logger);
    const smsParts = new SmsParts(join(stateDirectory(), 'sms-parts.json'), logger);
    const smsTaken = new SmsTaken(join(stateDirectory(), 'sms-taken.json'), logger);
    teardown.push(() => settings.close());
    const lines = config.accounts.map((account) => {
      const echoLine = lineFamily(account) === 6 && echo6 ? echo6 : echo;
      return new Line(account, {
        clock,
        logger,
        settings,
        waitingTexts,
        smsParts,
        smsTaken,
        media: (addr) =>
          new RtpMediaFactory(addr, account.rtpPorts, device, logger.child({ line: account.id }), {
            rtcpIntervalMs: account.rtcpIntervalSeconds * 1000,
            keepAliveMs: account.rtpKeepAliveSeconds * 1000,
            tones,
            cname: `${account.user}@${addr}`,
            codecs: codecNames(account.codecs),
          }),
        ...(echoLine
          ? { echo: { number: config.echoTest.number, uri: echoLine.uri(config.echoTest.number) } }
          : {}),
      });
    });
    const historyPath = config.history.path ?? join(stateDirectory(), 'history.sqlite');
    const historyLogger = logger.child({ part: 'history' });
    const history = await CallHistory.open(historyPath, historyLogger);
    const historyIface = new CallHistoryInterface(history, logger);
    service.exportObject('/history', historyIface);
    const messageHistoryIface = new MessageHistoryInterface(history, config.messages.quickReplies, logger);
    service.exportObject('/history', messageHistoryIface);
    const recordText = (entry: NewMessageEntry): void => {
      const added = history.addMessage(entry);
      messageHistoryIface.EntryAdded(messageEntryDict(added));
      if (added.unread) {
        messageHistoryIface.unreadChanged();
      }
    };
    const unfinishedPath = join(dirname(historyPath), 'calls-in-progress.json');
    for (const entry of UnfinishedCalls.takeLeftover(unfinishedPath, historyLogger)) {
      historyLogger.warn(
        { number: entry.number, kind: entry.kind },
        'logging a call the last stop interrupted',
      );
      history.add(entry);
    }
    const unfinished = new UnfinishedCalls(unfinishedPath, clock, historyLogger);
    teardown.push(() => unfinished.close());
    // Logged, and told to clients (the HMI's recents), in one step.
    const record = (entry: NewEntry): void => {
      historyIface.EntryAdded(entryDict(history.add(entry)));
      if (entry.kind === 'missed') {
        historyIface.missedChanged();
      }
    };
    const sameNumber = numberMatch(config.contacts.country);
    for (const line of lines) {
      line.manager.events.on('added', (rec) => unfinished.track(line.id, rec));
      line.manager.events.on('changed', (rec, changed) => {
        if (changed.includes('State')) {
          unfinished.track(line.id, rec);
        }
      });
      line.manager.events.on('removed', (rec, reason) => {
        record(entryFor(line.id, rec, reason));
        unfinished.finish(line.id, rec);
      });
      line.events.on('text-received', (m) =>
        recordText({
          line: line.id,
          direction: 'incoming',
          number: m.lineIdentification,
          name: m.name,
          text: m.text,
          at: m.receivedAt,
          state: 'received',
          reason: '',
        }),
      );
      line.events.on('text-finished', (m) =>
        recordText({
          line: line.id,
          direction: 'outgoing',
          number: m.to,
          name: '',
          text: m.text,
          at: m.at,
          state: m.state,
          reason: m.reason,
          ...(m.reports ? { reports: m.reports } : {}),
        }),
      );
      line.events.on('text-status-report', (report) => {
        const entry = history.takeStatusReport(line.id, (awaited) => takeReport(awaited, report, sameNumber));
        if (entry) {
          messageHistoryIface.EntryChanged(messageEntryDict(entry));
        } else {
          historyLogger.info(
            { line: line.id, reference: report.reference, status: report.status },
            'SMS status report for no text that awaits one',
          );
        }
      });
      // Never shown as a call, but the driver should still see that someone tried to call.
      line.events.on('turned-away', (caller) =>
        record({
          line: line.id,
          kind: 'missed',
          number: caller.lineIdentification,
          name: caller.name,
          startedAt: caller.at,
          duration: 0,
          emergency: false,
          reason: caller.how,
          forwarded: caller.forwarding?.reason ?? '',
          forwardedFrom: caller.forwarding?.from ?? '',
        }),
      );
    }
    service.exportObject(
      '/contacts',
      new ContactsInterface(
        loadContacts(config, logger),
        history,
        config.contacts.vcard ?? '',
        sameNumber,
        logger,
      ),
    );
    const ecall = config.ecall ? createEcall(config, lines, clock, logger) : undefined;
    teardown.push(() => Promise.allSettled(lines.map((l) => l.powerOff())));
    for (const line of lines) {
      const extra: OfonoInterface[] = [];
      if (ecall && ecall.line === line) {
        const iface = new EmergencyInterface(ecall.service, () => clock.now(), logger);
        ecall.service.events.on('changed', () => {
          for (const [k, v] of Object.entries(iface.GetProperties())) {
            iface.PropertyChanged(k, v);
          }
        });
        extra.push(iface);
      }
      service.addLine(line, extra);
      line.restoreTexts();
      try {
        await line.powerOn();
      } catch (e) {
        // A line that cannot start (its SIP port taken, say) stays powered off; the others serve on.
        logger.error({ line: line.id, err: errorMessage(e) }, 'line failed to start');
      }
    }
    if (ecall) {
      teardown.push(() => ecall.service.stop());
      ecall.line.events.on('control', (id, xml, ref) => ecall.service.onControl(id, xml, ref));
      ecall.service.resume();
      if (config.gnss) {
        const gnss = parseGnssSource(config.gnss.source, clock, logger.child({ part: 'gnss' }));
        gnss.start((fix) => ecall.service.track.add(fix));
        teardown.push(() => gnss.stop());
        logger.info({ source: gnss.description }, 'GNSS source started');
      }
    }
    const vehicle = vehicleSetup
      ? await startVehicle(vehicleSetup, lines, clock, logger, service, ecall?.service)
      : undefined;
    teardown.push(() => vehicle?.stop());
    if (ecall && vehicle) {
      // A standing car's position message repeats one position and changes no state: the MSD asks.
      ecall.service.currentPosition = () => {
        const { latitude, longitude } = vehicle.input.state;
        return latitude !== undefined && longitude !== undefined ? { latitude, longitude } : undefined;
      };
    }
    teardown.push(watchSystem(clock, logger, lines));
    await claimName(bus, config.dbus.name);
    logger.info({ name: config.dbus.name, address }, 'on the bus');
    teardown.push(startWatchdog(process.env, process.pid, clock, logger));
    return { busAddress: address, lines, vehicle, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * Every few seconds: tells the lines when the system woke from suspend (core/sleep-detector.ts), and
 * lets a line bound to a network interface follow its address. Returns how to stop.
 */
function watchSystem(clock: Clock, logger: Logger, lines: readonly Line[]): () => void {
  let sleep: SleepDetector | undefined;
  if (procUptimeMs() === undefined) {
    logger.warn('no /proc/uptime: lines will not re-register at once after the system sleeps');
  } else {
    sleep = new SleepDetector(
      { monotonicMs: () => clock.monotonicMs(), bootTimeMs: () => procUptimeMs() ?? NaN },
      (sleptMs) => {
        logger.info({ sleptSeconds: Math.round(sleptMs / 1000) }, 'woke from suspend: registering afresh');
        lines.forEach((l) => l.wokeUp());
      },
    );
  }
  let timer: TimerHandle | undefined;
  let stopped = false;
  const check = async (): Promise<void> => {
    sleep?.check();
    for (const line of lines) {
      if (stopped) {
        return;
      }
      try {
        await line.followAddress();
      } catch (e) {
        logger.error({ line: line.id, err: errorMessage(e) }, 'line failed to follow its address');
      }
    }
    if (!stopped) {
      timer = clock.setTimeout(() => void check(), SYSTEM_CHECK_INTERVAL_MS);
    }
  };
  timer = clock.setTimeout(() => void check(), SYSTEM_CHECK_INTERVAL_MS);
  return () => {
    stopped = true;
    clock.clearTimeout(timer);
  };
}

/** The CAN side, when a source is configured: its events go out on org.carphone.Vehicle at /vehicle. */
/** The configured vCard file; a broken one is reported and the phone carries on without contacts. */
function loadContacts(config: Config, logger: Logger): Contact[] {
  const path = config.contacts.vcard;
  if (!path) {
    return [];
  }
  try {
    const contacts = parseVcards(readFileSync(path, 'utf8'));
    logger.info({ path, contacts: contacts.length }, 'contacts imported');
    return contacts;
  } catch (e) {
    logger.error({ path, err: errorMessage(e) }, 'contacts not imported');
    return [];
  }
}

/** The tones of the configured plan, less those left to the HMI, with the carmaker's ringtone if one is named. */
function tonePlan(tones: Config['audio']['tones']): TonePlan {
  const left: LocalTone[] = [
    ...(tones.ringtone === false ? ['ringtone' as const] : []),
    ...(tones.callEnded ? [] : ['call-ended' as const]),
  ];
  const plan = without(TONE_PLANS[tones.plan], left);
  return typeof tones.ringtone === 'string' ? { ...plan, ringtone: recordedRingtone(tones.ringtone) } : plan;
}

/** A ringtone file: 16-bit PCM WAV at the devices' 8 kHz, mono or stereo (played as its downmix). */
function recordedRingtone(path: string): RecordedSound {
  const key = 'audio.tones.ringtone';
  let audio: PcmAudio;
  try {
    audio = readWav(path);
  } catch (e) {
    throw new ConfigError(key, e instanceof WavFormatError ? e.message : `${path}: ${errorMessage(e)}`);
  }
  if (audio.sampleRate !== 8000) {
    throw new ConfigError(
      key,
      `${path}: is ${audio.sampleRate} Hz; a ringtone must be 8000 Hz (sox in.wav -r 8000 -b 16 out.wav)`,
    );
  }
  if (audio.samples.length === 0) {
    throw new ConfigError(key, `${path}: holds no audio`);
  }
  return { pcm: audio.samples };
}

function createEcall(
  config: Config,
  lines: Line[],
  clock: Clock,
  logger: Logger,
): { line: Line; service: EcallService } | undefined {
  const e = config.ecall;
  if (!e) {
    return undefined;
  }
  const line = e.account ? lines.find((l) => l.id === e.account) : lines[0];
  if (!line) {
    throw new Error('ecall.account names no line: the configuration schema lets no such file through');
  }
  const service = new EcallService(
    line,
    {
      psap: e.psap,
      ...(e.testPsap ? { testPsap: e.testPsap } : {}),
      identity: { vin: e.vin, vehicleType: e.vehicleType, propulsion: e.propulsion },
      callbackMs: e.callbackMinutes * 60_000,
      redialIntervalsMs: e.redialSeconds.map((s) => s * 1000),
      // An eCall in progress must survive a crash of the daemon, configured or not.
      statePath: e.statePath ?? join(stateDirectory(), 'ecall.json'),
      ...(e.fallbackPosition ? { fallbackPosition: e.fallbackPosition } : {}),
    },
    clock,
    logger.child({ part: 'ecall' }),
  );
  return { line, service };
}

/** The vehicle section read and checked (undefined without a CAN source). */
function prepareVehicleSection(config: Config): PreparedVehicle | undefined {
  const v = config.vehicle;
  if (!v.can) {
    return undefined;
  }
  return prepareVehicle({
    can: v.can,
    ...(v.bindings ? { bindings: v.bindings } : {}),
    ...(v.dbc ? { dbc: v.dbc } : {}),
  });
}

async function startVehicle(
  prepared: PreparedVehicle,
  lines: Line[],
  clock: Clock,
  logger: Logger,
  dbusService: OfonoService,
  ecall: EcallService | undefined,
): Promise<VehicleService> {
  const service = new VehicleService(prepared, lines, clock, logger);
  const model = { source: service.description, sourceError: '', state: service.input.state };
  const iface = new VehicleInterface(model, logger);
  dbusService.exportObject('/vehicle', iface);
  let last = { ...model.state };
  await service.start({
    button: (name, press) => iface.Button(name, press),
    emergency: (kind, details) => {
      logger.warn({ kind, details }, 'emergency trigger');
      void ecall?.trigger({ activation: kind, test: false, at: clock.now() });
      iface.EmergencyTrigger(kind, {
        Message: stringVariant(details.message),
        ConfirmedFrames: new dbus.Variant('u', details.frames),
        Signals: new dbus.Variant('a{sd}', details.signals),
      });
    },
    hmi: (request) => iface.HmiRequest(request),
    state: (s) => {
      model.state = s;
      if (ecall) {
        ecall.occupants = s.occupants;
        if (s.latitude !== undefined && s.longitude !== undefined) {
          ecall.track.add({ latitude: s.latitude, longitude: s.longitude, at: clock.now() });
        }
      }
      const names = {
        ignition: 'Ignition',
        speedKmh: 'Speed',
        occupants: 'Occupants',
        propulsion: 'Propulsion',
        latitude: 'Latitude',
        longitude: 'Longitude',
        crashSensing: 'CrashSensing',
      } as const;
      for (const [k, prop] of Object.entries(names) as [
        keyof typeof names,
        (typeof names)[keyof typeof names],
      ][]) {
        if (s[k] !== last[k] && s[k] !== undefined) {
          iface.emitChanged(prop, s[k]);
        }
      }
      last = { ...s };
    },
    sourceError: (message) => {
      model.sourceError = message;
      iface.emitChanged('SourceError', message);
    },
  });
  return service;
}

function killPrivate(child: ChildProcess | undefined): void {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
  }
}
