import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileDevice } from '../../../service/media/devices/file-device.js';
import { writeWav } from '../../../service/media/wav.js';

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
});
