import { writeTone } from '../harness/audio.js';
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OfonoClient } from '../../service/client/ofono-client.js';
import { Carphoned, REPO } from '../harness/carphoned.js';
import { PrivateBus } from '../harness/dbus-daemon.js';
import { freePort } from '../harness/ports.js';
import { Child, waitFor } from '../harness/process.js';
import { processIds } from '../harness/process-table.js';

const carphoned = join(REPO, 'service/bin/carphoned.ts');

/** The command lines of the processes whose environment holds `mark`. */
function processesMarked(mark: string): string[] {
  const found: string[] = [];
  for (const pid of processIds()) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').includes(`CARPHONE_TEST_MARK=${mark}`)) {
        found.push(readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' '));
      }
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/**
 * Runs carphoned to its end; `leftBehind` lists the processes it started that outlived it (marked by
 * an environment variable every child inherits).
 */
function runDaemon(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; stdout: string; stderr: string; leftBehind: string[] }> {
  const mark = `carphone-test-${randomUUID()}`;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', carphoned, ...args],
      // Its state (the call log) in a directory of its own, not the user's.
      {
        cwd: REPO,
        timeout: 20_000,
        env: {
          ...env,
          CARPHONE_TEST_MARK: mark,
          XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'carphoned-state-')),
        },
      },
      (err, stdout, stderr) => {
        const code = err && typeof err.code === 'number' ? err.code : err ? 1 : 0;
        resolve({ code, stdout, stderr, leftBehind: processesMarked(mark) });
      },
    );
  });
}

describe('carphoned on embedded defaults', () => {
  it('starts its own bus when none is reachable, prints DBUS_ADDRESS, and the *43 echo line answers', async () => {
    const env = { ...process.env };
    delete env.DBUS_SESSION_BUS_ADDRESS;
    const daemon = new Child('carphoned', process.execPath, ['--import', 'tsx', carphoned], {
      cwd: REPO,
      env,
    });
    try {
      const [, address = ''] = await daemon.waitForLine(/^DBUS_ADDRESS=(unix:.+)$/, 20_000);
      const client = await OfonoClient.connect(address, 'org.carphone');
      const [modem] = await client.modems();
      expect(modem?.[0]).toBe('/local');
      const call = await client.dial('/local', '*43');
      await client.waitForCallState(call, 'active');
      await client.hangup(call);
      await client.waitForSignal((s) => s.member === 'CallRemoved');
      client.disconnect();
    } finally {
      expect(await daemon.stop()).toBe(0);
    }
  });
});

describe('carphoned on a bus listening on an abstract socket', () => {
  // dbus-next reaches such a socket only through a native package that is not installed, and Node
  // 20's net not at all: it used to stop with "Cannot find module 'usocket'".
  it('exits 1 saying why, when told to use it', async () => {
    const r = await runDaemon(['--bus', 'unix:abstract=carphone-test-nowhere']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/listens on an abstract socket, which carphone cannot reach on Node\.js 20/);
  });

  it('starts its own bus instead when the session bus is on one', async () => {
    const daemon = new Child('carphoned', process.execPath, ['--import', 'tsx', carphoned], {
      cwd: REPO,
      env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: 'unix:abstract=carphone-test-nowhere' },
    });
    try {
      const [, address = ''] = await daemon.waitForLine(/^DBUS_ADDRESS=(unix:.+)$/, 20_000);
      expect(address).not.toContain('abstract');
      const client = await OfonoClient.connect(address, 'org.carphone');
      expect(await client.modems()).toHaveLength(1);
      client.disconnect();
      expect(daemon.output.join('\n')).toMatch(/session bus unreachable; starting a private bus/);
    } finally {
      expect(await daemon.stop()).toBe(0);
    }
  });
});

