import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../service/core/clock.js';
import { silentLogger } from '../../../service/log/logger.js';
import { startWatchdog, watchdogPlan } from '../../../service/daemon/systemd-watchdog.js';

describe("systemd's watchdog, as sd_watchdog_enabled(3) reads the environment", () => {
  it('is fed at half of WatchdogSec on the socket systemd names, when it is meant for this process', () => {
    const env = { WATCHDOG_USEC: '20000000', NOTIFY_SOCKET: '/run/systemd/notify' };
    expect(watchdogPlan(env, 42)).toEqual({
      kind: 'feed',
      socket: '/run/systemd/notify',
      intervalMs: 10_000,
    });
    expect(watchdogPlan({ ...env, WATCHDOG_PID: '42' }, 42)).toMatchObject({ kind: 'feed' });
    expect(watchdogPlan({ ...env, NOTIFY_SOCKET: '@/org/freedesktop/systemd1/notify' }, 42)).toMatchObject({
      socket: '@/org/freedesktop/systemd1/notify',
    });
  });

  it('is off without WatchdogSec, or when it is meant for another process', () => {
    expect(watchdogPlan({ NOTIFY_SOCKET: '/run/systemd/notify' }, 42)).toEqual({ kind: 'off' });
    expect(
      watchdogPlan(
        { WATCHDOG_USEC: '20000000', WATCHDOG_PID: '7', NOTIFY_SOCKET: '/run/systemd/notify' },
        42,
      ),
    ).toEqual({ kind: 'off' });
  });

  it('names what is wrong with a watchdog it cannot feed', () => {
    expect(watchdogPlan({ WATCHDOG_USEC: '20s', NOTIFY_SOCKET: '/run/n' }, 42)).toEqual({
      kind: 'misconfigured',
      reason: 'WATCHDOG_USEC=20s is not a positive number of microseconds',
    });
    expect(watchdogPlan({ WATCHDOG_USEC: '0', NOTIFY_SOCKET: '/run/n' }, 42)).toMatchObject({
      kind: 'misconfigured',
    });
    expect(watchdogPlan({ WATCHDOG_USEC: '20000000' }, 42)).toEqual({
      kind: 'misconfigured',
      reason: 'WATCHDOG_USEC is set but NOTIFY_SOCKET is not',
    });
  });

  it('feeds it from the event loop at every interval until stopped, and a failed send does not stop it', () => {
    const clock = new ManualClock();
    const sent: string[] = [];
    let refuse = false;
    const stop = startWatchdog(
      { WATCHDOG_USEC: '2000000', NOTIFY_SOCKET: '/run/n' },
      1,
      clock,
      silentLogger,
      {
        send: (socket, message) => {
          if (refuse) {
            throw new Error('ECONNREFUSED');
          }
          sent.push(`${socket} ${message}`);
        },
      },
    );
    expect(sent).toEqual(['/run/n WATCHDOG=1']);
    clock.advance(999);
    expect(sent).toHaveLength(1);
    clock.advance(1);
    expect(sent).toHaveLength(2);
    refuse = true;
    clock.advance(1000);
    refuse = false;
    clock.advance(1000);
    expect(sent).toHaveLength(3);
    stop();
    clock.advance(5000);
    expect(sent).toHaveLength(3);
  });
});
