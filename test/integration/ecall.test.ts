import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCannelloni } from '../../can/transport/cannelloni.js';
import type { CanFrame } from '../../can/frame.js';
import type { OfonoClient, SignalRecord } from '../../service/client/ofono-client.js';
import { toMilliarcseconds } from '../../service/ecall/msd/msd.js';
import { PsapSimulator, type PsapCall } from '../../service/psap/psap-simulator.js';
import { loadBindings } from '../../service/vehicle/bindings-load.js';
import { Carphoned, REPO } from '../harness/carphoned.js';
import { PrivateBus } from '../harness/dbus-daemon.js';
import { freePort } from '../harness/ports.js';
import { waitFor } from '../harness/process.js';
import { frameFor } from '../unit/vehicle/frames.js';
import { Gpsd, nmeaDrive } from '../harness/gpsd.js';
import { writeCandumpLog } from '../harness/candump.js';

const reference = loadBindings(join(REPO, 'can/bindings/carphone-reference.yaml'));
const VIN = 'WVWZZZ1KZAW123456';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function ecallConfig(bus: string, psap: string, extra: object = {}): object {
  return {
    dbus: { bus },
    log: { level: 'debug' },
    accounts: [{ id: 'sip0', user: '1000', domain: '127.0.0.1' }],
    ecall: {
      psap,
      vin: VIN,
      propulsion: ['electricEnergyStorage'],
      callbackMinutes: 0.05,
      redialSeconds: [0.5, 0.5],
      ...extra,
    },
  };
}

async function emergency(client: OfonoClient): Promise<Record<string, unknown>> {
  return client.properties('/sip0', 'org.carphone.Emergency');
}

