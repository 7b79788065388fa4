import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { listenAddress } from '../../../service/daemon/listen-address.js';

const info = (address: string, family: 'IPv4' | 'IPv6'): NetworkInterfaceInfo =>
  family === 'IPv4'
    ? { address, family, netmask: '255.255.255.0', mac: '02:00:00:00:00:01', internal: false, cidr: null }
    : {
        address,
        family,
        netmask: 'ffff::',
        mac: '02:00:00:00:00:01',
        internal: false,
        cidr: null,
        scopeid: 0,
      };

describe("a line's listening address", () => {
  it('is the configured address, or 127.0.0.1 when none is configured', () => {
    expect(listenAddress({ address: '10.1.2.3' }, {})).toBe('10.1.2.3');
    expect(listenAddress({}, {})).toBe('127.0.0.1');
  });

  it("is the interface's IPv4 address, passing over IPv6 ones", () => {
    const table = { wwan0: [info('2001:db8::5', 'IPv6'), info('10.64.1.7', 'IPv4')] };
    expect(listenAddress({ interface: ['wwan0'] }, table)).toBe('10.64.1.7');
  });

  it("is the interface's global IPv6 address where the line asks for IPv6, never a link-local one", () => {
    const table = {
      wwan0: [info('10.64.1.7', 'IPv4'), info('fe80::1', 'IPv6'), info('2001:db8::5', 'IPv6')],
    };
    expect(listenAddress({ interface: ['wwan0'], family: 'ipv6' }, table)).toBe('2001:db8::5');
    expect(
      listenAddress({ interface: ['wwan0'], family: 'ipv6' }, { wwan0: [info('fe80::1', 'IPv6')] }),
    ).toBeUndefined();
  });

  it('is none while the interface is missing or has only IPv6', () => {
    expect(listenAddress({ interface: ['wwan0'] }, {})).toBeUndefined();
    expect(listenAddress({ interface: ['wwan0'] }, { wwan0: [info('2001:db8::5', 'IPv6')] })).toBeUndefined();
  });

  it('is on the first interface of a list that has an address: Wi-Fi while it has one, else the modem', () => {
    const place = { interface: ['wlan0', 'wwan0'] };
    const modem = { wwan0: [info('10.64.1.7', 'IPv4')] };
    expect(listenAddress(place, { ...modem, wlan0: [info('192.168.4.20', 'IPv4')] })).toBe('192.168.4.20');
    expect(listenAddress(place, { ...modem, wlan0: [] })).toBe('10.64.1.7');
    expect(listenAddress(place, modem)).toBe('10.64.1.7');
    expect(listenAddress(place, { wlan0: [info('fe80::1', 'IPv6')] })).toBeUndefined();
  });

  it("reads the machine's own interfaces by default: lo holds 127.0.0.1", () => {
    expect(listenAddress({ interface: ['lo'] })).toBe('127.0.0.1');
  });
});