describe('carphoned --check-config', () => {
  it('checks a configuration and the files it names, says what it sets up, and exits 0 without a bus', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carphone-cfg-'));
    writeTone(join(dir, 'in.wav'), 700, 1);
    const cfg = join(dir, 'car.yaml');
    writeFileSync(
      cfg,
      [
        'dbus: { bus: "unix:abstract=carphone-test-nowhere" }',
        `audio: { device: { type: file, play: ${join(dir, 'in.wav')}, record: ${dir} }, tones: { plan: uk, ringtone: ${join(dir, 'in.wav')} } }`,
        "accounts: [{ id: sip0, user: '1000', domain: ims.example, registrar: 'sip:192.0.2.10:5060' }]",
        "ecall: { psap: 'sip:192.0.2.112', vin: WVWZZZ1KZAW123456 }",
        'vehicle: { can: "udp:127.0.0.1:29999" }',
        '',
      ].join('\n'),
    );
    const r = await runDaemon(['--check-config', '--config', cfg]);
    expect(r).toMatchObject({ code: 0, stderr: '', leftBehind: [] });
    expect(r.stdout.split('\n')).toEqual([
      'configuration OK',
      'D-Bus: org.carphone on the unix:abstract=carphone-test-nowhere bus',
      `audio: file, tones: uk, ringtone ${join(dir, 'in.wav')}`,
      'line sip0: sip:1000@ims.example over udp, registering with sip:192.0.2.10:5060, places eCalls',
      'eCall: PSAP sip:192.0.2.112, VIN WVWZZZ1KZAW123456',
      'vehicle: CAN from udp:127.0.0.1:29999',
      '',
    ]);
  });

  it('exits 2 naming the key where a file the configuration names cannot be used', async () => {
    const cfg = join(mkdtempSync(join(tmpdir(), 'carphone-cfg-')), 'car.yaml');
    writeFileSync(cfg, 'audio: { device: { type: file, play: /nonexistent/in.wav } }\n');
    const missingWav = await runDaemon(['--check-config', '--config', cfg]);
    expect(missingWav.code).toBe(2);
    expect(missingWav.stderr).toMatch(/config error at audio\.device\.play/);
    const missingDbc = await runDaemon(['--check-config', '--can', 'udp:29999', '--dbc', '/nonexistent.dbc']);
    expect(missingDbc.code).toBe(2);
    expect(missingDbc.stderr).toMatch(/vehicle\.dbc.*cannot read \/nonexistent\.dbc/);
  });
});

