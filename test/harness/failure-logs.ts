import type { Carphoned } from './carphoned.js';

/**
 * The messages carphoned logs when an exception reached one of its catch-alls: the SIP request
 * handler (which answers 500), an effect or event listener, a D-Bus handler (which answers
 * org.ofono.Error.Failed "internal error"), or the process's last resort. Input from outside that
 * produces one of these found a bug, even though the daemon kept running.
 */
const CAUGHT_BY_A_CATCH_ALL =
  /"msg":"(uncaught exception \(kept running\)|unhandled rejection|request handling failed|effect failed|incoming message dropped|D-Bus handler failed|[a-z]* ?listener failed)"/;

export function failuresLogged(daemon: Carphoned): string[] {
  return daemon.child.output.filter((line) => CAUGHT_BY_A_CATCH_ALL.test(line));
}
