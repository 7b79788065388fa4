import { describe, expect, it } from 'vitest';
import { runInUml, UmlCannotRunHere, umlAvailable, UML_KERNEL } from '../harness/uml.js';

describe('SocketCAN for real, under user-mode-linux with vcan', () => {
  it('receives cansend frames (standard and extended) into the bindings, and sends a frame candump sees', async (ctx) => {
    // Installed by scripts/install-deps.sh; its absence is a failure, not a skip.
    expect(umlAvailable(), `${UML_KERNEL} and its modules (Debian user-mode-linux)`).toBe(true);
    let out: string;
    try {
      out = await runInUml(`${process.execPath} --import tsx test/uml/socketcan-probe.ts`, 90_000);
    } catch (e) {
      // Only a host on which UML cannot start any process is a skip (shown as such in the CI summary).
      if (e instanceof UmlCannotRunHere) {
        ctx.skip(e.message);
      }
      throw e;
    }
    const line = out.split('\n').find((l) => l.startsWith('{'));
    expect(line, out).toBeDefined();
    const result = JSON.parse(line ?? '{}') as {
      received?: string[];
      buttons?: string[];
      candump?: string;
      error?: string;
    };
    expect(result.error).toBeUndefined();
    expect(result.received).toEqual([
      '523#0004000000000000',
      '1FFFFFFF#11',
      '3A0#00000000',
      '3A0#01000000',
      '3A0#02010000',
      '3A0#03000000',
    ]);
    expect(result.buttons).toEqual(['phone:short']);
    expect(result.candump).toMatch(/^\(\d+\.\d+\) vcan0 7E0#CAFE$/);
    expect(out).toMatch(/uml-exit 0/);
  }, 120_000);
});
