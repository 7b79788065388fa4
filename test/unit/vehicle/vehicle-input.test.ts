import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../service/core/clock.js';
import { silentLogger } from '../../../service/log/logger.js';
import { loadBindings } from '../../../service/vehicle/bindings-load.js';
import { VehicleInput, type EmergencyKind } from '../../../service/vehicle/vehicle-input.js';
import { ConfigError } from '../../../service/core/errors.js';
import type { CanFrame } from '../../../can/frame.js';
import { frameFor } from './frames.js';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

const REPO = join(import.meta.dirname, '../../..');
const reference = loadBindings(join(REPO, 'can/bindings/carphone-reference.yaml'));

function rig(loaded = reference) {
  const clock = new ManualClock();
  const input = new VehicleInput(loaded, clock, silentLogger);
  const emergencies: EmergencyKind[] = [];
  const buttons: string[] = [];
  input.events.on('emergency', (k) => emergencies.push(k));
  input.events.on('button', (b, p) => buttons.push(`${b}:${p}`));
  /** Sends a frame, then lets `ms` pass (ticking as the daemon does). */
  const send = (f: CanFrame, ms = 20): void => {
    input.onFrame(f);
    for (let t = 0; t < ms; t += 20) {
      clock.advance(Math.min(20, ms - t));
      input.tick();
    }
  };
  return { clock, input, emergencies, buttons, send };
}

const crash = (counter: number, extra: Record<string, number> = {}): CanFrame =>
  frameFor(
    reference,
    'CP_Crash',
    { CrashDetected: 1, CrashSeverity: 3, SeatsOccupied: 2, ...extra },
    counter,
  );
const quiet = (counter: number): CanFrame => frameFor(reference, 'CP_Crash', { SeatsOccupied: 2 }, counter);

describe('automatic eCall trigger from the crash message', () => {
  it('triggers exactly once for a crash confirmed across the configured frames', () => {
    const r = rig();
    for (let c = 0; c < 5; c++) {
      r.send(quiet(c));
    }
    for (let c = 5; c < 7; c++) {
      r.send(crash(c));
    }
    expect(r.emergencies).toEqual([]); // two crash frames: not yet confirmed (3 needed)
    r.send(crash(7));
    expect(r.emergencies).toEqual(['automatic']);
    for (let c = 8; c < 60; c++) {
      r.send(crash(c % 16)); // the ACU keeps sending the crash: still one eCall
    }
    expect(r.emergencies).toEqual(['automatic']);
  });

  it('does not trigger on crash frames interrupted by a corrupted one', () => {
    const r = rig();
    for (let c = 0; c < 4; c++) {
      r.send(quiet(c));
    }
    const broken = crash(6);
    broken.data[3] = (broken.data[3] ?? 0) ^ 0x80;
    for (const f of [crash(4), crash(5), broken, crash(7), crash(8)]) {
      r.send(f);
    }
    expect(r.emergencies).toEqual([]);
  });

  it('never triggers on frames with a bad CRC, a repeated or skipped counter, another data ID, or a wrong length', () => {
    const r = rig();
    for (let c = 0; c < 4; c++) {
      r.send(quiet(c));
    }
    const badCrc = (c: number): CanFrame => {
      const f = crash(c);
      f.data[0] = (f.data[0] ?? 0) ^ 0xff;
      return f;
    };
    const otherId = (c: number): CanFrame => {
      const f = crash(c);
      const alien = frameFor(
        {
          ...reference,
          bindings: {
            ...reference.bindings,
            messages: {
              ...reference.bindings.messages,
              CP_Crash: {
                e2e: { profile: 'P02', dataIdList: new Array<number>(16).fill(0x51) },
                timeoutMs: 200,
                maxDeltaCounter: 1,
              },
            },
          },
        },
        'CP_Crash',
        { CrashDetected: 1 },
        c,
      );
      return { ...f, data: alien.data };
    };
    const short = (c: number): CanFrame => ({ ...crash(c), data: crash(c).data.subarray(0, 7) });
    for (const make of [badCrc, otherId, short]) {
      for (let c = 4; c < 12; c++) {
        r.send(make(c));
      }
    }
    // The same good crash frame over and over (repeated counter), and every other counter value (skipped).
    for (let i = 0; i < 10; i++) {
      r.send(crash(12));
    }
    for (let c = 0; c < 16; c += 2) {
      r.send(crash(c));
    }
    expect(r.emergencies).toEqual([]);
  });

  it('is inhibited by the actuator test and by the ACU fault code', () => {
    const r = rig();
    for (let c = 0; c < 4; c++) {
      r.send(quiet(c));
    }
    for (let c = 4; c < 10; c++) {
      r.send(crash(c, { ActuatorTest: 1 }));
    }
    for (let c = 10; c < 16; c++) {
      r.send(crash(c, { CrashSeverity: 7 }));
    }
    expect(r.emergencies).toEqual([]);
  });

  it("triggers nothing on 100 000 random frames with the crash message's identifier", () => {
    const r = rig();
    let seed = 0x2545f491;
    const rand = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) & 0xff;
    };
    const id = reference.db.messages.get('CP_Crash')?.id ?? -1;
    for (let i = 0; i < 100_000; i++) {
      const len = i % 10 === 0 ? rand() % 9 : 8;
      r.input.onFrame({
        id,
        extended: false,
        rtr: false,
        fd: false,
        data: Uint8Array.from({ length: len }, rand),
        timestampMs: 0,
      });
      if (i % 50 === 0) {
        r.clock.advance(20);
        r.input.tick();
      }
    }
    expect(r.input.framesSeen).toBe(100_000);
    expect(r.emergencies).toEqual([]);
  });

  it('reports the crash message missing as crash sensing lost, and recovers when it returns', () => {
    const r = rig();
    for (let c = 0; c < 5; c++) {
      r.send(quiet(c));
    }
    expect(r.input.state.crashSensing).toBe(true);
    r.clock.advance(1000);
    for (let i = 0; i < 5; i++) {
      r.input.tick();
      r.clock.advance(200);
    }
    expect(r.input.state.crashSensing).toBe(false);
    for (let c = 5; c < 10; c++) {
      r.send(quiet(c));
    }
    expect(r.input.state.crashSensing).toBe(true);
  });
});

