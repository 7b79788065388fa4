import { describe, expect, it } from 'vitest';
import { seeded } from '../../../bench/jitter/traces.js';
import { ManualClock } from '../../../service/core/clock.js';
import { PART_WAIT_MS, Reassembly } from '../../../service/sms/concatenation.js';
import { readRpData, rpAck, rpError, RpError } from '../../../service/sms/rp.js';
import { readSmsDeliver, SmsError, type SmsDeliver } from '../../../service/sms/tpdu.js';

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

/**
 * Septets packed into octets by the usual bit accumulator, written here apart from the decoder:
 * `fill` zero bits first, as after a user data header.
 */
function pack(septets: number[], fill = 0): number[] {
  const out: number[] = [];
  let acc = 0;
  let bits = fill;
  for (const s of septets) {
    acc |= s << bits;
    bits += 7;
    while (bits >= 8) {
      out.push(acc & 0xff);
      acc >>>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) {
    out.push(acc & 0xff);
  }
  return out;
}

/** Text of letters, digits and plain punctuation: the same code points in GSM 7-bit as in ASCII. */
const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));

// 2026-12-02 07:30:00 at +01:00 (4 quarter hours), semi-octets swapped.
const SCTS = [0x62, 0x21, 0x20, 0x70, 0x03, 0x00, 0x40];
const SENT_AT = Date.UTC(2026, 11, 2, 6, 30, 0);
// +4917012345678, international.
const ORIGINATOR = [0x0d, 0x91, 0x94, 0x71, 0x10, 0x32, 0x54, 0x76, 0xf8];

function deliver(o: {
  dcs: number;
  udl: number;
  ud: number[];
  header?: boolean;
  originator?: number[];
}): Uint8Array {
  return Uint8Array.from([
    0x04 | (o.header ? 0x40 : 0),
    ...(o.originator ?? ORIGINATOR),
    0x00,
    o.dcs,
    ...SCTS,
    o.udl,
    ...o.ud,
  ]);
}

describe('an SMS-DELIVER (3GPP TS 23.040)', () => {
  it('reads the classic "hellohello" example: 7-bit text, a national originator, a +2 h time stamp', () => {
    // The SMS-DELIVER of dreamfabric's PDU example, without the modem's SMSC prefix.
    const sms = readSmsDeliver(hex('040BC87238880900F10000993092516195800AE8329BFD4697D9EC37'));
    expect(sms).toEqual({
      originator: '27838890001',
      sentAt: Date.UTC(1999, 2, 29, 13, 16, 59),
      text: 'hellohello',
      immediate: false,
      part: undefined,
    });
  });

  it('reads GSM 7-bit text with the extension table (€, [ ]) and an international originator', () => {
    const septets = [...ascii('Price: 5'), 0x1b, 0x65, ...ascii(' '), 0x1b, 0x3c, ...ascii('ok'), 0x1b, 0x3e];
    const sms = readSmsDeliver(deliver({ dcs: 0x00, udl: septets.length, ud: pack(septets) }));
    expect(sms).toMatchObject({ originator: '+4917012345678', sentAt: SENT_AT, text: 'Price: 5€ [ok]' });
  });

  it('reads UCS-2 text (any script), and class 0 as immediate', () => {
    const text = 'Stau auf der A9 🚗 渋滞';
    const ud = [...Buffer.from(text, 'utf16le').swap16()];
    expect(readSmsDeliver(deliver({ dcs: 0x08, udl: ud.length, ud }))).toMatchObject({
      text,
      immediate: false,
    });
    expect(readSmsDeliver(deliver({ dcs: 0x18, udl: ud.length, ud }))).toMatchObject({
      text,
      immediate: true,
    });
    expect(readSmsDeliver(deliver({ dcs: 0xf0, udl: 2, ud: pack(ascii('Hi')) }))).toMatchObject({
      text: 'Hi',
      immediate: true,
    });
  });

  it('reads an alphanumeric originator', () => {
    const name = pack(ascii('Bank'));
    const sms = readSmsDeliver(
      deliver({ dcs: 0x00, udl: 2, ud: pack(ascii('ok')), originator: [7, 0xd0, ...name] }),
    );
    expect(sms.originator).toBe('Bank');
  });

  it('reads the part of a concatenated text after its user data header, on the next septet boundary', () => {
    const header = [0x05, 0x00, 0x03, 0xa7, 0x02, 0x01];
    const septets = ascii('Running late, ');
    // 6 octets of header are 48 bits: 1 fill bit to the 7th septet.
    const ud = [...header, ...pack(septets, 1)];
    const sms = readSmsDeliver(deliver({ dcs: 0x00, udl: 7 + septets.length, ud, header: true }));
    expect(sms).toMatchObject({ text: 'Running late, ', part: { reference: 0xa7, total: 2, sequence: 1 } });
    const ucs = [0x06, 0x08, 0x04, 0x12, 0x34, 0x02, 0x02, ...Buffer.from('\u0000b', 'latin1')];
    expect(readSmsDeliver(deliver({ dcs: 0x08, udl: ucs.length, ud: ucs, header: true }))).toMatchObject({
      text: 'b',
      part: { reference: 0x1234, total: 2, sequence: 2 },
    });
  });

  it('says what is wrong with one it cannot read', () => {
    expect(() => readSmsDeliver(hex('01'))).toThrow(SmsError);
    expect(() => readSmsDeliver(hex('040BC87238880900F100'))).toThrow(/ends before its data coding scheme/);
    expect(() => readSmsDeliver(deliver({ dcs: 0x00, udl: 20, ud: pack(ascii('short')) }))).toThrow(
      /fewer than its 20 septets/,
    );
    expect(() => readSmsDeliver(deliver({ dcs: 0x20, udl: 1, ud: [0] }))).toThrow(/compressed/);
    expect(() => readSmsDeliver(deliver({ dcs: 0x80, udl: 1, ud: [0] }))).toThrow(/reserved/);
  });
});

