import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/**
 * Where carphoned keeps what must outlive it (the call log, an eCall in progress): the directory
 * systemd made for the service (StateDirectory=, passed as $STATE_DIRECTORY, the first of a
 * colon-separated list), else $XDG_STATE_HOME/carphone, else ~/.local/state/carphone. The XDG base
 * directory rules ignore a relative $XDG_STATE_HOME, and so does this.
 */
export function stateDirectory(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const systemd = env['STATE_DIRECTORY']?.split(':')[0];
  if (systemd && isAbsolute(systemd)) {
    return systemd;
  }
  const xdg = env['XDG_STATE_HOME'];
  return join(xdg && isAbsolute(xdg) ? xdg : join(home, '.local', 'state'), 'carphone');
}
