import { describe, expect, it } from 'vitest';
import {
  capabilitiesBlock,
  ControlError,
  parseControl,
  unsupportedAck,
} from '../../../service/ecall/control.js';

describe('eCall control blocks (RFC 8147 §9.1)', () => {
  it("reads the PSAP's ack of the MSD and its requests", () => {
    const block = parseControl(
      '<?xml version="1.0" encoding="UTF-8"?><EmergencyCallData.Control xmlns="urn:ietf:params:xml:ns:EmergencyCallData:control">' +
        '<ack received="true" ref="cid:msd1@car"/><request action="send-data" datatype="eCall.MSD"/><request action="lamp" element-id="hazard-lights" requested-state="flash"/>' +
        '</EmergencyCallData.Control>',
    );
    expect(block.acks).toEqual([{ ref: 'cid:msd1@car', received: true, results: [] }]);
    expect(block.requests.map((r) => r.action)).toEqual(['send-data', 'lamp']);
    expect(block.requests[0]?.datatype).toBe('eCall.MSD');
    expect(block.requests[1]?.attributes).toMatchObject({ 'element-id': 'hazard-lights' });
  });

  it('writes capabilities and an unsupported ack that read back as such', () => {
    expect(parseControl(capabilitiesBlock()).capabilities).toEqual(['send-data']);
    const ack = parseControl(
      unsupportedAck('cid:req@psap', [{ action: 'honk', attributes: { action: 'honk' } }]),
    ).acks[0];
    expect(ack).toEqual({
      ref: 'cid:req@psap',
      received: true,
      results: [{ action: 'honk', success: false, reason: 'unsupported' }],
    });
  });

  it('refuses XML that is not well-formed or not a control block, with a ControlError', () => {
    for (const bad of [
      '<ack',
      '<a></b>',
      '<other/>',
      'x'.repeat(70000),
      '<!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>',
    ]) {
      expect(() => parseControl(bad)).toThrow(ControlError);
    }
  });
});