describe('SOS button', () => {
  const sos = (counter: number, pressed: number): CanFrame =>
    frameFor(reference, 'CP_SosButton', { SosPressed: pressed }, counter % 15);

  it('triggers a manual eCall once when held for the hold time', () => {
    const r = rig();
    let c = 0;
    for (let i = 0; i < 3; i++) {
      r.send(sos(c++, 0), 100);
    }
    for (let i = 0; i < 25; i++) {
      r.send(sos(c++, 1), 100);
    }
    r.send(sos(c, 0), 100);
    expect(r.emergencies).toEqual(['manual']);
  });

  it('does nothing for a brief press', () => {
    const r = rig();
    let c = 0;
    for (let i = 0; i < 3; i++) {
      r.send(sos(c++, 0), 100);
    }
    for (let i = 0; i < 10; i++) {
      r.send(sos(c++, 1), 100);
    }
    r.send(sos(c, 0), 100);
    expect(r.emergencies).toEqual([]);
  });
});

describe('steering-wheel keys', () => {
  const keys = (v: Record<string, number>): CanFrame => frameFor(reference, 'CP_SteeringWheel', v);

  it('reports a short press on release and a long press while held', () => {
    const r = rig();
    r.send(keys({}), 100);
    r.send(keys({}), 100);
    r.send(keys({ PhoneKey: 1 }), 100);
    r.send(keys({ PhoneKey: 1 }), 100);
    r.send(keys({}), 100);
    for (let i = 0; i < 10; i++) {
      r.send(keys({ HangUpKey: 1 }), 100);
    }
    r.send(keys({}), 100);
    expect(r.buttons).toEqual(['phone:short', 'hangup:long']);
  });

  it('releases a held key silently when its message stops arriving', () => {
    const r = rig();
    r.send(keys({}), 100);
    r.send(keys({}), 100);
    r.send(keys({ VoiceKey: 1 }), 100);
    r.clock.advance(600);
    r.input.tick();
    r.send(keys({}), 100);
    expect(r.buttons).toEqual([]);
  });
});

describe('the wall clock set while the car runs (GNSS, the network or NTP after boot)', () => {
  const keys = (v: Record<string, number>): CanFrame => frameFor(reference, 'CP_SteeringWheel', v);
  const YEAR_MS = 365 * 24 * 3600_000;

  it('leaves a brief press of a key a short press when the wall clock jumps a year ahead during it', () => {
    const r = rig();
    r.send(keys({}), 100);
    r.send(keys({ HangUpKey: 1 }), 100);
    r.clock.setWallClock(r.clock.now() + YEAR_MS);
    r.send(keys({ HangUpKey: 1 }), 100);
    r.send(keys({}), 100);
    expect(r.buttons).toEqual(['hangup:short']);
  });

  it('still notices the crash message missing after the wall clock was set a year back', () => {
    const r = rig();
    for (let c = 0; c < 5; c++) {
      r.send(quiet(c));
    }
    r.clock.setWallClock(r.clock.now() - YEAR_MS);
    r.clock.advance(1000);
    for (let i = 0; i < 5; i++) {
      r.input.tick();
      r.clock.advance(200);
    }
    expect(r.input.state.crashSensing).toBe(false);
  });
});