describe('NG eCall end to end, with the PSAP simulator', () => {
  let bus: PrivateBus;
  let psap: PsapSimulator;
  let testPsap: PsapSimulator;
  let daemon: Carphoned;
  let client: OfonoClient;
  let canPort: number;
  const udp = createSocket('udp4');
  let seq = 0;
  const send = (frames: CanFrame[]): void => {
    udp.send(encodeCannelloni(frames, seq++), canPort, '127.0.0.1');
  };
  const calls: PsapCall[] = [];
  const testCalls: PsapCall[] = [];

  beforeAll(async () => {
    bus = await PrivateBus.start();
    psap = await PsapSimulator.start();
    testPsap = await PsapSimulator.start();
    psap.events.on('ecall', (c) => calls.push(c));
    testPsap.events.on('ecall', (c) => testCalls.push(c));
    canPort = await freePort();
    daemon = await Carphoned.start(ecallConfig(bus.address, psap.uri, { testPsap: testPsap.uri }), [
      '--can',
      `udp:${canPort}`,
    ]);
    client = await daemon.client();
  });

  afterAll(async () => {
    if (process.env.ECALL_DEBUG) {
      console.log(
        daemon
          .log(400)
          .split('\n')
          .filter((l) => /eCall|ecall|callback|removed|call ended/.test(l))
          .join('\n'),
      );
    }
    udp.close();
    client?.disconnect();
    await daemon?.stop();
    psap?.close();
    testPsap?.close();
    await bus?.stop();
  });

  it("a crash on CAN places an RFC 8147 eCall whose MSD carries the vehicle's data, and the PSAP's ack shows on D-Bus", async () => {
    // The car drives: two position fixes, then the crash telegram, quiet and then three crash frames.
    for (const [lat, lon] of [
      [48.137, 11.5754],
      [48.1372, 11.5756],
    ] as const) {
      for (let i = 0; i < 3; i++) {
        send([frameFor(reference, 'CP_Position', { Latitude: lat, Longitude: lon })]);
        await sleep(30);
      }
    }
    for (let c = 0; c < 4; c++) {
      send([frameFor(reference, 'CP_Crash', { SeatsOccupied: 3 }, c)]);
      await sleep(20);
    }
    for (let c = 4; c < 8; c++) {
      send([frameFor(reference, 'CP_Crash', { CrashDetected: 1, CrashSeverity: 4, SeatsOccupied: 3 }, c)]);
      await sleep(20);
    }
    const call = await waitFor('eCall at the PSAP', () => calls[0], 10_000);
    expect(call.urn).toBe('urn:service:sos.ecall.automatic');
    expect(call.headers.contentType).toMatch(/^multipart\/mixed;boundary=/);
    expect(call.headers.callInfo).toMatch(
      new RegExp(
        `^<cid:${call.msdContentId}>;purpose=EmergencyCallData\\.eCall\\.MSD, <cid:control-[^>]+>;purpose=EmergencyCallData\\.Control$`,
      ),
    );
    expect(call.headers.accept).toMatch(/application\/sdp/);
    expect(call.headers.accept).toMatch(/application\/EmergencyCallData\.Control\+xml/);
    expect(call.headers.recvInfo).toBe('EmergencyCallData.eCall.MSD');
    expect(call.msdDisposition).toBe('by-reference;handling=optional');
    const msd = call.msds[0]?.msd.msdStructure;
    expect(msd).toMatchObject({
      messageIdentifier: 1,
      control: {
        automaticActivation: true,
        testCall: false,
        positionCanBeTrusted: true,
        vehicleType: 'passengerVehicleCategoryM1',
      },
      vehicleIdentificationNumber: {
        isowmi: 'WVW',
        isovds: 'ZZZ1KZ',
        isovisModelyear: 'A',
        isovisSeqPlant: 'W123456',
      },
      vehiclePropulsionStorageType: { electricEnergyStorage: true, gasolineTankPresent: false },
      vehicleLocation: {
        positionLatitude: toMilliarcseconds(48.1372),
        positionLongitude: toMilliarcseconds(11.5756),
      },
      numberOfOccupants: 3,
    });
    // N1: the fix before, relative to now, in 100 mas units: -0.0002° = -720 mas → -7.
    expect(msd?.recentVehicleLocationN1).toEqual({ latitudeDelta: -7, longitudeDelta: -7 });
    expect(Math.abs((msd?.timestamp ?? 0) - Date.now() / 1000)).toBeLessThan(30);
    await waitFor(
      'MSD acknowledged on D-Bus',
      async () => (await emergency(client)).State === 'msd-acknowledged',
      5000,
    );
    expect(await emergency(client)).toMatchObject({
      Activation: 'automatic',
      TestCall: false,
      MessageIdentifier: 1,
      MsdAcknowledged: true,
    });
  });

  it("refuses the occupants' hang-up of the eCall", async () => {
    const [[path, props] = ['', {}]] = await client.calls('/sip0');
    expect(props).toMatchObject({ State: 'active', Emergency: true });
    await expect(client.hangup(path)).rejects.toMatchObject({ type: 'org.ofono.Error.NotAllowed' });
    await expect(client.manager('/sip0', 'HangupAll')).rejects.toMatchObject({
      type: 'org.ofono.Error.NotAllowed',
    });
    expect((await client.calls('/sip0')).length).toBe(1);
  });

  it('sends a fresh MSD with the next message identifier in an INFO when the PSAP asks', async () => {
    const call = calls[0] as PsapCall;
    psap.requestMsd(call.callId);
    await waitFor('second MSD', () => call.msds.length >= 2, 5000);
    expect(call.msds[1]?.msd.msdStructure.messageIdentifier).toBe(2);
    await waitFor(
      'D-Bus message identifier',
      async () => (await emergency(client)).MessageIdentifier === 2,
      3000,
    );
  });

  it('tells the PSAP what it can do in the INVITE, and answers a request it cannot carry out with an ack saying so', async () => {
    const call = calls[0] as PsapCall;
    // RFC 8147 §9.1.2: a control block with <capabilities> beside the MSD, referenced from Call-Info
    // (checked in the first test).
    expect(call.capabilities).toEqual(['send-data']);
    // A request from RFC 8148's registry this car has no actuator for: it must not go unanswered.
    psap.request(call.callId, 'honk', { persistance: 'PT30S' });
    await waitFor('the ack of the honk request', () => call.actionResults.length > 0, 5000);
    expect(call.actionResults).toEqual([{ action: 'honk', success: false, reason: 'unsupported' }]);
    // The eCall goes on.
    expect((await client.calls('/sip0')).map(([, p]) => p.State)).toEqual(['active']);
  });

  it("ends when the PSAP clears down, then answers the PSAP's callback by itself", async () => {
    const call = calls[0] as PsapCall;
    psap.clearDown(call.callId);
    await waitFor('callback state', async () => (await emergency(client)).State === 'callback', 5000);
    expect(String((await emergency(client)).CallbackUntil)).toMatch(/^\d{4}-\d\d-\d\dT/);
    const sip = String((await client.properties('/sip0', 'org.carphone.SipAccount')).LocalAddress);
    expect(await psap.callBack(`sip:1000@${sip}`)).toBe(200);
    await waitFor(
      'callback call active',
      async () => (await client.calls('/sip0')).some(([, p]) => p.State === 'active'),
      5000,
    );
    const back = psap.calls().find((c) => c.urn === '' && c.state === 'active');
    psap.clearDown(back?.callId ?? '');
    await waitFor('no calls', async () => (await client.calls('/sip0')).length === 0, 5000);
    // The callback window (3 s here) runs out: back to idle.
    await waitFor(
      'idle after the callback window',
      async () => (await emergency(client)).State === 'idle',
      8000,
      200,
    );
  });

  it('starts a manual eCall when 112 is dialled, and the modem says when the emergency is over', async () => {
    const before = calls.length;
    const since = client.signals.length;
    const path = await client.dial('/sip0', '112');
    expect(path).toMatch(/^\/sip0\/voicecall\d+$/);
    const call = await waitFor('manual eCall at the PSAP', () => calls[before], 5000);
    expect(call.urn).toBe('urn:service:sos.ecall.manual');
    expect(call.msds[0]?.msd.msdStructure).toMatchObject({
      messageIdentifier: 1,
      control: { automaticActivation: false, testCall: false },
    });
    psap.clearDown(call.callId);
    await waitFor('callback', async () => (await emergency(client)).State === 'callback', 5000);
    // oFono's Modem.Emergency: true while an emergency call is up, and a client (an HMI showing the
    // emergency state) learns its end from the signal.
    const modemEmergency = (value: boolean) => (s: SignalRecord) =>
      s.path === '/sip0' &&
      s.interface === 'org.ofono.Modem' &&
      s.member === 'PropertyChanged' &&
      s.args[0] === 'Emergency' &&
      s.args[1] === value;
    await client.waitForSignal(modemEmergency(true), 5000, since);
    await client.waitForSignal(modemEmergency(false), 5000, since);
    expect((await client.properties('/sip0', 'org.ofono.Modem')).Emergency).toBe(false);
    await waitFor('idle', async () => (await emergency(client)).State === 'idle', 8000, 200);
  });

  it("answers the PSAP's callback during another call though the driver turned call waiting off", async () => {
    const cs = 'org.ofono.CallSettings';
    await client.setProperty('/sip0', cs, 'VoiceCallWaiting', 's', 'disabled');
    try {
      const before = calls.length;
      await client.dial('/sip0', '112');
      const call = await waitFor('manual eCall at the PSAP', () => calls[before], 5000);
      psap.clearDown(call.callId);
      await waitFor('callback', async () => (await emergency(client)).State === 'callback', 5000);
      // The occupants call someone else (the echo line) within the callback period; the PSAP calls.
      const since = client.signals.length;
      const normal = await client.dial('/sip0', '*43');
      await client.waitForCallState(normal, 'active', 5000, since);
      const sip = String((await client.properties('/sip0', 'org.carphone.SipAccount')).LocalAddress);
      expect(await psap.callBack(`sip:1000@${sip}`)).toBe(200);
      await client.waitForCallState(normal, 'held', 5000, since);
      const back = psap.calls().find((c) => c.urn === '' && c.state === 'active');
      psap.clearDown(back?.callId ?? '');
      await client.manager('/sip0', 'HangupAll');
      await waitFor('no calls', async () => (await client.calls('/sip0')).length === 0, 5000);
    } finally {
      await client.setProperty('/sip0', cs, 'VoiceCallWaiting', 's', 'enabled');
    }
    await waitFor('idle', async () => (await emergency(client)).State === 'idle', 8000, 200);
  });

  it('releases an ongoing call when an eCall starts, and sends a test eCall only to the test PSAP', async () => {
    const since = client.signals.length;
    const normal = await client.dial('/sip0', '*43');
    await client.waitForCallState(normal, 'active', 5000, since);
    expect(await client.call('/sip0', 'org.carphone.Emergency', 'Trigger', 's', ['test'])).toBe('calling');
    const reason = await client.waitForSignal(
      (s) => s.path === normal && s.member === 'DisconnectReason',
      5000,
      since,
    );
    expect(reason.args).toEqual(['local']);
    const call = await waitFor('test eCall', () => testCalls[0], 5000);
    expect(call.urn).toBe('urn:service:test.sos.ecall.manual');
    expect(call.msds[0]?.msd.msdStructure.control.testCall).toBe(true);
    expect(calls.filter((c) => c.urn.includes('test'))).toEqual([]);
    testPsap.clearDown(call.callId);
    await waitFor('idle', async () => (await emergency(client)).State === 'idle', 10_000, 200);
    await expect(
      client.call('/sip0', 'org.carphone.Emergency', 'Trigger', 's', ['automatic']),
    ).rejects.toMatchObject({
      type: 'org.ofono.Error.InvalidArguments',
    });
  });
});

