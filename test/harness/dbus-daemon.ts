import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Child } from './process.js';

/** A private dbus-daemon for one test file; its address is what every client and carphoned use. */
export class PrivateBus {
  private constructor(
    readonly address: string,
    private readonly child: Child,
  ) {}

  static async start(): Promise<PrivateBus> {
    return PrivateBus.spawn(['--session']);
  }

  private static async spawn(configArgs: string[]): Promise<PrivateBus> {
    const child = new Child('dbus-daemon', 'dbus-daemon', [
      ...configArgs,
      '--nofork',
      '--nopidfile',
      '--print-address=1',
    ]);
    const m = await child.waitForLine(/^(unix:.+)$/);
    return new PrivateBus(m[1] ?? '', child);
  }

  /**
   * A bus with the system bus's default policy (Debian's system.conf: anyone may connect, nobody may
   * own a name or call a method unless a policy file says so) and the given policy files, as
   * /etc/dbus-1/system.d/ holds them. Its socket's directory, and the run's temporary directory above
   * it, are opened for other users to pass through, so that a test can talk to it as one.
   */
  static async startSystemLike(policyFiles: string[]): Promise<PrivateBus> {
    const dir = mkdtempSync(join(tmpdir(), 'carphone-system-bus-'));
    for (const d of [dir, tmpdir()]) {
      chmodSync(d, statSync(d).mode | 0o011);
    }
    const config = join(dir, 'system.conf');
    writeFileSync(
      config,
      `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path=${join(dir, 'bus')}</listen>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>
${policyFiles.map((f) => `  <include>${f}</include>`).join('\n')}
</busconfig>
`,
    );
    return PrivateBus.spawn([`--config-file=${config}`]);
  }

  async stop(): Promise<void> {
    await this.child.stop();
  }
}