describe('bindings for real cars', () => {
  it('VW MEB: Hook on MFL_01 is the phone key; Airbag_01 front crash confirmed over 3 frames; buckles count occupants', () => {
    const vw = loadBindings(join(REPO, 'can/bindings/vw-meb.yaml'));
    const r = rig(vw);
    // The keys' message arrives every 100 ms whether a key is pressed or not.
    r.send(frameFor(vw, 'MFL_01', { MFL_Tastencode_1: 0 }), 100);
    r.send(frameFor(vw, 'MFL_01', { MFL_Tastencode_1: 0 }), 100);
    r.send(frameFor(vw, 'MFL_01', { MFL_Tastencode_1: 28, MFL_Eventcode_1: 1 }), 100);
    r.send(frameFor(vw, 'MFL_01', { MFL_Tastencode_1: 0 }), 100);
    expect(r.buttons).toEqual(['phone:short']);
    const belts = frameFor(vw, 'Airbag_02', {
      AB_Gurtschloss_FA: 3,
      AB_Gurtschloss_BF: 3,
      AB_Gurtschloss_Reihe2_FA: 2,
    });
    r.send(belts);
    r.send(belts);
    for (let c = 0; c < 3; c++) {
      r.send(frameFor(vw, 'Airbag_01', {}, c));
    }
    for (let c = 3; c < 8; c++) {
      r.send(frameFor(vw, 'Airbag_01', { AB_Front_Crash: 1, AB_Crash_Int: 1 }, c));
    }
    expect(r.emergencies).toEqual(['automatic']);
    expect(r.input.state.occupants).toBe(2);
  });

  it('VW MEB: the frames VW publishes for Airbag_01 decode and pass E2E (counter 2 and 3 carry a front crash)', () => {
    const vw = loadBindings(join(REPO, 'can/bindings/vw-meb.yaml'));
    const r = rig(vw);
    const raw = ['C700000000000000', 'A301000000000000', '6002210000000000', '0403210000000000'];
    const statuses: string[] = [];
    r.input.events.on('status', (_m, s) => statuses.push(s.status));
    for (const hex of raw) {
      r.send({
        id: 0x40,
        extended: false,
        rtr: false,
        fd: false,
        data: Uint8Array.from(Buffer.from(hex, 'hex')),
        timestampMs: 0,
      });
    }
    expect(statuses).toEqual([]); // every frame was OK
    expect(r.emergencies).toEqual([]); // two crash frames are not three
  });

  it('Hyundai: the BT call switch answers, ACU13 crash-active confirmed over 3 frames triggers once', () => {
    const hy = loadBindings(join(REPO, 'can/bindings/hyundai.yaml'));
    const r = rig(hy);
    r.send(frameFor(hy, 'GW_SWRC_PE', {}), 100);
    r.send(frameFor(hy, 'GW_SWRC_PE', {}), 100);
    r.send(frameFor(hy, 'GW_SWRC_PE', { C_BTPhoneCallSW: 1 }), 100);
    r.send(frameFor(hy, 'GW_SWRC_PE', {}), 100);
    for (let i = 0; i < 6; i++) {
      r.send(frameFor(hy, 'ACU13', { CF_Acu_CshAct: 1 }));
    }
    expect(r.buttons).toEqual(['phone:short']);
    expect(r.emergencies).toEqual(['automatic']);
  });
});

describe('bindings errors', () => {
  const write = (text: string): string => {
    const dir = mkdtempSync(join(tmpdir(), 'carphone-bind-'));
    writeFileSync(join(dir, 'b.yaml'), text);
    return join(dir, 'b.yaml');
  };
  const dbc = join(REPO, 'can/dbc/carphone-reference.dbc');

  it('names a signal the DBC does not have', () => {
    const p = write(
      `dbc: ${dbc}\nmessages:\n  CP_Crash: { e2e: none, timeoutMs: 100 }\ncrash:\n  triggers: [{ signal: CP_Crash.Nope, equals: 1 }]\n`,
    );
    expect(() => loadBindings(p)).toThrow(ConfigError);
    expect(() => loadBindings(p)).toThrow(
      /crash\.triggers\[0\]\.signal: message CP_Crash has no signal Nope/,
    );
  });

  it('refuses a crash message whose protection is not declared', () => {
    const p = write(
      `dbc: ${dbc}\nmessages: {}\ncrash:\n  triggers: [{ signal: CP_Crash.CrashDetected, equals: 1 }]\n`,
    );
    expect(() => loadBindings(p)).toThrow(/messages\.CP_Crash: is used by a binding but not declared/);
  });

  it('passes a DBC syntax error on with its line number', () => {
    const bad = write('BO_ 10 M: 8 X\n SG_ A : 0|8@1+ (1,0) [0|1 "" X\n');
    const p = write(`dbc: ${bad}\nmessages: {}\n`);
    expect(() => loadBindings(p)).toThrow(/b\.yaml:2: malformed signal definition/);
  });
});
