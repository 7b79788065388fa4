import { createSocket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCannelloni } from '../../can/transport/cannelloni.js';
import type { CanFrame } from '../../can/frame.js';
import { writeCandumpLog } from '../harness/candump.js';
import { loadBindings } from '../../service/vehicle/bindings-load.js';
import type { OfonoClient } from '../../service/client/ofono-client.js';
import { Baresip } from '../harness/baresip.js';
import { Carphoned, REPO } from '../harness/carphoned.js';
import { PrivateBus } from '../harness/dbus-daemon.js';
import { freePort } from '../harness/ports.js';
import { waitFor } from '../harness/process.js';
import { writeTone } from '../harness/audio.js';
import { frameFor } from '../unit/vehicle/frames.js';

const reference = loadBindings(join(REPO, 'can/bindings/carphone-reference.yaml'));
const keys = (v: Record<string, number>, counter = 0): CanFrame =>
  frameFor(reference, 'CP_SteeringWheel', { ...v, SWM_Counter: counter });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('steering-wheel keys over CAN-over-UDP drive real calls', () => {
  let bus: PrivateBus;
  let daemon: Carphoned;
  let client: OfonoClient;
  let carol: Baresip;
  let canPort: number;
  const udp = createSocket('udp4');
  let seq = 0;
  const sendFrames = (frames: CanFrame[]): void => {
    udp.send(encodeCannelloni(frames, seq++), canPort, '127.0.0.1');
  };
  /** Holds a key for `ms` as the car does: the keys message every 100 ms, the key set while held. */
  async function pressKey(key: string, ms: number): Promise<void> {
    for (let t = 0; t < ms; t += 100) {
      sendFrames([keys({ [key]: 1 })]);
      await sleep(100);
    }
    sendFrames([keys({})]);
    await sleep(150);
  }

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carphone-veh-'));
    writeTone(join(dir, '1000.wav'), 1000, 60);
    canPort = await freePort();
    bus = await PrivateBus.start();
    daemon = await Carphoned.start(
      { dbus: { bus: bus.address }, accounts: [{ id: 'sip0', user: '1000', domain: '127.0.0.1' }] },
      ['--can', `udp:${canPort}`],
    );
    client = await daemon.client();
    carol = await Baresip.start({ user: '2002', autoAnswer: false, sourceWav: join(dir, '1000.wav') });
    // The keys message flows all the time, pressed or not.
    for (let i = 0; i < 3; i++) {
      sendFrames([keys({})]);
      await sleep(100);
    }
  });

  afterAll(async () => {
    udp.close();
    client?.disconnect();
    await daemon?.stop();
    await carol?.stop();
    await bus?.stop();
  });

  it('answers a ringing baresip call with the phone key and ends it with the hang-up key', async () => {
    const sip = String((await client.properties('/sip0', 'org.carphone.SipAccount')).LocalAddress);
    const since = client.signals.length;
    await carol.command('dial', `sip:1000@${sip}`);
    const added = await client.waitForSignal((s) => s.member === 'CallAdded', 10_000, since);
    const [path, props] = added.args as [string, Record<string, unknown>];
    expect(props.State).toBe('incoming');
    await pressKey('PhoneKey', 200);
    await client.waitForCallState(path, 'active', 5000, since);
    await carol.waitForEvent('CALL_ESTABLISHED', 5000);
    const button = await client.waitForSignal(
      (s) => s.path === '/vehicle' && s.member === 'Button',
      2000,
      since,
    );
    expect(button.args).toEqual(['phone', 'short']);
    await pressKey('HangUpKey', 200);
    const reason = await client.waitForSignal(
      (s) => s.path === path && s.member === 'DisconnectReason',
      5000,
      since,
    );
    expect(reason.args).toEqual(['local']);
  });

  it('rejects a ringing call with a long press of the phone key', async () => {
    const since = client.signals.length;
    const carolEvents = carol.events.length;
    await carol.command(
      'dial',
      `sip:1000@${String((await client.properties('/sip0', 'org.carphone.SipAccount')).LocalAddress)}`,
    );
    await client.waitForSignal((s) => s.member === 'CallAdded', 10_000, since);
    await pressKey('PhoneKey', 1200);
    const closed = await carol.waitForEvent('CALL_CLOSED', 5000, carolEvents);
    expect(String(closed.param)).toMatch(/603/);
  });

  it('mutes the microphone with the mute key and raises the volume with volume up (CallVolume)', async () => {
    const before = await client.properties('/sip0', 'org.ofono.CallVolume');
    await pressKey('MuteKey', 200);
    await pressKey('VolumeUpKey', 200);
    await waitFor(
      'volume changed',
      async () => (await client.properties('/sip0', 'org.ofono.CallVolume')).Muted === !before.Muted,
      3000,
    );
    expect((await client.properties('/sip0', 'org.ofono.CallVolume')).SpeakerVolume).toBe(
      Math.min(100, Number(before.SpeakerVolume) + 10),
    );
  });

  it("reports vehicle state decoded from the car's messages", async () => {
    const state = frameFor(reference, 'CP_VehicleState', { Ignition: 2, VehicleSpeed: 48.5, Propulsion: 4 });
    for (let i = 0; i < 3; i++) {
      sendFrames([state]);
      await sleep(50);
    }
    await waitFor(
      'vehicle state',
      async () => (await client.properties('/vehicle', 'org.carphone.Vehicle')).Speed === 48.5,
      3000,
    );
    expect(await client.properties('/vehicle', 'org.carphone.Vehicle')).toMatchObject({
      Ignition: 'on',
      Propulsion: 'Electric',
      Source: `udp:127.0.0.1:${canPort}`,
    });
  });

  it('drops malformed datagrams and keeps serving', async () => {
    udp.send(Buffer.from([9, 9, 9]), canPort, '127.0.0.1');
    udp.send(Buffer.from([2, 0, 0, 0, 5, 0, 0, 0]), canPort, '127.0.0.1');
    await sleep(100);
    expect(daemon.child.exited).toBe(false);
    expect(daemon.log(300)).toMatch(/datagram from 127\.0\.0\.1:\d+ dropped/);
  });
});

