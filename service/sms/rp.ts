import { bcdAddress } from './submit.js';
import { readAddress, SmsError } from './tpdu.js';

/**
 * The relay layer of SMS over IP (3GPP TS 24.341, carrying TS 24.011's RP messages): an SMS reaches
 * the phone as RP-DATA in the body of a SIP MESSAGE, and the phone answers it, in a MESSAGE of its
 * own, with RP-ACK or RP-ERROR.
 */
export const SMS_CONTENT_TYPE = 'application/vnd.3gpp.sms';

/** RP message type indicators (TS 24.011 §8.2.2). */
const RP_DATA_FROM_MS = 0x00;
const RP_DATA_TO_MS = 0x01;
const RP_ACK_FROM_MS = 0x02;
const RP_ACK_TO_MS = 0x03;
const RP_ERROR_FROM_MS = 0x04;
const RP_ERROR_TO_MS = 0x05;

/** RP-Cause values the phone sends (TS 24.011 §8.2.5.4, table 8.4). */
export const RP_CAUSE = {
  semanticallyIncorrect: 95,
  messageTypeNonExistent: 97,
  protocolError: 111,
} as const;

/**
 * RP-Cause values of an RP-ERROR to an SMS the phone sent that say the failure passes soon (TS 24.011
 * table 8.4): temporary failure (41, "try another attempt almost immediately"), congestion (42) and
 * resources unavailable (47). Network out of order (38) is expected to last, and every other cause is
 * about this text or this subscriber.
 */
export const PASSING_RP_CAUSES: readonly number[] = [41, 42, 47];

export interface RpData {
  /** RP-Message Reference: the answer carries it back. */
  reference: number;
  /** The service centre's number (RP-Originator Address). */
  serviceCentre: string;
  tpdu: Uint8Array;
}

export class RpError extends SmsError {
  constructor(
    message: string,
    readonly reference: number | undefined,
    readonly rpCause: number,
  ) {
    super(message);
  }
}

export function readRpData(bytes: Uint8Array): RpData {
  const mti = bytes[0];
  const reference = bytes[1];
  if (mti === undefined || reference === undefined) {
    throw new RpError('the RP message is shorter than its header', undefined, RP_CAUSE.protocolError);
  }
  if ((mti & 0x07) !== RP_DATA_TO_MS) {
    throw new RpError(
      `RP message type ${mti & 0x07} is not RP-DATA`,
      reference,
      RP_CAUSE.messageTypeNonExistent,
    );
  }
  let at = 2;
  const lv = (what: string): Uint8Array => {
    const len = bytes[at];
    if (len === undefined || at + 1 + len > bytes.length) {
      throw new RpError(`the RP-DATA ends inside its ${what}`, reference, RP_CAUSE.protocolError);
    }
    const value = bytes.subarray(at + 1, at + 1 + len);
    at += 1 + len;
    return value;
  };
  const originator = lv('originator address');
  lv('destination address');
  const tpdu = lv('user data');
  const toa = originator[0];
  const serviceCentre =
    toa === undefined ? '' : readAddress(toa, originator.subarray(1), (originator.length - 1) * 2);
  return { reference, serviceCentre, tpdu };
}

export function rpAck(reference: number): Uint8Array {
  return Uint8Array.of(RP_ACK_FROM_MS, reference);
}

export function rpError(reference: number, cause: number): Uint8Array {
  return Uint8Array.of(RP_ERROR_FROM_MS, reference, 1, cause);
}

/** RP-DATA from the phone: an SMS-SUBMIT for the service centre `serviceCentre` (RP-Destination Address). */
export function rpDataToNetwork(reference: number, serviceCentre: string, tpdu: Uint8Array): Uint8Array {
  const sc = bcdAddress(serviceCentre);
  return Uint8Array.from([
    RP_DATA_FROM_MS,
    reference & 0xff,
    0x00,
    1 + sc.value.length,
    sc.toa,
    ...sc.value,
    tpdu.length,
    ...tpdu,
  ]);
}

/** The service centre's answer to an SMS the phone sent: RP-ACK, or RP-ERROR with its cause. */
export type RpAnswer =
  { kind: 'ack'; reference: number } | { kind: 'error'; reference: number; cause: number };

/** An RP-ACK or RP-ERROR to the phone; none for any other RP message. */
export function readRpAnswer(bytes: Uint8Array): RpAnswer | undefined {
  const mti = (bytes[0] ?? 0xff) & 0x07;
  const reference = bytes[1];
  if (reference === undefined) {
    return undefined;
  }
  if (mti === RP_ACK_TO_MS) {
    return { kind: 'ack', reference };
  }
  if (mti === RP_ERROR_TO_MS) {
    // RP-Cause is LV: its first value octet holds the cause (bit 8 the extension flag).
    return { kind: 'error', reference, cause: (bytes[3] ?? 0) & 0x7f };
  }
  return undefined;
}
