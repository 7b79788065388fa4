import { describe, expect, it } from 'vitest';
import { hopOf, numericHop } from '../../../service/sip/next-hop-resolver.js';

describe('numeric next hops', () => {
  it('sends to an IPv4 address as it is, on the protocol default port unless one is given', () => {
    expect(numericHop({ protocol: 'UDP', host: '192.0.2.1', port: undefined })).toEqual({
      protocol: 'UDP',
      address: '192.0.2.1',
      port: 5060,
    });
    expect(numericHop({ protocol: 'TLS', host: '192.0.2.1', port: undefined })?.port).toBe(5061);
    expect(numericHop({ protocol: 'TCP', host: '192.0.2.1', port: 5080 })?.port).toBe(5080);
  });

  it('sends to an IPv6 reference as its address, without the brackets a URI writes it in', () => {
    const hop = hopOf('sip:[2001:db8::1]:5080;transport=tcp');
    expect(hop).toEqual({ protocol: 'TCP', host: '2001:db8::1', port: 5080 });
    expect(hop && numericHop(hop)).toEqual({ protocol: 'TCP', address: '2001:db8::1', port: 5080 });
    expect(numericHop({ protocol: 'UDP', host: '::1', port: undefined })?.port).toBe(5060);
  });

  it('leaves host names, and digits that are no IPv4 address, to DNS', () => {
    for (const host of ['proxy.example', '999.1.1.1', '1.2.3', '1.2.3.4.5']) {
      expect(numericHop({ protocol: 'UDP', host, port: undefined }), host).toBeUndefined();
    }
  });
});
