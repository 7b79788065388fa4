import { describe, expect, it } from 'vitest';
import { stateDirectory } from '../../../service/daemon/state-directory.js';

describe('where carphoned keeps its state', () => {
  it('uses the directory systemd made for the service (StateDirectory=), the first of several', () => {
    expect(stateDirectory({ STATE_DIRECTORY: '/var/lib/carphone' }, '/home/u')).toBe('/var/lib/carphone');
    expect(
      stateDirectory(
        { STATE_DIRECTORY: '/var/lib/carphone:/var/lib/other', XDG_STATE_HOME: '/x' },
        '/home/u',
      ),
    ).toBe('/var/lib/carphone');
  });

  it('falls back to $XDG_STATE_HOME/carphone, then ~/.local/state/carphone', () => {
    expect(stateDirectory({ XDG_STATE_HOME: '/srv/state' }, '/home/u')).toBe('/srv/state/carphone');
    expect(stateDirectory({}, '/home/u')).toBe('/home/u/.local/state/carphone');
  });

  it('ignores relative or empty paths, as the XDG base directory rules say', () => {
    expect(stateDirectory({ STATE_DIRECTORY: 'relative', XDG_STATE_HOME: 'also/relative' }, '/home/u')).toBe(
      '/home/u/.local/state/carphone',
    );
    expect(stateDirectory({ STATE_DIRECTORY: '', XDG_STATE_HOME: '' }, '/home/u')).toBe(
      '/home/u/.local/state/carphone',
    );
  });
});
