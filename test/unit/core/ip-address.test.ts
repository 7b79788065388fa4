import { SocketAddress } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  addressOfHost,
  endpointText,
  hostOfAddress,
  ipFamily,
  ipv4Text,
  ipv6Text,
} from '../../../service/core/ip-address.js';

describe('IP addresses as text', () => {
  it('brackets an IPv6 address as a host and unbrackets it as an address, leaving IPv4 and names alone', () => {
    expect(hostOfAddress('2001:db8::1')).toBe('[2001:db8::1]');
    expect(hostOfAddress('192.0.2.1')).toBe('192.0.2.1');
    expect(addressOfHost('[2001:db8::1]')).toBe('2001:db8::1');
    expect(addressOfHost('[not-an-address]')).toBe('[not-an-address]');
    expect(addressOfHost('ims.example.net')).toBe('ims.example.net');
    expect(endpointText('::1', 5060)).toBe('[::1]:5060');
    expect(endpointText('127.0.0.1', 5060)).toBe('127.0.0.1:5060');
    expect([ipFamily('::1'), ipFamily('127.0.0.1'), ipFamily('[::1]'), ipFamily('host')]).toEqual([
      6,
      4,
      undefined,
      undefined,
    ]);
  });

  it("writes an address from its words as Node's inet_ntop does (RFC 5952), for 2000 with runs of zeros", () => {
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let n = 0; n < 2000; n++) {
      // Each group zero with a probability of one half, so that runs of every length and place occur.
      const groups = Array.from({ length: 8 }, () => (random() < 0.5 ? 0 : Math.floor(random() * 0x10000)));
      const words = [0, 2, 4, 6].map((g) => ((groups[g] ?? 0) * 0x10000 + (groups[g + 1] ?? 0)) >>> 0);
      const full = groups.map((g) => g.toString(16)).join(':');
      const expected = new SocketAddress({ address: full, family: 'ipv6' }).address;
      expect(ipv6Text(words as [number, number, number, number]), full).toBe(expected);
    }
    expect(ipv4Text(0x7f000001)).toBe('127.0.0.1');
    expect(ipv4Text(0xc0000201)).toBe('192.0.2.1');
  });
});
