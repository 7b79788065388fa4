import { describe, expect, it } from 'vitest';
import { CRC8H2F, CRC8_SAE_J1850, crc8 } from '../../../can/e2e/crc.js';
import { protect, type E2eConfig } from '../../../can/e2e/profiles.js';
import {
  checkFrame,
  checkNoData,
  defaultSm,
  initialReceiverState,
  type E2eReceiverConfig,
  type E2eResult,
} from '../../../can/e2e/receiver.js';

const ascii = [...Buffer.from('123456789')];
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('AUTOSAR CRCs match their published check values', () => {
  it('CRC8 SAE J1850 of "123456789" is 0x4B', () => expect(crc8(CRC8_SAE_J1850, ascii)).toBe(0x4b));
  it('CRC8H2F of "123456789" is 0xDF', () => expect(crc8(CRC8H2F, ascii)).toBe(0xdf));
});

describe('E2E protection matches the reference vectors', () => {
  it('profile 1 (BOTH), data ID 0x123, zero data: CRC 0xCC at counter 0, 0x91 at counter 1', () => {
    const cfg: E2eConfig = { profile: 'P01', dataId: 0x123, dataIdMode: 'both' };
    expect(protect(cfg, new Uint8Array(8), 0)[0]).toBe(0xcc);
    expect(protect(cfg, new Uint8Array(8), 1)[0]).toBe(0x91);
  });

  it('profile 1 (ALT): 0xCE at counter 0, 0x02 at counter 1', () => {
    const cfg: E2eConfig = { profile: 'P01', dataId: 0x123, dataIdMode: 'alt' };
    expect(protect(cfg, new Uint8Array(8), 0)[0]).toBe(0xce);
    expect(protect(cfg, new Uint8Array(8), 1)[0]).toBe(0x02);
  });

  it('profile 2: 0x45 for zero data at counter 1 with a zero ID list; 0xBC for 00 02 02 03..07 with IDs 0..15', () => {
    expect(
      protect({ profile: 'P02', dataIdList: new Array<number>(16).fill(0) }, new Uint8Array(8), 1)[0],
    ).toBe(0x45);
    expect(
      protect(
        { profile: 'P02', dataIdList: [...Array(16).keys()] },
        Uint8Array.from([0, 2, 2, 3, 4, 5, 6, 7]),
        2,
      )[0],
    ).toBe(0xbc);
  });

  it("profile 2 with VW Airbag_01's data ID 0x40 gives the frames VW cars send", () => {
    const vw: E2eConfig = { profile: 'P02', dataIdList: new Array<number>(16).fill(0x40) };
    expect(hex(protect(vw, new Uint8Array(8), 0))).toBe('c700000000000000');
    expect(hex(protect(vw, new Uint8Array(8), 1))).toBe('a301000000000000');
    expect(hex(protect(vw, Uint8Array.from([0, 0, 0x21, 0, 0, 0, 0, 0]), 2))).toBe('6002210000000000');
    expect(hex(protect(vw, Uint8Array.from([0, 0, 0x21, 0, 0, 0, 0, 0]), 3))).toBe('0403210000000000');
  });
});

describe('E2E receiver', () => {
  const cfg: E2eReceiverConfig = {
    e2e: { profile: 'P02', dataIdList: new Array<number>(16).fill(0x40) },
    length: 8,
    ...defaultSm,
  };
  const frame = (counter: number, byte2 = 0): Uint8Array =>
    protect(cfg.e2e, Uint8Array.from([0, 0, byte2, 0, 0, 0, 0, 0]), counter);

  function feed(...inputs: (Uint8Array | 'timeout')[]): E2eResult[] {
    let state = initialReceiverState;
    const out: E2eResult[] = [];
    for (const input of inputs) {
      const [s, r] = input === 'timeout' ? checkNoData(cfg, state) : checkFrame(cfg, state, input);
      state = s;
      out.push(r);
    }
    return out;
  }

  it('reports OK for a counter that steps by one, and becomes VALID after enough OK frames', () => {
    const r = feed(frame(0), frame(1), frame(2), frame(3));
    expect(r.map((x) => x.status)).toEqual(['OK', 'OK', 'OK', 'OK']);
    expect(r.map((x) => x.sm)).toEqual(['INIT', 'VALID', 'VALID', 'VALID']);
    expect(r.map((x) => x.usable)).toEqual([false, true, true, true]);
  });

  it('reports REPEATED, WRONG_SEQUENCE and ERROR, and none of them is usable', () => {
    const bad = frame(3);
    bad[0] = (bad[0] ?? 0) ^ 0x01;
    const short = frame(4).subarray(0, 7);
    const r = feed(frame(0), frame(1), frame(2), frame(2), frame(5), bad, short);
    expect(r.slice(3).map((x) => x.status)).toEqual(['REPEATED', 'WRONG_SEQUENCE', 'ERROR', 'ERROR']);
    expect(r.slice(3).every((x) => !x.usable)).toBe(true);
  });

  it('rejects a frame protected with another data ID', () => {
    const other = protect(
      { profile: 'P02', dataIdList: new Array<number>(16).fill(0x41) },
      new Uint8Array(8),
      0,
    );
    expect(feed(other)[0]?.status).toBe('ERROR');
  });

  it('reports NO_NEW_DATA on a missed cycle and leaves VALID when the stream stops', () => {
    const r = feed(frame(0), frame(1), frame(2), 'timeout', 'timeout', 'timeout');
    expect(r.slice(3).map((x) => x.status)).toEqual(['NO_NEW_DATA', 'NO_NEW_DATA', 'NO_NEW_DATA']);
    expect(r.at(-1)?.sm).toBe('INVALID');
  });

  it('needs several good frames in a row to trust the stream again after errors', () => {
    const bad = frame(3);
    bad[1] = 0xff;
    const r = feed(frame(0), frame(1), frame(2), bad, bad, frame(3), frame(4), frame(5), frame(6), frame(7));
    expect(r[4]?.sm).toBe('INVALID');
    expect(r.findIndex((x, i) => i > 4 && x.usable)).toBeGreaterThan(6);
  });

  it('profile 1 wraps its counter from 14 to 0 and treats 15 as an error', () => {
    const p1: E2eReceiverConfig = {
      ...cfg,
      e2e: { profile: 'P01', dataId: 0x3a1, dataIdMode: 'both' },
      length: 4,
    };
    let state = initialReceiverState;
    const statuses: string[] = [];
    for (const c of [12, 13, 14, 0, 1]) {
      const [s, r] = checkFrame(p1, state, protect(p1.e2e, new Uint8Array(4), c));
      state = s;
      statuses.push(r.status);
    }
    expect(statuses.slice(1)).toEqual(['OK', 'OK', 'OK', 'OK']);
    const fifteen = protect(p1.e2e, new Uint8Array(4), 0);
    fifteen[1] = 0x0f;
    expect(checkFrame(p1, state, fifteen)[1].status).toBe('ERROR');
  });
});
