import { readAddress, Reader, SmsError, timeStamp } from './tpdu.js';

/**
 * SMS-STATUS-REPORT (3GPP TS 23.040 §9.2.2.3): the service centre's word on one SMS the phone sent
 * with TP-SRR set, by its TP-MR: whether it reached the recipient's phone.
 */
export const STATUS_REPORT_MTI = 0x02;

/** What a report's TP-ST (§9.2.3.15) says of the SMS. */
export type DeliveryOutcome =
  /** Transaction completed (0x00-0x1F): received by the recipient, or forwarded or replaced. */
  | 'delivered'
  /** Temporary error, the centre still trying (0x20-0x3F): a later report follows. */
  | 'still-trying'
  /** Permanent error, or a temporary one the centre gave up on (0x40-0x7F); reserved values too. */
  | 'failed';

export interface SmsStatusReport {
  /** TP-MR of the SMS-SUBMIT it reports on. */
  reference: number;
  /** TP-RA: the recipient, as the centre writes it (often international where it was sent national). */
  recipient: string;
  /** TP-DT: when the centre delivered it or gave up, ms since the epoch. */
  dischargedAt: number;
  /** TP-ST. */
  status: number;
  outcome: DeliveryOutcome;
}

export function deliveryOutcome(status: number): DeliveryOutcome {
  if (status <= 0x1f) {
    return 'delivered';
  }
  return status <= 0x3f ? 'still-trying' : 'failed';
}

export function readSmsStatusReport(tpdu: Uint8Array): SmsStatusReport {
  const r = new Reader(tpdu);
  const first = r.octet('first octet');
  if ((first & 0x03) !== STATUS_REPORT_MTI) {
    throw new SmsError(`not an SMS-STATUS-REPORT (TP-MTI ${first & 0x03})`);
  }
  const reference = r.octet('message reference');
  const digits = r.octet('recipient length');
  if (digits > 20) {
    throw new SmsError(`a recipient address of ${digits} digits is longer than TS 23.040 allows`);
  }
  const toa = r.octet('recipient type');
  const recipient = readAddress(toa, r.take(Math.ceil(digits / 2), 'recipient'), digits);
  r.take(7, 'service centre time stamp');
  const dischargedAt = timeStamp(r.take(7, 'discharge time'));
  const status = r.octet('status');
  return { reference, recipient, dischargedAt, status, outcome: deliveryOutcome(status) };
}

/** A text sent as SMS with status reports asked for: the parts whose report has not come. */
export interface AwaitedReports {
  recipient: string;
  /** TP-MRs of the parts not yet reported delivered. */
  references: number[];
}

/**
 * What `report` makes of a text awaiting `awaited`: none where it is not this text's report (another
 * part's reference, another recipient); else the text still waiting (the centre still trying, or parts
 * left), failed, or delivered once every part is.
 */
export function takeReport(
  awaited: AwaitedReports,
  report: SmsStatusReport,
  sameRecipient: (a: string, b: string) => boolean,
): { delivery: 'waiting' | 'delivered' | 'failed'; awaited: AwaitedReports } | undefined {
  if (!awaited.references.includes(report.reference) || !sameRecipient(awaited.recipient, report.recipient)) {
    return undefined;
  }
  if (report.outcome === 'still-trying') {
    return { delivery: 'waiting', awaited };
  }
  if (report.outcome === 'failed') {
    return { delivery: 'failed', awaited: { ...awaited, references: [] } };
  }
  const references = awaited.references.filter((r) => r !== report.reference);
  return { delivery: references.length > 0 ? 'waiting' : 'delivered', awaited: { ...awaited, references } };
}
