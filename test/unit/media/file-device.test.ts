import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileDevice } from '../../../service/media/devices/file-device.js';
import { readWav, writeWav } from '../../../service/media/wav.js';

describe('file audio device', () => {
  it('plays its file in a loop, seamlessly across the end, whatever the read sizes', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'file-device-')), 'five.wav');
    writeWav(path, { sampleRate: 8000, samples: Int16Array.from([10, 20, 30, 40, 50]) });
    const source = new FileDevice(path, undefined).openCall('t').source;
    const reads = [3, 4, 12, 1].map((n) => Array.from(source.read(n)));
    expect(reads).toEqual([
      [10, 20, 30],
      [40, 50, 10, 20],
      [30, 40, 50, 10, 20, 30, 40, 50, 10, 20, 30, 40],
      [50],
    ]);
  });

  it('records every sample it is given, in order, whatever the frame sizes, once the call is closed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'file-device-'));
    const sink = new FileDevice(undefined, dir).openCall('t').sink;
    // Frames of 20 ms, one far longer than what the writer holds back, and a last partial quarter second.
    const frames = [
      ...Array.from({ length: 30 }, () => 160),
      5000,
      80,
      ...Array.from({ length: 7 }, () => 160),
    ];
    let next = 0;
    const written: number[] = [];
    for (const length of frames) {
      const frame = Int16Array.from({ length }, () => (next++ * 37) % 30000);
      written.push(...frame);
      sink.write(frame);
    }
    sink.close();
    const recorded = readWav(join(dir, 'call-t.wav'));
    expect(recorded.sampleRate).toBe(8000);
    expect(recorded.samples.length).toBe(written.length);
    expect(Array.from(recorded.samples)).toEqual(written);
  });
});
