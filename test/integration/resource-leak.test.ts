import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OfonoClient } from '../../service/client/ofono-client.js';
import { writeTone } from '../harness/audio.js';
import { Carphoned } from '../harness/carphoned.js';
import { PrivateBus } from '../harness/dbus-daemon.js';
import { waitFor } from '../harness/process.js';
import { PrivatePulse } from '../harness/pulseaudio.js';
import { childProcesses } from '../harness/process-table.js';

/**
 * A head unit's daemon runs for days and places thousands of calls. Whatever a call opens (RTP and
 * RTCP sockets, the recording, the audio server's streams and their pacat and parec) must be closed
 * when it ends, or the daemon runs out of file descriptors one day: after a few calls to warm up,
 * thirty more leave as many open file descriptors and child processes as there were before.
 */
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.each([
  { device: 'file (a WAV played, each call recorded)' as const },
  { device: 'pulse (a private PulseAudio server)' as const },
])('what thirty calls leave behind, audio device $device', ({ device }) => {
  const dir = mkdtempSync(join(tmpdir(), 'carphone-leak-'));
  let pulse: PrivatePulse | undefined;
  let bus: PrivateBus;
  let daemon: Carphoned;
  let client: OfonoClient;

  beforeAll(async () => {
    writeTone(join(dir, 'tone.wav'), 700, 5);
    if (device.startsWith('pulse')) {
      pulse = await PrivatePulse.start();
    }
    bus = await PrivateBus.start();
    daemon = await Carphoned.start({
      dbus: { bus: bus.address },
      audio: {
        device: pulse
          ? { type: 'pulse', server: pulse.server, sink: 'cabin_speaker', source: 'cabin_mic.monitor' }
          : { type: 'file', play: join(dir, 'tone.wav'), record: join(dir, 'rec') },
      },
      accounts: [{ id: 'local', user: 'driver', domain: '127.0.0.1' }],
    });
    client = await daemon.client();
  }, 30_000);

  afterAll(async () => {
    client?.disconnect();
    await daemon?.stop();
    await bus?.stop();
    await pulse?.stop();
  });

  const pid = (): number => daemon.child.proc.pid ?? 0;
  const openFiles = (): number => readdirSync(`/proc/${pid()}/fd`).length;

  async function echoCall(): Promise<void> {
    const since = client.signals.length;
    const path = await client.dial('/local', '*43');
    await client.waitForCallState(path, 'active', 5000, since);
    await sleep(200);
    await client.hangup(path);
    await client.waitForSignal((s) => s.member === 'CallRemoved' && s.args[0] === path, 5000, since);
  }

  it('closes every file descriptor and child process the calls opened', async () => {
    for (let i = 0; i < 5; i++) {
      await echoCall();
    }
    await sleep(1000);
    const before = { files: openFiles(), children: childProcesses(pid()).length };
    for (let i = 0; i < 30; i++) {
      await echoCall();
    }
    if (!pulse) {
      expect(readdirSync(join(dir, 'rec'))).toHaveLength(35);
    }
    // pacat is given half a second to play out what it holds before it is stopped.
    const after = await waitFor(
      'what the calls opened to be closed',
      () => {
        const now = { files: openFiles(), children: childProcesses(pid()).length };
        return now.files <= before.files && now.children <= before.children ? now : undefined;
      },
      5000,
    ).catch(() => ({ files: openFiles(), children: childProcesses(pid()).length }));
    expect(after).toEqual(before);
  }, 120_000);
});