describe('eCall that cannot be set up, or whose daemon dies', () => {
  it('redials after the PSAP refuses the first attempt, with the next message identifier', async () => {
    const bus = await PrivateBus.start();
    const psap = await PsapSimulator.start({ reject: 1 });
    const seen: string[] = [];
    psap.events.on('log', (l) => seen.push(String(l.event)));
    const daemon = await Carphoned.start(ecallConfig(bus.address, psap.uri));
    try {
      const client = await daemon.client();
      await client.call('/sip0', 'org.carphone.Emergency', 'Trigger', 's', ['manual']);
      const call = await waitFor(
        'second attempt answered',
        () => psap.calls().find((c) => c.state === 'active'),
        10_000,
      );
      expect(seen.filter((e) => e === 'rejected')).toHaveLength(1);
      expect(call.msds[0]?.msd.msdStructure.messageIdentifier).toBe(2);
      expect(await emergency(client)).toMatchObject({ Attempt: 2 });
      client.disconnect();
    } finally {
      await daemon.stop();
      psap.close();
      await bus.stop();
    }
  });

  it('redials a call the network drops (no RTP, no BYE), with the next message identifier', async () => {
    const bus = await PrivateBus.start();
    const psap = await PsapSimulator.start();
    const config = ecallConfig(bus.address, psap.uri) as { accounts: Record<string, unknown>[] };
    config.accounts = [{ id: 'sip0', user: '1000', domain: '127.0.0.1', mediaTimeoutSeconds: 1 }];
    const daemon = await Carphoned.start(config);
    try {
      const client = await daemon.client();
      await client.call('/sip0', 'org.carphone.Emergency', 'Trigger', 's', ['manual']);
      const first = await waitFor('eCall up', () => psap.calls().find((c) => c.state === 'active'), 10_000);
      await sleep(500);
      psap.drop(first.callId);
      const second = await waitFor(
        'eCall redialled',
        () => psap.calls().find((c) => c.callId !== first.callId && c.state === 'active'),
        10_000,
      );
      expect(second.msds[0]?.msd.msdStructure.messageIdentifier).toBe(2);
      expect(daemon.log(400)).toMatch(/no RTP: the call is taken as dropped/);
      client.disconnect();
    } finally {
      await daemon.stop();
      psap.close();
      await bus.stop();
    }
  });

  it('places the eCall even when its state cannot be written (a file system left read-only by the crash)', async () => {
    const bus = await PrivateBus.start();
    const psap = await PsapSimulator.start();
    // Below a file: every write fails (ENOTDIR), as on a read-only or full disk, even for root.
    const daemon = await Carphoned.start(
      ecallConfig(bus.address, psap.uri, { statePath: '/dev/null/ecall.json' }),
    );
    try {
      const client = await daemon.client();
      await client.call('/sip0', 'org.carphone.Emergency', 'Trigger', 's', ['manual']);
      const call = await waitFor('eCall up', () => psap.calls().find((c) => c.state === 'active'), 10_000);
      expect(call.msds[0]?.msd.msdStructure.messageIdentifier).toBe(1);
      expect(daemon.log(400)).toMatch(/cannot persist the eCall state/);
      client.disconnect();
    } finally {
      await daemon.stop();
      psap.close();
      await bus.stop();
    }
  });

  it.each([
    { where: 'in the file ecall.statePath names', configured: true },
    {
      where: 'in the state directory systemd gives the service, with no statePath configured',
      configured: false,
    },
  ])(
    'a daemon killed with SIGKILL mid-eCall re-establishes the eCall when it restarts: state kept $where',
    async ({ configured }) => {
      const bus = await PrivateBus.start();
      const psap = await PsapSimulator.start();
      const stateDir = mkdtempSync(join(tmpdir(), 'carphone-ecall-state-'));
      const statePath = join(stateDir, 'ecall.json');
      const config = ecallConfig(bus.address, psap.uri, configured ? { statePath } : {});
      // As systemd's StateDirectory= passes it; each daemon the harness starts otherwise gets a state
      // directory of its own, so that the one restarted would not find the first one's.
      const env = configured ? {} : { STATE_DIRECTORY: stateDir };
      const first = await Carphoned.start(config, [], env);
      const client = await first.client();
      await client.call('/sip0', 'org.carphone.Emergency', 'Trigger', 's', ['manual']);
      await waitFor('eCall up', () => psap.calls().find((c) => c.state === 'active'), 10_000);
      expect(existsSync(statePath)).toBe(true);
      client.disconnect();
      await first.stop('SIGKILL');
      const second = await Carphoned.spawn(first.configPath, [], env);
      try {
        const again = await waitFor(
          'eCall re-established',
          () =>
            psap
              .calls()
              .filter((c) => c.urn.startsWith('urn:service:sos.ecall'))
              .at(1),
          15_000,
        );
        expect(again.urn).toBe('urn:service:sos.ecall.manual');
        expect(again.msds[0]?.msd.msdStructure.messageIdentifier).toBe(2);
        const c2 = await second.client();
        await waitFor(
          'active again',
          async () => String((await emergency(c2)).State).startsWith('msd-acknowledged'),
          5000,
        );
        c2.disconnect();
      } finally {
        await second.stop();
        psap.close();
        await bus.stop();
      }
    },
  );
});

