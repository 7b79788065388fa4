import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * The eCall control block of RFC 8147 §9.1 (application/EmergencyCallData.Control+xml): what the PSAP
 * sends (an <ack> of the MSD, <request>s) and what the IVS sends back (its <capabilities> in the INVITE,
 * an <ack> with an <actionResult> for a request it cannot carry out).
 */
export const CONTROL_NS = 'urn:ietf:params:xml:ns:EmergencyCallData:control';

export interface ActionResult {
  action: string;
  success: boolean;
  reason?: string;
}

export interface ControlAck {
  ref?: string;
  received: boolean;
  /** What became of each action requested (the IVS's ack of PSAP requests). */
  results: ActionResult[];
}

export interface ControlRequest {
  action: string;
  datatype?: string;
  /** Every attribute, for logging and for the reply. */
  attributes: Record<string, string>;
}

export interface ControlBlock {
  acks: ControlAck[];
  requests: ControlRequest[];
  /** The actions an IVS says it can carry out (<capabilities>). */
  capabilities: string[];
}

export class ControlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ControlError';
  }
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  removeNSPrefix: true,
  isArray: (name) => name === 'ack' || name === 'request' || name === 'actionResult',
  processEntities: false,
});

type Element = Record<string, unknown>;

function attributes(e: Element): Record<string, string> {
  return Object.fromEntries(
    Object.entries(e)
      .filter(([, v]) => typeof v === 'string' || typeof v === 'number')
      .map(([k, v]) => [k, String(v)]),
  );
}

/** xs:boolean as an attribute: "true" or "1". */
function isTrue(v: unknown): boolean {
  return typeof v === 'string' && (v.toLowerCase() === 'true' || v === '1');
}

/** Reads a control block; ControlError for anything that is not well-formed control XML. */
export function parseControl(xml: string): ControlBlock {
  if (xml.length > 65536 || XMLValidator.validate(xml) !== true) {
    throw new ControlError('the control block is not well-formed XML');
  }
  let doc: Element;
  try {
    doc = parser.parse(xml) as Element;
  } catch (e) {
    // The validator passes some documents the parser then refuses (a processing instruction left open).
    throw new ControlError(
      `the control block is not well-formed XML (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  const root = doc['EmergencyCallData.Control'] as Element | undefined;
  if (!root || typeof root !== 'object') {
    throw new ControlError('no EmergencyCallData.Control element');
  }
  const list = (name: string): Element[] =>
    ((root[name] as Element[] | undefined) ?? []).filter((e) => e && typeof e === 'object');
  return {
    acks: list('ack').map((a) => ({
      ...(typeof a.ref === 'string' ? { ref: a.ref } : {}),
      received: isTrue(a.received),
      results: ((a.actionResult as Element[] | undefined) ?? [])
        .filter((r) => r && typeof r === 'object' && typeof r.action === 'string')
        .map((r) => ({
          action: String(r.action),
          success: isTrue(r.success),
          ...(typeof r.reason === 'string' ? { reason: r.reason } : {}),
        })),
    })),
    capabilities: (() => {
      const caps = root.capabilities as Element | undefined;
      const requests =
        caps && typeof caps === 'object' ? ((caps.request as Element[] | undefined) ?? []) : [];
      return requests.filter((r) => typeof r.action === 'string').map((r) => String(r.action));
    })(),
    requests: list('request')
      .filter((r) => typeof r.action === 'string')
      .map((r) => ({
        action: String(r.action),
        ...(typeof r.datatype === 'string' ? { datatype: r.datatype } : {}),
        attributes: attributes(r),
      })),
  };
}

function escape(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** What this IVS can do on request: send a fresh MSD (RFC 8147 §9.1.2). */
export function capabilitiesBlock(): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<EmergencyCallData.Control xmlns="${CONTROL_NS}">` +
    `<capabilities><request action="send-data" supportedDatatype="eCall.MSD"/></capabilities>` +
    `</EmergencyCallData.Control>`
  );
}

/** The IVS's answer to requests it cannot carry out: an <ack> with one <actionResult> each. */
export function unsupportedAck(ref: string | undefined, requests: ControlRequest[]): string {
  const results = requests
    .map(
      (r) =>
        `<actionResult action="${escape(r.action)}" success="false" reason="unsupported" details="${escape(
          `this vehicle cannot carry out "${r.action}"`,
        )}"/>`,
    )
    .join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<EmergencyCallData.Control xmlns="${CONTROL_NS}">` +
    `<ack${ref ? ` ref="${escape(ref)}"` : ''} received="true">${results}</ack>` +
    `</EmergencyCallData.Control>`
  );
}
