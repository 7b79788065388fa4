import { Child } from './process.js';

/** A private dbus-daemon for one test file; its address is what every client and carphoned use. */
export class PrivateBus {
  private constructor(
    readonly address: string,
    private readonly child: Child,
  ) {}

  static async start(): Promise<PrivateBus> {
    const child = new Child('dbus-daemon', 'dbus-daemon', [
      '--session',
      '--nofork',
      '--nopidfile',
      '--print-address=1',
    ]);
    const m = await child.waitForLine(/^(unix:.+)$/);
    return new PrivateBus(m[1] ?? '', child);
  }

  async stop(): Promise<void> {
    await this.child.stop();
  }
}
