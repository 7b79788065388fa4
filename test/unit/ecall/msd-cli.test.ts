import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asn1cPerToXer, parseXer } from '../../harness/asn1c.js';

const REPO = join(import.meta.dirname, '../../..');
const example = join(REPO, 'config/msd/example-msd.json');

function ctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(REPO, 'service/bin/carphonectl.ts'), ...args],
      { cwd: REPO },
      (err, stdout, stderr) =>
        resolve({ code: err && typeof err.code === 'number' ? err.code : err ? 1 : 0, stdout, stderr }),
    );
  });
}

describe('carphonectl msd', () => {
  it('encodes the example MSD to hex that asn1c reads as the same vehicle, and decodes it back to the same JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carphone-msdcli-'));
    const enc = await ctl('msd', 'encode', example, '--out', join(dir, 'msd.per'));
    expect(enc.code).toBe(0);
    const hex = enc.stdout.trim();
    expect(hex).toMatch(/^03[0-9a-f]+$/);
    expect(Buffer.from(readFileSync(join(dir, 'msd.per'))).toString('hex')).toBe(hex);
    const xer = parseXer(asn1cPerToXer('MSDMessage', Uint8Array.from(Buffer.from(hex, 'hex')).subarray(2)));
    expect(xer).toMatchObject({
      MSDMessage: {
        msdStructure: {
          vehicleIdentificationNumber: { isowmi: 'WVW', isovisSeqPlant: 'W123456' },
          numberOfOccupants: '2',
        },
      },
    });
    const dec = await ctl('msd', 'decode', hex);
    expect(dec.code).toBe(0);
    const json = JSON.parse(dec.stdout) as { msd: { msdStructure: Record<string, unknown> } };
    const original = JSON.parse(readFileSync(example, 'utf8')) as {
      msd: { msdStructure: Record<string, unknown> };
    };
    expect(json.msd.msdStructure).toMatchObject({
      ...original.msd.msdStructure,
      vehiclePropulsionStorageType: expect.objectContaining({
        electricEnergyStorage: true,
        gasolineTankPresent: false,
      }) as unknown,
    });
    const fromFile = await ctl('msd', 'decode', '--file', join(dir, 'msd.per'));
    expect(fromFile.stdout).toBe(dec.stdout);
  });

  it('refuses an invalid MSD naming the field, with exit code 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carphone-msdcli-'));
    const bad = JSON.parse(readFileSync(example, 'utf8')) as {
      msd: { msdStructure: { vehicleIdentificationNumber: { isovds: string } } };
    };
    bad.msd.msdStructure.vehicleIdentificationNumber.isovds = 'ZZZ1KO';
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(bad));
    const r = await ctl('msd', 'encode', join(dir, 'bad.json'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /invalid MSD: msd\.msdStructure\.vehicleIdentificationNumber\.isovds: "O" is not allowed in a VIN/,
    );
    expect((await ctl('msd', 'decode', 'zz')).code).toBe(2);
    expect((await ctl('msd', 'decode', '0300')).code).toBe(1);
  });
});
