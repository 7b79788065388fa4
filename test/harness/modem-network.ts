import { execFileSync } from 'node:child_process';

const ip = (...args: string[]): void => {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

/**
 * A car's modem and the operator's core in one network namespace the test creates: a veth pair,
 * `wwan0` (the modem, whose address the test changes or takes away as an LTE reconnection does) and
 * `core0` (10.77.9.1, where kamailio and the far-end phone listen). Nothing reaches the host's own
 * interfaces.
 */
export class ModemNetwork {
  readonly coreAddress = '10.77.9.1';
  readonly modem = 'wwan0';
  private modemAddress: string | undefined;

  private constructor(readonly netns: string) {}

  static create(modemAddress: string): ModemNetwork {
    const net = new ModemNetwork(`cp${process.pid % 100_000}-modem`);
    try {
      ip('netns', 'add', net.netns);
      ip('-n', net.netns, 'link', 'set', 'lo', 'up');
      ip('-n', net.netns, 'link', 'add', net.modem, 'type', 'veth', 'peer', 'name', 'core0');
      ip('-n', net.netns, 'addr', 'add', `${net.coreAddress}/24`, 'dev', 'core0');
      for (const link of [net.modem, 'core0']) {
        ip('-n', net.netns, 'link', 'set', link, 'up');
      }
      net.setModemAddress(modemAddress);
    } catch (e) {
      net.destroy();
      throw e;
    }
    return net;
  }

  /** The modem's one IPv4 address from now on; none, as between losing a connection and the next. */
  setModemAddress(address: string | undefined): void {
    if (this.modemAddress !== undefined) {
      ip('-n', this.netns, 'addr', 'del', `${this.modemAddress}/24`, 'dev', this.modem);
    }
    this.modemAddress = undefined;
    if (address !== undefined) {
      ip('-n', this.netns, 'addr', 'add', `${address}/24`, 'dev', this.modem);
      this.modemAddress = address;
    }
  }

  destroy(): void {
    try {
      ip('netns', 'del', this.netns);
    } catch {
      // Not made, or gone already.
    }
  }
}
