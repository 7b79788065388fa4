import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { configSchema, type Config } from './schema.js';
import { parseStrictYaml, YamlProblem } from './strict-yaml.js';

/** The configuration carphoned runs on when given none: one local line and the *43 echo test. */
export const embeddedDefaults = {
  accounts: [{ id: 'local', user: 'driver', domain: '127.0.0.1', name: 'Local line' }],
} as const;

function keyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  }
  return out;
}

function firstIssue(error: z.ZodError): ConfigError {
  const issue = error.issues[0];
  if (!issue) {
    return new ConfigError('', 'invalid configuration');
  }
  if (issue.code === 'unrecognized_keys') {
    const base = keyPath(issue.path);
    const key = issue.keys[0] ?? '';
    return new ConfigError(base ? `${base}.${key}` : key, 'unknown key');
  }
  return new ConfigError(keyPath(issue.path), issue.message);
}

/** Validates an already-parsed configuration object. Throws ConfigError naming the first bad key. */
export function parseConfig(raw: unknown): Config {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) {
    throw firstIssue(result.error);
  }
  return result.data;
}

export function parseConfigText(text: string, source = 'config'): Config {
  let raw: unknown;
  try {
    raw = parseStrictYaml(text);
  } catch (e) {
    if (e instanceof YamlProblem) {
      const where = e.line !== undefined ? ` (line ${e.line})` : '';
      throw new ConfigError('', `${source} is not valid YAML${where}: ${e.problem}`);
    }
    throw e;
  }
  return parseConfig(raw);
}

export function loadConfigFile(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError('', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return parseConfigText(text, path);
}
