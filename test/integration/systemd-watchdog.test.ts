import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cHarness } from '../harness/c-harness.js';
import { Carphoned } from '../harness/carphoned.js';
import { PrivateBus } from '../harness/dbus-daemon.js';
import { Child } from '../harness/process.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// carphoned.service sets WatchdogSec=; systemd passes it as WATCHDOG_USEC with the socket to report to.
// notify-receiver.c stands in for systemd's end of that socket.
describe("systemd's watchdog", () => {
  let bus: PrivateBus;
  let receiver: Child;
  let daemon: Carphoned;
  const socket = join(mkdtempSync(join(tmpdir(), 'carphone-notify-')), 'notify');

  beforeAll(async () => {
    receiver = new Child(
      'notify-receiver',
      cHarness(new URL('../harness/notify-receiver.c', import.meta.url), []),
      [socket],
    );
    await receiver.waitForLine(/^listening$/);
    bus = await PrivateBus.start();
  });

  afterAll(async () => {
    await daemon?.stop();
    await receiver?.stop('SIGTERM', 2000);
    await bus?.stop();
  });

  it('is fed WATCHDOG=1 through NOTIFY_SOCKET at half of WatchdogSec for as long as the daemon runs', async () => {
    daemon = await Carphoned.start(
      { dbus: { bus: bus.address }, accounts: [{ id: 'sip0', user: '1000', domain: '127.0.0.1' }] },
      [],
      { NOTIFY_SOCKET: socket, WATCHDOG_USEC: '2000000' },
    );
    await sleep(5200);
    const pings = receiver.output
      .map((line) => /^(\d+) WATCHDOG=1$/.exec(line))
      .filter((m) => m !== null)
      .map((m) => Number(m[1]));
    expect(pings.length).toBeGreaterThanOrEqual(4);
    // Half of the 2 s WatchdogSec; the median, as a busy machine may delay a timer now and then.
    const gaps = pings
      .slice(1)
      .map((t, i) => t - (pings[i] ?? 0))
      .sort((a, b) => a - b);
    const median = gaps[Math.floor(gaps.length / 2)] ?? 0;
    expect(median).toBeGreaterThan(800);
    expect(median).toBeLessThan(1300);
    expect(receiver.output.filter((l) => !/^(listening|\d+ WATCHDOG=1)$/.test(l))).toEqual([]);
    await daemon.stop();
    const fed = receiver.output.length;
    await sleep(2200);
    expect(receiver.output.length).toBe(fed);
  });
});
