import { ip } from './nat-network.js';

/**
 * A car's network links and the operator's core in one network namespace the test creates: veth pairs
 * for the car's modem (`wwan0`) and Wi-Fi (`wlan0`), whose addresses the test gives, changes and takes
 * away as an LTE reconnection or a hotspot coming into range does, and `core0` (10.77.9.1, where
 * kamailio and the far-end phone listen). Nothing reaches the host's own interfaces.
 */
export class ModemNetwork {
  readonly coreAddress = '10.77.9.1';
  readonly modem = 'wwan0';
  readonly wifi = 'wlan0';
  private readonly addresses = new Map<string, string>();

  private constructor(readonly netns: string) {}

  static create(modemAddress: string): ModemNetwork {
    const net = new ModemNetwork(`cp${process.pid % 100_000}-modem`);
    try {
      ip('netns', 'add', net.netns);
      ip('-n', net.netns, 'link', 'set', 'lo', 'up');
      ip('-n', net.netns, 'link', 'add', net.modem, 'type', 'veth', 'peer', 'name', 'core0');
      ip('-n', net.netns, 'link', 'add', net.wifi, 'type', 'veth', 'peer', 'name', 'ap0');
      ip('-n', net.netns, 'addr', 'add', `${net.coreAddress}/24`, 'dev', 'core0');
      for (const link of [net.modem, 'core0', net.wifi, 'ap0']) {
        ip('-n', net.netns, 'link', 'set', link, 'up');
      }
      net.setAddress(net.modem, modemAddress);
    } catch (e) {
      net.destroy();
      throw e;
    }
    return net;
  }

  /** `link`'s one IPv4 address from now on (a /24); none, as between losing a connection and the next. */
  setAddress(link: string, address: string | undefined): void {
    const before = this.addresses.get(link);
    if (before !== undefined) {
      ip('-n', this.netns, 'addr', 'del', `${before}/24`, 'dev', link);
      this.addresses.delete(link);
    }
    if (address !== undefined) {
      ip('-n', this.netns, 'addr', 'add', `${address}/24`, 'dev', link);
      this.addresses.set(link, address);
    }
  }

  /** `link`'s address now, if it has one. */
  addressOf(link: string): string | undefined {
    return this.addresses.get(link);
  }

  destroy(): void {
    try {
      ip('netns', 'del', this.netns);
    } catch {
      // Not made, or gone already.
    }
  }
}