describe('carphoned refuses bad configuration', () => {
  it('exits 2 naming the key and the problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carphone-cfg-'));
    const cfg = join(dir, 'bad.yaml');
    writeFileSync(
      cfg,
      'accounts:\n  - id: sip0\n    user: "1000"\n    domain: example.com\n    registrar: pbx.example.com\n',
    );
    const r = await runDaemon(['--config', cfg]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/config error at accounts\[0\]\.registrar: must be a SIP URI/);
  });

  it('exits 2 on a bad flag value too, naming the key the flag sets', async () => {
    const r = await runDaemon(['--bus-name', 'not a name']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/config error at dbus\.name/);
  });

  it('exits 2 when the config file is missing', async () => {
    const r = await runDaemon(['--config', '/nonexistent.yaml']);
    expect(r).toMatchObject({ code: 2 });
    expect(r.stderr).toMatch(/cannot read \/nonexistent\.yaml: ENOENT/);
  });

  it('exits 2 when the echo line cannot listen where it is told to, and leaves no process of its own behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carphone-cfg-'));
    const cfg = join(dir, 'echo.yaml');
    // 192.0.2.1 (TEST-NET-1) is no address of this machine's; the echo line starts after the bus.
    writeFileSync(
      cfg,
      "dbus: { bus: auto }\naccounts: [{ id: sip0, user: '1000', domain: 127.0.0.1 }]\n" +
        'echoTest: { address: 192.0.2.1 }\n',
    );
    // No session bus: carphoned starts a dbus-daemon of its own, which it must stop when it gives up.
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.DBUS_SESSION_BUS_ADDRESS;
    const r = await runDaemon(['--config', cfg], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('config error at echoTest.address: ');
    expect(r.leftBehind).toEqual([]);
  });

  // Files the configuration names: a missing or unusable one is the configuration's fault, which a
  // restart by systemd cannot mend (RestartPreventExitStatus=2), so exit 2 naming the key.
  const wideband = join(mkdtempSync(join(tmpdir(), 'carphone-ring-')), 'ring-48k.wav');
  writeTone(wideband, 660, 1, 8000, 48000);
  it.each([
    ['audio: { device: { type: file, play: /nonexistent/ring.wav } }', 'audio.device.play', /ENOENT/],
    ['audio: { device: { type: file, play: /etc/hostname } }', 'audio.device.play', /not a RIFF\/WAVE file/],
    ['audio: { device: { type: file, record: /dev/null/calls } }', 'audio.device.record', /ENOTDIR/],
    ["vehicle: { can: 'udp:20999', bindings: /nonexistent/car.yaml }", 'vehicle.bindings', /ENOENT/],
    ["vehicle: { can: 'udp:20999', dbc: /nonexistent/car.dbc }", 'vehicle.dbc', /ENOENT/],
    ['audio: { tones: { ringtone: /nonexistent/ring.wav } }', 'audio.tones.ringtone', /ENOENT/],
    ['audio: { tones: { ringtone: /etc/hostname } }', 'audio.tones.ringtone', /not a RIFF\/WAVE file/],
    [
      `audio: { tones: { ringtone: ${wideband} } }`,
      'audio.tones.ringtone',
      /48000 Hz; a ringtone must be 8000 Hz/,
    ],
  ])('exits 2 naming the key for a file it cannot use: %s', async (yaml, key, problem) => {
    const dir = mkdtempSync(join(tmpdir(), 'carphone-cfg-'));
    const cfg = join(dir, 'files.yaml');
    writeFileSync(
      cfg,
      `dbus: { bus: auto }\naccounts: [{ id: sip0, user: '1000', domain: 127.0.0.1 }]\n${yaml}\n`,
    );
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.DBUS_SESSION_BUS_ADDRESS;
    const r = await runDaemon(['--config', cfg], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`config error at ${key}: `);
    expect(r.stderr).toMatch(problem);
    expect(r.leftBehind).toEqual([]);
  });
});

describe('carphoned keeps serving when one line cannot start', () => {
  it('leaves a line whose SIP port is taken powered off, and the other line works', async () => {
    const port = await freePort();
    const blocker = createSocket('udp4');
    await new Promise<void>((r) => blocker.bind(port, '127.0.0.1', () => r()));
    const bus = await PrivateBus.start();
    const daemon = await Carphoned.start({
      dbus: { bus: bus.address },
      accounts: [
        { id: 'blocked', user: 'a', domain: '127.0.0.1', listen: { address: '127.0.0.1', port } },
        { id: 'fine', user: 'b', domain: '127.0.0.1' },
      ],
    });
    try {
      const client = await daemon.client();
      expect((await client.properties('/blocked', 'org.ofono.Modem')).Powered).toBe(false);
      expect((await client.properties('/fine', 'org.ofono.Modem')).Powered).toBe(true);
      await expect(client.dial('/blocked', '*43')).rejects.toMatchObject({
        type: 'org.ofono.Error.NotAvailable',
      });
      const call = await client.dial('/fine', '*43');
      await client.waitForCallState(call, 'active');
      expect(daemon.log(500)).toMatch(/SIP port 127\.0\.0\.1:\d+ is already in use/);
      blocker.close();
      // Powering the line on again once the port is free brings it up.
      await expect(
        client.setProperty('/blocked', 'org.ofono.Modem', 'Powered', 's', 'yes'),
      ).rejects.toMatchObject({
        type: 'org.ofono.Error.InvalidArguments',
      });
      await client.setProperty('/blocked', 'org.ofono.Modem', 'Powered', 'b', true);
      await waitFor(
        'line up',
        async () => (await client.properties('/blocked', 'org.ofono.Modem')).Powered === true,
      );
      client.disconnect();
    } finally {
      await daemon.stop();
      await bus.stop();
    }
  });
});
