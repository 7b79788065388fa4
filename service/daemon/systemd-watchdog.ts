import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Clock, TimerHandle } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import { packageFile } from '../core/package-files.js';
import type { Logger } from '../log/logger.js';

const NOTIFY_ADDON = 'native/udp/build/Release/carphone_notify.node';

export type WatchdogPlan =
  | { kind: 'off' }
  | { kind: 'feed'; socket: string; intervalMs: number }
  | { kind: 'misconfigured'; reason: string };

/**
 * What systemd asks of the process, as sd_watchdog_enabled(3) reads it: WATCHDOG_USEC (the unit's
 * WatchdogSec=) for this process (WATCHDOG_PID, when given, is its pid), and NOTIFY_SOCKET to report
 * to. The watchdog is fed at half its interval, as systemd recommends.
 */
export function watchdogPlan(env: NodeJS.ProcessEnv, pid: number): WatchdogPlan {
  const usec = env['WATCHDOG_USEC'];
  if (usec === undefined || usec === '') {
    return { kind: 'off' };
  }
  const forPid = env['WATCHDOG_PID'];
  if (forPid !== undefined && forPid !== '' && forPid !== String(pid)) {
    return { kind: 'off' };
  }
  if (!/^[0-9]+$/.test(usec) || Number(usec) === 0) {
    return {
      kind: 'misconfigured',
      reason: `WATCHDOG_USEC=${usec} is not a positive number of microseconds`,
    };
  }
  const socket = env['NOTIFY_SOCKET'];
  if (socket === undefined || socket === '') {
    return { kind: 'misconfigured', reason: 'WATCHDOG_USEC is set but NOTIFY_SOCKET is not' };
  }
  return { kind: 'feed', socket, intervalMs: Math.max(1, Number(usec) / 2000) };
}

/** Sends one sd_notify(3) message. */
export interface NotifySender {
  send(socket: string, message: string): void;
}

/** native/udp's second addon (notify_socket.c): Node's dgram has no AF_UNIX datagrams. */
export function notifySender(): NotifySender | { reason: string } {
  const path = packageFile(NOTIFY_ADDON);
  if (!existsSync(path)) {
    return { reason: `${NOTIFY_ADDON} is not built (npm ci builds it with node-gyp)` };
  }
  try {
    return createRequire(import.meta.url)(path) as NotifySender;
  } catch (e) {
    return { reason: `${NOTIFY_ADDON} did not load: ${errorMessage(e)}` };
  }
}

/**
 * Feeds systemd's watchdog (WatchdogSec= in carphoned.service) from a timer of the event loop: a
 * daemon whose event loop hangs stops feeding it, and systemd kills and restarts it; an eCall in
 * progress is then resumed from the state directory. Returns how to stop.
 */
export function startWatchdog(
  env: NodeJS.ProcessEnv,
  pid: number,
  clock: Clock,
  logger: Logger,
  sender: NotifySender | { reason: string } = notifySender(),
): () => void {
  const plan = watchdogPlan(env, pid);
  if (plan.kind === 'off') {
    return () => undefined;
  }
  if (plan.kind === 'misconfigured') {
    logger.error({ reason: plan.reason }, 'systemd watchdog not fed');
    return () => undefined;
  }
  if ('reason' in sender) {
    logger.error({ reason: sender.reason }, 'systemd watchdog not fed: systemd will restart the daemon');
    return () => undefined;
  }
  let timer: TimerHandle | undefined;
  const feed = (): void => {
    try {
      sender.send(plan.socket, 'WATCHDOG=1');
    } catch (e) {
      logger.warn({ err: errorMessage(e), socket: plan.socket }, 'systemd watchdog not reached');
    }
    timer = clock.setTimeout(feed, plan.intervalMs);
  };
  feed();
  logger.info({ intervalMs: plan.intervalMs }, 'feeding the systemd watchdog');
  return () => clock.clearTimeout(timer);
}
