import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseStrictYaml } from '../config/strict-yaml.js';
import { ConfigError } from '../core/errors.js';
import { DbcSyntaxError, loadDbc } from '../../can/dbc/parse.js';
import type { Database, MessageDef, SignalDef } from '../../can/dbc/model.js';
import { bindingsSchema, type Bindings, type Condition } from './bindings-schema.js';

export interface ResolvedSignal {
  message: MessageDef;
  signal: SignalDef;
}

export interface LoadedBindings {
  bindings: Bindings;
  db: Database;
  dbcPath: string;
  /** Resolves a Message.Signal that load() has already checked. */
  signal(ref: string): ResolvedSignal;
}

function keyOf(path: readonly PropertyKey[]): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
}

/** Every Message.Signal the bindings name, with the key that names it (for error messages). */
function* references(b: Bindings): Generator<[string, string]> {
  for (const [k, c] of Object.entries(b.buttons)) {
    if (typeof c === 'object') {
      yield [`buttons.${k}.signal`, c.signal];
    }
  }
  const conds = (key: string, list: Condition[]): [string, string][] =>
    list.map((c, i) => [`${key}[${i}].signal`, c.signal]);
  if (b.crash) {
    yield* conds('crash.triggers', b.crash.triggers);
    yield* conds('crash.inhibitors', b.crash.inhibitors);
  }
  if (b.sos) {
    yield ['sos.signal', b.sos.signal];
  }
  const v = b.vehicle;
  if (v.ignition) {
    yield ['vehicle.ignition.signal', v.ignition.signal];
  }
  for (const k of ['speed', 'propulsion', 'latitude', 'longitude'] as const) {
    const ref = v[k];
    if (ref) {
      yield [`vehicle.${k}`, ref];
    }
  }
  if (typeof v.occupants === 'string') {
    yield ['vehicle.occupants', v.occupants];
  } else if (v.occupants) {
    yield* conds('vehicle.occupants', v.occupants);
  }
}

/**
 * Loads a bindings file and its DBC and checks them against each other: every signal named exists,
 * every message used is declared with its protection (e2e: none must be explicit) and timeout.
 */
export function loadBindings(path: string, dbcOverride?: string): LoadedBindings {
  let raw: unknown;
  try {
    raw = parseStrictYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ConfigError(
      'vehicle.bindings',
      `cannot read ${path}: ${(e as Error).message.split('\n')[0] ?? ''}`,
    );
  }
  const parsed = bindingsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`${path}: ${keyOf(issue?.path ?? [])}`, issue?.message ?? 'invalid bindings');
  }
  const bindings = parsed.data;
  const dbcPath =
    dbcOverride ?? (isAbsolute(bindings.dbc) ? bindings.dbc : resolve(dirname(path), bindings.dbc));
  let db: Database;
  try {
    db = loadDbc(dbcPath);
  } catch (e) {
    // The DBC is named by vehicle.dbc when given, else by the bindings file's own dbc key.
    const key = dbcOverride !== undefined ? 'vehicle.dbc' : `${path}: dbc`;
    if (e instanceof DbcSyntaxError) {
      throw new ConfigError(key, e.message);
    }
    throw new ConfigError(key, `cannot read ${dbcPath}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const resolved = new Map<string, ResolvedSignal>();
  for (const [key, ref] of references(bindings)) {
    const [msgName = '', sigName = ''] = ref.split('.');
    const message = db.messages.get(msgName);
    if (!message) {
      throw new ConfigError(`${path}: ${key}`, `message ${msgName} is not in ${dbcPath}`);
    }
    const signal = message.signals.get(sigName);
    if (!signal) {
      throw new ConfigError(`${path}: ${key}`, `message ${msgName} has no signal ${sigName}`);
    }
    if (!bindings.messages[msgName]) {
      throw new ConfigError(
        `${path}: messages.${msgName}`,
        'is used by a binding but not declared (give its e2e and timeoutMs)',
      );
    }
    resolved.set(ref, { message, signal });
  }
  for (const name of Object.keys(bindings.messages)) {
    if (!db.messages.has(name)) {
      throw new ConfigError(`${path}: messages.${name}`, `message ${name} is not in ${dbcPath}`);
    }
  }
  return {
    bindings,
    db,
    dbcPath,
    signal(ref) {
      const r = resolved.get(ref);
      if (!r) {
        throw new Error(`unresolved signal ${ref}`);
      }
      return r;
    },
  };
}