describe('crash frames replayed from a candump log', () => {
  // The corrupted burst carries SeatsOccupied 0 and the real crash 2: the trigger's signals tell which one fired.
  it('raise exactly one automatic EmergencyTrigger on D-Bus, and corrupted ones none', async () => {
    const frames: CanFrame[] = [];
    for (let c = 0; c < 10; c++) {
      frames.push(frameFor(reference, 'CP_Crash', { SeatsOccupied: 2 }, c));
    }
    // A corrupted burst first: every crash frame with its CRC flipped.
    for (let c = 10; c < 16; c++) {
      const f = frameFor(reference, 'CP_Crash', { CrashDetected: 1, CrashSeverity: 4 }, c);
      f.data[0] = (f.data[0] ?? 0) ^ 0x5a;
      frames.push(f);
    }
    for (let c = 0; c < 6; c++) {
      frames.push(frameFor(reference, 'CP_Crash', { SeatsOccupied: 2 }, c));
    }
    for (let c = 6; c < 40; c++) {
      frames.push(
        frameFor(reference, 'CP_Crash', { CrashDetected: 1, CrashSeverity: 4, SeatsOccupied: 2 }, c % 16),
      );
    }
    const log = writeCandumpLog(frames);
    const bus = await PrivateBus.start();
    const daemon = await Carphoned.start(
      { dbus: { bus: bus.address }, echoTest: { enabled: false }, accounts: [] },
      ['--can', `replay:${log}`],
    );
    try {
      const client = await daemon.client();
      const trigger = await client.waitForSignal((s) => s.member === 'EmergencyTrigger', 10_000);
      expect(trigger.args[0]).toBe('automatic');
      expect(trigger.args[1]).toMatchObject({
        Message: 'CP_Crash',
        ConfirmedFrames: 3,
        Signals: expect.objectContaining({ CrashDetected: 1, CrashSeverity: 4, SeatsOccupied: 2 }) as unknown,
      });
      await sleep(1500); // the rest of the log: 34 crash frames in all
      expect(client.signals.filter((s) => s.member === 'EmergencyTrigger')).toHaveLength(1);
      client.disconnect();
    } finally {
      await daemon.stop();
      await bus.stop();
    }
  });
});

describe('SocketCAN on a kernel without AF_CAN', () => {
  it('reports the interface and the cause, and the daemon keeps serving calls', async () => {
    const bus = await PrivateBus.start();
    const daemon = await Carphoned.start(
      { dbus: { bus: bus.address }, accounts: [{ id: 'sip0', user: 'u', domain: '127.0.0.1' }] },
      ['--can', 'socketcan:can0'],
    );
    try {
      const client = await daemon.client();
      const v = await client.properties('/vehicle', 'org.carphone.Vehicle');
      expect(v.Source).toBe('socketcan:can0');
      expect(String(v.SourceError)).toMatch(
        /^socketcan:can0: cannot open: (the kernel has no SocketCAN \(AF_CAN\) support|there is no network interface named can0)/,
      );
      const call = await client.dial('/sip0', '*43');
      await client.waitForCallState(call, 'active');
      await client.hangup(call);
      client.disconnect();
    } finally {
      await daemon.stop();
      await bus.stop();
    }
  });
});
