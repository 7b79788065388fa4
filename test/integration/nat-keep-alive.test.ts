import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OfonoClient } from '../../service/client/ofono-client.js';
import { carBehindNat } from '../harness/car-behind-nat.js';
import type { Carphoned } from '../harness/carphoned.js';
import { ctl } from '../harness/carphonectl.js';
import { PrivateBus } from '../harness/dbus-daemon.js';
import { Kamailio } from '../harness/kamailio.js';
import { NatNetwork } from '../harness/nat-network.js';
import { waitFor } from '../harness/process.js';
import { Sipp } from '../harness/sipp.js';

/**
 * A car behind a NAT that forgets idle UDP mappings after 4 s (a carrier-grade NAT's 30 s or more,
 * shortened), registered with kamailio in the operator's core, and called from there 10 s later.
 */
const NAT_UDP_TIMEOUT_SECONDS = 4;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let net: NatNetwork;
let bus: PrivateBus;
let kam: Kamailio;
let daemon: Carphoned | undefined;
let client: OfonoClient | undefined;
let sipp: Sipp | undefined;

beforeAll(async () => {
  net = NatNetwork.create(NAT_UDP_TIMEOUT_SECONDS);
  bus = await PrivateBus.start();
  kam = await Kamailio.start({
    users: [{ user: '1000', password: 'secret-1000' }],
    address: net.coreAddress,
    netns: net.core,
    behindNat: true,
  });
}, 30_000);

afterEach(async () => {
  sipp?.child.proc.kill('SIGKILL');
  client?.disconnect();
  await daemon?.stop();
  sipp = client = daemon = undefined;
});

afterAll(async () => {
  await kam?.stop();
  await bus?.stop();
  net?.destroy();
});

/** carphoned in the car, registered with kamailio through the NAT; its D-Bus client once registered. */
async function carRegistered(keepAliveSeconds: number): Promise<OfonoClient> {
  ({ daemon, client } = await carBehindNat(net, kam, bus.address, { keepAliveSeconds }));
  return client;
}

/** The NAT's public ports that REGISTERs came from, since `mark` in kamailio's log. */
function registeredFrom(mark: number): string[] {
  return kam
    .logSince(mark)
    .map((l) => /REQ REGISTER .* from 10\.77\.2\.1:(\d+) /.exec(l)?.[1])
    .filter((p): p is string => p !== undefined);
}

/** A caller in the core calls 1000 through kamailio; resolves with whether the car's phone rang. */
async function callTheCar(c: OfonoClient): Promise<boolean> {
  sipp = await Sipp.start(
    'call-through-proxy-uac.xml',
    ['-s', '1000', `${kam.address}:${kam.port}`],
    {},
    { netns: net.core, address: net.coreAddress },
  );
  try {
    await waitFor('the car rings', async () => (await c.calls('/sip0')).length > 0, 6000);
  } catch {
    return false;
  }
  await c.manager('/sip0', 'HangupAll');
  return (await sipp.exitCode()) === 0;
}

describe('a car behind a NAT that forgets idle UDP mappings', () => {
  it('can be called at once, but not once its mapping is forgotten, without keep-alives', async () => {
    const c = await carRegistered(0);
    expect(await callTheCar(c)).toBe(true);
    await sleep((NAT_UDP_TIMEOUT_SECONDS + 6) * 1000);
    expect(await callTheCar(c)).toBe(false);
  }, 60_000);

  it('is called 10 s after registering when it sends keep-alives, and the caller hears it ring', async () => {
    const start = kam.logMark();
    const c = await carRegistered(2);
    // Where kamailio saw the REGISTER come from, the NAT's public address, is what the line shows.
    const [port] = registeredFrom(start);
    expect((await c.properties('/sip0', 'org.carphone.SipAccount')).PublicAddress).toBe(
      `${net.publicAddress}:${port}`,
    );
    expect((await ctl(bus.address, 'status')).stdout).toContain(
      `registered sip:1000@${net.coreAddress} public ${net.publicAddress}:${port}`,
    );
    const mark = kam.logMark();
    await sleep((NAT_UDP_TIMEOUT_SECONDS + 6) * 1000);
    // Each keep-alive came through the NAT from the one mapping the registration made: no REGISTER more.
    const seen = kam.logSince(mark).join('\n');
    expect((seen.match(/REQ OPTIONS /g) ?? []).length).toBeGreaterThanOrEqual(4);
    expect(seen).not.toMatch(/REQ REGISTER/);
    expect(await callTheCar(c)).toBe(true);
  }, 40_000);

  it('registers again from its new public port when the NAT forgets it between keep-alives, and is called there', async () => {
    // Keep-alives further apart than the NAT keeps a mapping: each finds a new one (a rebinding).
    const start = kam.logMark();
    const c = await carRegistered(NAT_UDP_TIMEOUT_SECONDS + 2);
    const mark = kam.logMark();
    const signalsBefore = c.signals.length;
    await waitFor('a REGISTER after the first', () => registeredFrom(mark).length > 0, 20_000);
    const [first] = registeredFrom(start);
    const [again] = registeredFrom(mark);
    expect(first).toBeDefined();
    expect(again).not.toBe(first);
    expect(daemon?.log(200)).toMatch(/new public address: registering again/);
    // The registrar was there all along: the line registered again without seeming to lose service.
    const registrationShown = c.signals
      .slice(signalsBefore)
      .filter((s) => s.member === 'PropertyChanged' && s.args[0] === 'Registration')
      .map((s) => s.args[1]);
    expect(registrationShown).not.toContain('registering');
    // The call comes within the NAT's timeout of that REGISTER, so the new mapping still stands.
    await waitFor(
      'registered again from the new port',
      async () =>
        (await c.properties('/sip0', 'org.carphone.SipAccount')).PublicAddress ===
        `${net.publicAddress}:${again}`,
      5000,
    );
    expect(await callTheCar(c)).toBe(true);
  }, 60_000);
});
