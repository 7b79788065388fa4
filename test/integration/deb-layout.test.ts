import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO } from '../harness/carphoned.js';
import { inPackage, packageApp, resourcesInstalledBy, serviceCommand } from '../harness/packaged-app.js';

// What the deb's maintainer script and systemd unit name must be where electron-builder puts it.
// (The daemon run from the package, as the unit runs it, is in echo-line.test.ts.)
describe("the deb's layout (electron-builder.yml)", () => {
  let root: string;

  beforeAll(() => {
    root = packageApp();
  }, 120_000);

  afterAll(() => {
    if (root) {
      rmSync(dirname(dirname(root)), { recursive: true, force: true });
    }
  });

  it('holds the D-Bus policy and the systemd unit that its postinst installs', () => {
    const installed = resourcesInstalledBy(readFileSync(join(REPO, 'dist/debian/postinst.sh'), 'utf8'));
    expect(installed).toEqual(['dbus/org.carphone.conf', 'systemd/carphoned.service']);
    for (const file of installed) {
      expect(readFileSync(join(root, 'resources', file), 'utf8')).toBe(
        readFileSync(join(REPO, 'dist', file), 'utf8'),
      );
    }
  });

  it('holds the compiled daemon where the unit runs it, with the files it reads at run time', () => {
    const unit = serviceCommand(readFileSync(join(REPO, 'dist/systemd/carphoned.service'), 'utf8'));
    expect(unit.argv[0]).toBe('/usr/bin/node');
    expect(existsSync(inPackage(root, unit.argv[1] ?? ''))).toBe(true);
    const app = inPackage(root, unit.workingDirectory);
    for (const file of [
      'package.json',
      'native/jitter/jitter.wasm',
      'native/udp/build/Release/carphone_udp.node',
      'native/udp/build/Release/carphone_notify.node',
      'can/bindings/carphone-reference.yaml',
      'node_modules/dbus-next/package.json',
    ]) {
      expect(existsSync(join(app, file)), file).toBe(true);
    }
  });

  it("its postinst, run twice in a mount namespace over copies of /etc and /opt, makes the service's user and the clients' group and installs the policy and the unit", () => {
    const sandbox = mkdtempSync(join(tmpdir(), 'carphone-postinst-'));
    const script = [
      'set -e',
      `mkdir -p ${sandbox}/etc ${sandbox}/opt/carphone`,
      `cp -a /etc/. ${sandbox}/etc/`,
      `mount --bind ${root} ${sandbox}/opt/carphone`,
      `mount --bind ${sandbox}/etc /etc`,
      `mount --rbind ${sandbox}/opt /opt`,
      `sh ${join(REPO, 'dist/debian/postinst.sh')}`,
      `sh ${join(REPO, 'dist/debian/postinst.sh')}`,
      'getent passwd carphone | cut -d: -f1,6,7',
      'id -gn carphone',
      'getent group carphone-clients | cut -d: -f1',
      `cmp /etc/dbus-1/system.d/org.carphone.conf ${join(REPO, 'dist/dbus/org.carphone.conf')} && echo policy`,
      `cmp /etc/systemd/system/carphoned.service ${join(REPO, 'dist/systemd/carphoned.service')} && echo unit`,
    ].join('\n');
    const r = spawnSync('unshare', ['--mount', 'sh', '-c', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual([
      'carphone:/var/lib/carphone:/usr/sbin/nologin',
      'carphone',
      'carphone-clients',
      'policy',
      'unit',
    ]);
    // The machine's own /etc was not touched.
    expect(spawnSync('getent', ['passwd', 'carphone']).status).not.toBe(0);
  });

  it('installs a systemd unit that systemd-analyze reads without a warning', () => {
    // The unit names Debian's /usr/bin/node; this machine's Node.js stands in for it.
    const unit = readFileSync(join(REPO, 'dist/systemd/carphoned.service'), 'utf8').replace(
      'ExecStart=/usr/bin/node ',
      `ExecStart=${process.execPath} `,
    );
    const dir = mkdtempSync(join(tmpdir(), 'carphone-unit-'));
    writeFileSync(join(dir, 'carphoned.service'), unit);
    const r = spawnSync('systemd-analyze', ['verify', join(dir, 'carphoned.service')], { encoding: 'utf8' });
    expect(r.stderr.trim()).toBe('');
    expect(r.status).toBe(0);
  });

  it('does not restart a daemon that stopped on a configuration error, which restarting cannot mend', () => {
    const unit = readFileSync(join(REPO, 'dist/systemd/carphoned.service'), 'utf8');
    expect(unit).toMatch(/^Restart=always$/m);
    expect(unit).toMatch(/^RestartPreventExitStatus=2$/m);
    // 2 is what the daemon run as the unit runs it exits with on a bad key.
    const config = join(mkdtempSync(join(tmpdir(), 'carphone-unit-config-')), 'carphoned.yaml');
    writeFileSync(
      config,
      'accounts:\n  - id: sip0\n    user: "1000"\n    domain: example.com\n    registrar: nope\n',
    );
    const service = serviceCommand(unit);
    const r = spawnSync(process.execPath, [inPackage(root, service.argv[1] ?? ''), '--config', config], {
      cwd: inPackage(root, service.workingDirectory),
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/config error at accounts\[0\]\.registrar/);
  });

  it("holds the HMI's main process that Electron starts (package.json main)", () => {
    const app = join(root, 'resources/app');
    const { main } = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { main: string };
    expect(existsSync(join(app, main))).toBe(true);
    expect(existsSync(join(app, 'app/preload/index.cjs'))).toBe(true);
    expect(existsSync(join(app, 'app/renderer/dist/renderer.js'))).toBe(true);
  });
});
