import { describe, expect, it } from 'vitest';
import { seeded } from '../../../bench/jitter/traces.js';
import { ControlError, parseControl } from '../../../service/ecall/control.js';
import {
  answerOffer,
  createOffer,
  offeredDirection,
  readAnswer,
  SdpError,
} from '../../../service/sdp/offer-answer.js';
import { MultipartError, parseMultipart } from '../../../service/sip/multipart.js';
import { mutate } from '../../harness/sip-fuzz.js';

/**
 * The bodies SIP messages carry, each parser fed 5000 seeded mutations of a well-formed one: it must
 * return, or throw its own error type, which the SIP layer turns into a response. Any other exception
 * (a TypeError from a missing field, a RangeError) would reach a catch-all instead.
 */
const MUTATIONS = 5000;

/** `body` mutated line by line, as mutate() does to a message's body. */
function mutatedBodies(body: string, seed: number): string[] {
  const rand = seeded(seed);
  return Array.from({ length: MUTATIONS }, () => {
    const message = mutate(`X\r\nContent-Length: 0\r\n\r\n${body}`, rand);
    return message.slice(message.indexOf('\r\n\r\n') + 4);
  });
}

/** The errors `parse` threw for the bodies that are not of `expected`'s type, and how many it read. */
function outcomes(bodies: string[], parse: (b: string) => unknown, expected: new (...a: never[]) => Error) {
  const foreign: string[] = [];
  let parsed = 0;
  for (const body of bodies) {
    try {
      parse(body);
      parsed++;
    } catch (e) {
      if (!(e instanceof expected)) {
        foreign.push(`${e instanceof Error ? e.name : typeof e}: ${String(e)}`);
      }
    }
  }
  return { foreign, parsed, refused: bodies.length - parsed - foreign.length };
}

const local = { address: '127.0.0.1', port: 20000, sessionId: 42, version: 1 };
const offer =
  createOffer(local) +
  'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n';

describe('bodies of SIP messages, mutated', () => {
  it('SDP offers and answers: SdpError or a result', () => {
    const bodies = mutatedBodies(offer, 1);
    for (const parse of [
      (b: string) => answerOffer(b, local, 'sendrecv'),
      (b: string) => readAnswer(b, 'optional'),
      (b: string) => offeredDirection(b),
    ]) {
      const r = outcomes(bodies, parse, SdpError);
      expect(r.foreign).toEqual([]);
      expect(r.parsed).toBeGreaterThan(MUTATIONS / 10);
    }
  });

  it('eCall control blocks: ControlError or a block', () => {
    const control =
      '<?xml version="1.0" encoding="UTF-8"?>\r\n' +
      '<EmergencyCallData.Control xmlns="urn:ietf:params:xml:ns:EmergencyCallData:control">\r\n' +
      '<ack received="true" ref="cid:msd1@car"/>\r\n<request action="send-data" datatype="eCall.MSD"/>\r\n' +
      '<request action="lamp" element-id="hazard-lights" requested-state="flash"/>\r\n</EmergencyCallData.Control>';
    const r = outcomes(mutatedBodies(control, 2), parseControl, ControlError);
    expect(r.foreign).toEqual([]);
    expect(r.parsed).toBeGreaterThan(MUTATIONS / 10);
    expect(r.refused).toBeGreaterThan(MUTATIONS / 10);
  });

  it('multipart bodies: MultipartError or the parts', () => {
    const multipart =
      '--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n--b1\r\n' +
      'Content-Type: application/EmergencyCallData.eCall.MSD\r\nContent-ID: <msd1@car>\r\n\r\n\x01\x02\r\n--b1--\r\n';
    const r = outcomes(mutatedBodies(multipart, 3), (b) => parseMultipart(b, 'b1'), MultipartError);
    expect(r.foreign).toEqual([]);
    expect(r.parsed).toBeGreaterThan(MUTATIONS / 10);
    expect(r.refused).toBeGreaterThan(MUTATIONS / 10);
  });
});