describe('eCall position from the car', () => {
  it('trusts the position of a car that has stood still for longer than the trust window, its message still coming', async () => {
    const bus = await PrivateBus.start();
    const psap = await PsapSimulator.start();
    const canPort = await freePort();
    const udp = createSocket('udp4');
    const daemon = await Carphoned.start(ecallConfig(bus.address, psap.uri), ['--can', `udp:${canPort}`]);
    let seq = 0;
    const send = (frames: CanFrame[]): void => {
      udp.send(encodeCannelloni(frames, seq++), canPort, '127.0.0.1');
    };
    try {
      // Parked at a junction: the same position ten times a second for 11 s (the trust window is 10 s).
      const until = Date.now() + 11_000;
      while (Date.now() < until) {
        send([frameFor(reference, 'CP_Position', { Latitude: 48.1372, Longitude: 11.5756 })]);
        await sleep(100);
      }
      // The driver presses SOS (here over D-Bus): nothing in the car's state changed for 11 s.
      const client = await daemon.client();
      await client.call('/sip0', 'org.carphone.Emergency', 'Trigger', 's', ['manual']);
      client.disconnect();
      const call = await waitFor('eCall at the PSAP', () => psap.calls()[0], 10_000);
      const msd = call.msds[0]?.msd.msdStructure;
      expect(msd?.control.positionCanBeTrusted).toBe(true);
      expect(msd?.vehicleLocation.positionLatitude).toBe(toMilliarcseconds(48.1372));
    } finally {
      udp.close();
      await daemon.stop();
      psap.close();
      await bus.stop();
    }
  }, 40_000);
});