describe('the relay layer (TS 24.011, as TS 24.341 carries it)', () => {
  it('reads RP-DATA: reference, service centre and TPDU; answers with RP-ACK or RP-ERROR', () => {
    const tpdu = hex('040BC87238880900F10000993092516195800AE8329BFD4697D9EC37');
    const rp = Uint8Array.from([
      0x01,
      0x2a,
      0x07,
      0x91,
      0x94,
      0x71,
      0x10,
      0x32,
      0x54,
      0xf6,
      0x00,
      tpdu.length,
      ...tpdu,
    ]);
    expect(readRpData(rp)).toEqual({ reference: 0x2a, serviceCentre: '+49170123456', tpdu });
    expect([...rpAck(0x2a)]).toEqual([0x02, 0x2a]);
    expect([...rpError(0x2a, 95)]).toEqual([0x04, 0x2a, 0x01, 95]);
  });

  it('refuses what is not RP-DATA, keeping the reference to answer with where there is one', () => {
    expect(() => readRpData(hex('03 2a'))).toThrow(RpError);
    try {
      readRpData(hex('03 2a'));
    } catch (e) {
      expect(e).toMatchObject({ reference: 0x2a, rpCause: 97 });
    }
    try {
      readRpData(hex('01 07 05 91'));
    } catch (e) {
      expect(e).toMatchObject({ reference: 7, rpCause: 111 });
    }
  });
});

describe('a text in several SMS', () => {
  const part = (sequence: number, total: number, text: string, reference = 1): SmsDeliver => ({
    originator: '+4917012345678',
    sentAt: SENT_AT,
    text,
    immediate: false,
    part: { reference, total, sequence },
  });

  it('is handed on whole once its last part is in, whatever their order', () => {
    const texts: string[] = [];
    const parts = new Reassembly(new ManualClock(), (_first, text) => texts.push(text));
    parts.add(part(3, 3, 'you can.'));
    parts.add(part(1, 3, 'Running late, '));
    parts.add(part(1, 2, 'Other ', 2));
    expect(texts).toEqual([]);
    parts.add(part(2, 3, 'call me when '));
    expect(texts).toEqual(['Running late, call me when you can.']);
  });

  it('is handed on with its gap marked when a part never comes', () => {
    const clock = new ManualClock();
    const texts: string[] = [];
    const parts = new Reassembly(clock, (_first, text) => texts.push(text));
    parts.add(part(1, 3, 'Running late, '));
    parts.add(part(3, 3, 'you can.'));
    clock.advance(PART_WAIT_MS - 1);
    expect(texts).toEqual([]);
    clock.advance(1);
    expect(texts).toEqual(['Running late, […]you can.']);
  });
});

describe('SMS from a network that sends anything', () => {
  it('reads 20 000 mutated and random PDUs into a text or an SmsError, nothing else', () => {
    const rand = seeded(7);
    const valid = [
      ...hex('01 21 07 91 94 71 10 32 54 f6 00 1c 040BC87238880900F10000993092516195800AE8329BFD4697D9EC37'),
    ];
    const outcomes = { text: 0, refused: 0 };
    for (let i = 0; i < 20_000; i++) {
      const bytes =
        i % 2 === 0
          ? valid.map((b) => (rand() < 0.05 ? Math.floor(rand() * 256) : b)).slice(0, Math.floor(rand() * 48))
          : Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256));
      try {
        const rp = readRpData(Uint8Array.from(bytes));
        expect(typeof readSmsDeliver(rp.tpdu).text).toBe('string');
        outcomes.text++;
      } catch (e) {
        expect(e).toBeInstanceOf(SmsError);
        outcomes.refused++;
      }
    }
    // Both outcomes came up often: the mutations reached the decoder and its checks.
    expect(outcomes.text).toBeGreaterThan(500);
    expect(outcomes.refused).toBeGreaterThan(5000);
  });
});

describe('the parts of a text held across a restart', () => {
  const part = (sequence: number, total: number, text: string): SmsDeliver => ({
    originator: '+4917012345678',
    sentAt: SENT_AT,
    text,
    immediate: false,
    part: { reference: 9, total, sequence },
  });

  it('are kept as they come, and a restored part completes the text with the rest', () => {
    const clock = new ManualClock();
    const kept: SmsDeliver[][] = [];
    const texts: string[] = [];
    const before = new Reassembly(
      clock,
      (_f, text) => texts.push(text),
      (held) => kept.push(held),
    );
    before.add(part(1, 2, 'Running late, '));
    expect(kept.at(-1)).toEqual([part(1, 2, 'Running late, ')]);
    // carphoned starts again: a new one takes what the last one kept.
    const after = new Reassembly(
      clock,
      (_f, text) => texts.push(text),
      (held) => kept.push(held),
    );
    after.restore(kept.at(-1) ?? []);
    after.add(part(2, 2, 'call me.'));
    expect(texts).toEqual(['Running late, call me.']);
    expect(kept.at(-1)).toEqual([]);
  });
});
