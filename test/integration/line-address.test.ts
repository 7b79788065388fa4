import type { NetworkInterfaceInfo } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../service/core/clock.js';
import { CarphoneError } from '../../service/core/errors.js';
import { parseConfig } from '../../service/config/load.js';
import { Line } from '../../service/daemon/line.js';
import type { InterfaceTable } from '../../service/daemon/listen-address.js';
import { silentLogger } from '../../service/log/logger.js';
import { NullDevice } from '../../service/media/devices/null-device.js';
import { RtpMediaFactory } from '../../service/media/rtp-session.js';
import { Kamailio } from '../harness/kamailio.js';
import { waitFor } from '../harness/process.js';

let kam: Kamailio | undefined;
let line: Line | undefined;

afterEach(async () => {
  await line?.powerOff();
  await kam?.stop();
  line = kam = undefined;
});

/** An interface table as os.networkInterfaces() gives it, with wwan0 holding `address` (or nothing). */
function withModemAddress(address: string | undefined): InterfaceTable {
  const entry = (a: string): NetworkInterfaceInfo => ({
    address: a,
    netmask: '255.0.0.0',
    family: 'IPv4',
    mac: '00:00:00:00:00:00',
    internal: false,
    cidr: `${a}/8`,
  });
  return address === undefined ? { wwan0: [] } : { wwan0: [entry(address)] };
}

/**
 * A line for an account bound to wwan0, whose interface table `interfaces` gives; registering with
 * `registrarPort` on loopback where given.
 */
function lineOnModem(interfaces: () => InterfaceTable, registrarPort?: number): Line {
  const account = parseConfig({
    accounts: [
      {
        id: 'sip0',
        user: '1000',
        password: 'secret-1000',
        domain: '127.0.0.1',
        ...(registrarPort !== undefined ? { registrar: `sip:127.0.0.1:${registrarPort}` } : {}),
        listen: { interface: 'wwan0' },
      },
    ],
  }).accounts[0];
  if (!account) {
    throw new Error('no account parsed');
  }
  line = new Line(account, {
    clock: systemClock,
    logger: silentLogger,
    media: (address) => new RtpMediaFactory(address, account.rtpPorts, new NullDevice(), silentLogger),
    interfaces,
  });
  return line;
}

describe('a line bound to a network interface', () => {
  it('comes up when the interface gets an address, and registers again from the new one when it changes', async () => {
    kam = await Kamailio.start({ users: [{ user: '1000', password: 'secret-1000' }] });
    let table = withModemAddress(undefined);
    const modemLine = lineOnModem(() => table, kam.port);
    const registrations: string[] = [];
    modemLine.events.on('registration', (status) => registrations.push(status));
    const kamailioSaw = (address: string): boolean =>
      new RegExp(`REQ REGISTER .* from ${address.replace(/\./g, '\\.')}:\\d+ proto=udp`).test(
        kam?.log() ?? '',
      );

    // No address yet (the modem is still attaching): the line stays off and says why.
    await expect(modemLine.powerOn()).rejects.toThrow(CarphoneError);
    await expect(modemLine.powerOn()).rejects.toThrow(/wwan0 has no IPv4 address/);
    expect(modemLine.powered).toBe(false);

    /** The modem now holds `address` (or none), and the daemon's periodic check has looked. */
    const modemGets = async (address: string | undefined): Promise<void> => {
      table = withModemAddress(address);
      await modemLine.followAddress();
    };
    const registeredFrom = async (address: string): Promise<void> => {
      expect(modemLine.sipAddress?.startsWith(`${address}:`)).toBe(true);
      await waitFor(
        `registered from ${address}`,
        () => registrations.at(-1) === 'registered' && kamailioSaw(address),
      );
    };

    await modemGets('127.0.0.2');
    await registeredFrom('127.0.0.2');
    await modemGets('127.0.0.3');
    await registeredFrom('127.0.0.3');

    // The address gone (out of coverage): off until one comes back.
    await modemGets(undefined);
    expect(modemLine.powered).toBe(false);
    await modemGets('127.0.0.4');
    expect(modemLine.sipAddress).toMatch(/^127\.0\.0\.4:/);
  });

  it('stays off when powered off on request, whatever its interface does', async () => {
    let table = withModemAddress('127.0.0.2');
    const modemLine = lineOnModem(() => table);
    await modemLine.powerOn();
    await modemLine.powerOff();
    table = withModemAddress('127.0.0.3');
    await modemLine.followAddress();
    expect(modemLine.powered).toBe(false);
  });

  it('goes down as its first REGISTER goes out without writing to the closed SIP socket', async () => {
    kam = await Kamailio.start({ users: [{ user: '1000', password: 'secret-1000' }] });
    const thrown: unknown[] = [];
    const onUncaught = (e: unknown): void => {
      thrown.push(e);
    };
    process.on('uncaughtException', onUncaught);
    try {
      const modemLine = lineOnModem(() => withModemAddress('127.0.0.2'), kam.port);
      // As when the modem's address changes the moment the line came up: the REGISTER's transaction
      // sends on the next tick, after the socket is closed, and retransmits 500 ms later.
      await modemLine.powerOn();
      await modemLine.powerOff();
      await new Promise((r) => setTimeout(r, 1200));
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(thrown).toEqual([]);
  });
});