describe('eCall position from gpsd', () => {
  it("puts the receiver's latest fix and course into the MSD, as trusted", async () => {
    const gpsd = await Gpsd.start(nmeaDrive(20));
    const bus = await PrivateBus.start();
    const psap = await PsapSimulator.start();
    const daemon = await Carphoned.start({
      ...ecallConfig(bus.address, psap.uri),
      gnss: { source: `gpsd:127.0.0.1:${gpsd.port}` },
    });
    try {
      const client = await daemon.client();
      await sleep(1500); // gpsd reports a fix every 50 ms of the log
      await client.call('/sip0', 'org.carphone.Emergency', 'Trigger', 's', ['manual']);
      const call = await waitFor('eCall', () => psap.calls()[0], 10_000);
      const msd = call.msds[0]?.msd.msdStructure;
      expect(msd?.control.positionCanBeTrusted).toBe(true);
      // The drive runs from 48.13720° N 11.57560° E north-east; any fix of it is within 0.01°.
      expect(msd?.vehicleLocation.positionLatitude).toBeGreaterThanOrEqual(toMilliarcseconds(48.1372));
      expect(msd?.vehicleLocation.positionLatitude).toBeLessThanOrEqual(toMilliarcseconds(48.1406));
      expect(msd?.vehicleLocation.positionLongitude).toBeGreaterThanOrEqual(toMilliarcseconds(11.5756));
      expect(msd?.vehicleDirection).toBe(22); // course 45° in 2° steps
      client.disconnect();
    } finally {
      await daemon.stop();
      psap.close();
      await bus.stop();
      await gpsd.stop();
    }
  });
});

describe('eCall from a replayed candump log', () => {
  it('a crash in the log places an automatic eCall at the PSAP', async () => {
    const log = writeCandumpLog(
      Array.from({ length: 14 }, (_, c) =>
        frameFor(
          reference,
          'CP_Crash',
          c < 8 ? { SeatsOccupied: 2 } : { CrashDetected: 1, SeatsOccupied: 2 },
          c,
        ),
      ),
    );
    const bus = await PrivateBus.start();
    const psap = await PsapSimulator.start();
    const daemon = await Carphoned.start(ecallConfig(bus.address, psap.uri), ['--can', `replay:${log}`]);
    try {
      const call = await waitFor('eCall at the PSAP', () => psap.calls()[0], 10_000);
      expect(call.urn).toBe('urn:service:sos.ecall.automatic');
      expect(call.msds[0]?.msd.msdStructure).toMatchObject({
        control: { automaticActivation: true },
        numberOfOccupants: 2,
      });
    } finally {
      await daemon.stop();
      psap.close();
      await bus.stop();
    }
  });
});
