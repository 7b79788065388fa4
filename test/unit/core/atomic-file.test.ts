import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomically } from '../../../service/core/atomic-file.js';

describe('writing a state file atomically', () => {
  it('replaces the old content whole, creating the directory, and leaves no temporary file', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'carphone-atomic-')), 'state');
    const path = join(dir, 'ecall.json');
    writeFileAtomically(path, '{"state":"idle"}');
    expect(readFileSync(path, 'utf8')).toBe('{"state":"idle"}');
    const big = new Uint8Array(300_000).map((_, i) => i % 251);
    writeFileAtomically(path, big);
    expect(new Uint8Array(readFileSync(path))).toEqual(big);
    expect(readdirSync(dir)).toEqual(['ecall.json']);
  });

  it('leaves the old content when the new cannot be written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'carphone-atomic-'));
    const path = join(dir, 'history.sqlite');
    writeFileSync(path, 'old');
    // Where the temporary file must go there is a directory: the write fails before any rename.
    mkdirSync(`${path}.tmp`);
    expect(() => writeFileAtomically(path, 'new')).toThrow(/EISDIR/);
    expect(readFileSync(path, 'utf8')).toBe('old');
  });
});
