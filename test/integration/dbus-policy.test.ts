import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OfonoClient } from '../../service/client/ofono-client.js';
import { Carphoned, REPO } from '../harness/carphoned.js';
import { PrivateBus } from '../harness/dbus-daemon.js';

/** dbus-send as another user than the test's: the uid the policy files name nowhere. */
const NOBODY = 65534;

function dbusSend(address: string, uid: number | undefined, args: string[]): { ok: boolean; output: string } {
  const r = spawnSync('dbus-send', [`--bus=${address}`, '--print-reply', ...args], {
    encoding: 'utf8',
    ...(uid === undefined ? {} : { uid, gid: uid }),
  });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

// The deb installs dist/dbus/org.carphone.conf (and org.ofono.conf for carphone as oFono) in
// /etc/dbus-1/system.d; on the system bus nothing may own a name or be called without such a file.
describe.each([
  { file: 'dist/dbus/org.carphone.conf', name: 'org.carphone' },
  { file: 'dist/dbus/org.ofono.conf', name: 'org.ofono' },
])('the system bus policy $file', ({ file, name }) => {
  let bus: PrivateBus;
  let daemon: Carphoned;
  let client: OfonoClient;

  beforeAll(async () => {
    bus = await PrivateBus.startSystemLike([join(REPO, file)]);
    daemon = await Carphoned.start({
      dbus: { bus: bus.address, name },
      accounts: [{ id: 'sip0', user: '1000', domain: '127.0.0.1' }],
    });
    client = await daemon.client(name);
  });

  afterAll(async () => {
    client?.disconnect();
    await daemon?.stop();
    await bus?.stop();
  });

  it(`lets carphoned (here as root) own ${name} and be called`, async () => {
    const modems = (await client.call('/', 'org.ofono.Manager', 'GetModems')) as unknown[];
    expect(modems).toHaveLength(1);
    const asRoot = dbusSend(bus.address, undefined, [`--dest=${name}`, '/', 'org.ofono.Manager.GetModems']);
    expect(asRoot.output).toContain('/sip0');
  });

  it('refuses a user it does not name: no calls to carphoned, and not the name', () => {
    const call = dbusSend(bus.address, NOBODY, [`--dest=${name}`, '/', 'org.ofono.Manager.GetModems']);
    expect(call.ok).toBe(false);
    expect(call.output).toContain('org.freedesktop.DBus.Error.AccessDenied');
    const own = dbusSend(bus.address, NOBODY, [
      '--dest=org.freedesktop.DBus',
      '/org/freedesktop/DBus',
      'org.freedesktop.DBus.RequestName',
      `string:${name}`,
      'uint32:0',
    ]);
    expect(own.ok).toBe(false);
    expect(own.output).toContain('org.freedesktop.DBus.Error.AccessDenied');
  });
});
