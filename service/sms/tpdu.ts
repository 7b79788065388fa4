import { gsm7Text, unpackSeptets } from './gsm7.js';

/**
 * SMS-DELIVER, the TPDU that brings a text to the phone (3GPP TS 23.040 §9.2.2.1): who sent it, when
 * the service centre took it, how its text is coded, and the concatenation header of a text sent in
 * parts. A malformed one throws SmsError with what is wrong.
 */
export class SmsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SmsError';
  }
}

export interface ConcatenationPart {
  /** The sender's reference for the whole message; the same in each of its parts. */
  reference: number;
  total: number;
  /** 1-based. */
  sequence: number;
}

export interface SmsDeliver {
  /** The sender's number ("+" for an international one), or its alphanumeric name. */
  originator: string;
  /** The service centre's time stamp, ms since the epoch (its time zone applied). */
  sentAt: number;
  text: string;
  /** Class 0 ("flash"): shown at once, not stored (TS 23.038 §4). */
  immediate: boolean;
  part: ConcatenationPart | undefined;
}

/** Reads octets, each read checked against the end: a TPDU that is too short says so, it does not read zeros. */
export class Reader {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}

  octet(what: string): number {
    const v = this.bytes[this.at];
    if (v === undefined) {
      throw new SmsError(`the TPDU ends before its ${what}`);
    }
    this.at++;
    return v;
  }

  take(n: number, what: string): Uint8Array {
    if (this.at + n > this.bytes.length) {
      throw new SmsError(`the TPDU ends inside its ${what}`);
    }
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  rest(): Uint8Array {
    return this.bytes.subarray(this.at);
  }
}

/** Semi-octets, low nibble first, up to `digits` of them or an F filler: BCD numbers and time stamps. */
export function semiOctets(octets: Uint8Array, digits = octets.length * 2): string {
  let out = '';
  for (let i = 0; i < digits; i++) {
    const nibble = ((octets[i >> 1] ?? 0xff) >> ((i & 1) * 4)) & 0x0f;
    if (nibble === 0x0f) {
      break;
    }
    out += '0123456789*#abc'[nibble] ?? '';
  }
  return out;
}

/** An address: TON/NPI, then BCD digits or (type 5) GSM 7-bit text (TS 23.040 §9.1.2.5). */
export function readAddress(toa: number, value: Uint8Array, digits: number): string {
  const type = (toa >> 4) & 0x07;
  if (type === 0b101) {
    return gsm7Text(unpackSeptets(value, Math.floor((digits * 4) / 7)));
  }
  return `${type === 0b001 ? '+' : ''}${semiOctets(value, digits)}`;
}

/** A service centre time stamp (TS 23.040 §9.2.3.11): ms since the epoch, its time zone applied. */
export function timeStamp(octets: Uint8Array): number {
  const two = (i: number): number => {
    const o = octets[i] ?? 0;
    return (o & 0x0f) * 10 + (o >> 4);
  };
  const tz = octets[6] ?? 0;
  // Quarter hours, its sign in bit 3 of the tens digit.
  const quarters = ((tz & 0x07) * 10 + (tz >> 4)) * (tz & 0x08 ? -1 : 1);
  const year = two(0);
  const utc = Date.UTC(year < 70 ? 2000 + year : 1900 + year, two(1) - 1, two(2), two(3), two(4), two(5));
  return utc - quarters * 15 * 60_000;
}

/** The concatenation element of a user data header (IEI 0x00, 8-bit reference; 0x08, 16-bit). */
function concatenation(header: Uint8Array): ConcatenationPart | undefined {
  for (let i = 0; i + 1 < header.length;) {
    const iei = header[i] ?? 0;
    const len = header[i + 1] ?? 0;
    const data = header.subarray(i + 2, i + 2 + len);
    if (iei === 0x00 && len === 3) {
      return { reference: data[0] ?? 0, total: data[1] ?? 0, sequence: data[2] ?? 0 };
    }
    if (iei === 0x08 && len === 4) {
      return {
        reference: ((data[0] ?? 0) << 8) | (data[1] ?? 0),
        total: data[2] ?? 0,
        sequence: data[3] ?? 0,
      };
    }
    i += 2 + len;
  }
  return undefined;
}

/** The text's alphabet and whether it is class 0, from the data coding scheme (TS 23.038 §4). */
function dataCoding(dcs: number): { alphabet: 'gsm7' | '8bit' | 'ucs2'; immediate: boolean } {
  const group = dcs >> 4;
  const alphabets = ['gsm7', '8bit', 'ucs2'] as const;
  if (group <= 0x07) {
    // General data coding, and the same marked for automatic deletion.
    if (dcs & 0x20) {
      throw new SmsError('compressed text (TS 23.042) is not read');
    }
    const alphabet = alphabets[(dcs >> 2) & 0x03];
    if (!alphabet) {
      throw new SmsError(`data coding scheme 0x${dcs.toString(16)} names a reserved alphabet`);
    }
    return { alphabet, immediate: (dcs & 0x10) !== 0 && (dcs & 0x03) === 0 };
  }
  if (group === 0x0c || group === 0x0d || group === 0x0e) {
    // Message waiting indications, which carry text too.
    return { alphabet: group === 0x0e ? 'ucs2' : 'gsm7', immediate: false };
  }
  if (group === 0x0f) {
    return { alphabet: dcs & 0x04 ? '8bit' : 'gsm7', immediate: (dcs & 0x03) === 0 };
  }
  throw new SmsError(`data coding scheme 0x${dcs.toString(16)} is reserved`);
}

export function readSmsDeliver(tpdu: Uint8Array): SmsDeliver {
  const r = new Reader(tpdu);
  const first = r.octet('first octet');
  if ((first & 0x03) !== 0x00) {
    throw new SmsError(`not an SMS-DELIVER (TP-MTI ${first & 0x03})`);
  }
  const hasHeader = (first & 0x40) !== 0;
  const digits = r.octet('originator length');
  const toa = r.octet('originator type');
  const originator = readAddress(toa, r.take(Math.ceil(digits / 2), 'originator'), digits);
  r.octet('protocol identifier');
  const dcs = r.octet('data coding scheme');
  const sentAt = timeStamp(r.take(7, 'time stamp'));
  const udl = r.octet('user data length');
  const ud = r.rest();
  const { alphabet, immediate } = dataCoding(dcs);
  const headerLength = hasHeader ? (ud[0] ?? 0) + 1 : 0;
  if (headerLength > ud.length) {
    throw new SmsError('the user data header is longer than the user data');
  }
  const part = hasHeader ? concatenation(ud.subarray(1, headerLength)) : undefined;
  let text: string;
  if (alphabet === 'gsm7') {
    if (Math.ceil((udl * 7) / 8) > ud.length) {
      throw new SmsError(`the user data holds fewer than its ${udl} septets`);
    }
    text = gsm7Text(unpackSeptets(ud, udl, Math.ceil((headerLength * 8) / 7)));
  } else {
    if (udl > ud.length) {
      throw new SmsError(`the user data holds fewer than its ${udl} octets`);
    }
    const body = ud.subarray(headerLength, udl);
    text =
      alphabet === 'ucs2'
        ? new TextDecoder('utf-16be').decode(body)
        : // 8-bit data is not text; where it comes as a text message anyway, read it as Latin-1.
          Buffer.from(body).toString('latin1');
  }
  return { originator, sentAt, text, immediate, part };
}
