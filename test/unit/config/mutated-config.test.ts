import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seeded } from '../../../bench/jitter/traces.js';
import { parseConfigText } from '../../../service/config/load.js';
import { ConfigError } from '../../../service/core/errors.js';
import { REPO } from '../../harness/compile-daemon.js';
import { mutateLines } from '../../harness/sip-fuzz.js';

/**
 * What an integrator's editing can do to a configuration, done 3000 times to the documented example:
 * lines deleted, repeated, swapped or cut, values replaced by odd ones, bytes changed. Each result must
 * load, or be refused with a ConfigError naming the key (or the YAML line), never another exception.
 */
describe('the example configuration, mutated', () => {
  it('loads or is refused with a ConfigError, 3000 times', () => {
    const example = readFileSync(join(REPO, 'config/carphoned.example.yaml'), 'utf8');
    const rand = seeded(11);
    const foreign: string[] = [];
    let loaded = 0;
    const keys = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const text = mutateLines(example, rand);
      try {
        parseConfigText(text);
        loaded++;
      } catch (e) {
        if (e instanceof ConfigError) {
          keys.add(e.key.replace(/\[\d+\]/g, '[]'));
        } else {
          foreign.push(`${e instanceof Error ? e.name : typeof e}: ${String(e)}`);
        }
      }
    }
    expect(foreign).toEqual([]);
    expect(loaded).toBeGreaterThan(300);
    // The refusals name many different keys, not one catch-all.
    expect(keys.size).toBeGreaterThan(20);
  });
});
