import { readFileSync } from 'node:fs';
import { messageKey, type Database, type MessageDef, type SignalDef } from './model.js';

/**
 * A DBC parser written for carphone. It reads what signal decoding needs (BO_, SG_ with
 * multiplexing, VAL_, SIG_VALTYPE_, CM_) and skips the rest statement by statement. Strings may
 * hold any bytes and span lines. A malformed BO_/SG_/VAL_ is an error that names the line.
 *
 * candied, the maintained npm DBC package, decodes Motorola signals with the start bit taken as the
 * LSB (wrong for every Vector-style DBC) and ignores multiplexing, so it is not used.
 */
export class DbcSyntaxError extends Error {
  constructor(
    readonly line: number,
    problem: string,
    readonly source = 'DBC',
  ) {
    super(`${source}:${line}: ${problem}`);
    this.name = 'DbcSyntaxError';
  }
}

/** VECTOR__INDEPENDENT_SIG_MSG: a pseudo-message (0xC0000000) that holds signals no message uses. */
const INDEPENDENT_SIGNALS = 0xc0000000;

const NUMBER = String.raw`[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?`;
const IDENT = String.raw`[A-Za-z_][A-Za-z0-9_]*`;
const BO_RE = new RegExp(String.raw`^BO_\s+(\d+)\s+(${IDENT})\s*:\s*(\d+)\s+(${IDENT})\s*$`);
const SG_RE = new RegExp(
  String.raw`^SG_\s+(${IDENT})\s*(M|m\d+M?)?\s*:\s*(\d+)\|(\d+)@([01])([+-])\s*\(\s*(${NUMBER})\s*,\s*(${NUMBER})\s*\)\s*\[\s*(${NUMBER})\s*\|\s*(${NUMBER})\s*\]\s*"([^"]*)"\s*(.*)$`,
);

/** Splits the file into statements: one per line, except that quoted strings and CM_/VAL_ run to `;`. */
function* statements(text: string): Generator<{ line: number; text: string }> {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i] ?? '';
    const trimmed = first.trim();
    if (trimmed === '') {
      continue;
    }
    const startLine = i + 1;
    let stmt = trimmed;
    // A bare keyword (as listed in the NS_ block) is not a statement and has no terminator.
    const needsTerminator =
      /^(CM_|VAL_|BA_DEF_|BA_|BA_DEF_DEF_|VAL_TABLE_|SIG_VALTYPE_|BO_TX_BU_|SIG_GROUP_|EV_|SG_MUL_VAL_)\s+\S/.test(
        trimmed,
      );
    const unbalanced = (s: string): boolean => (s.match(/(?<!\\)"/g) ?? []).length % 2 === 1;
    while (((needsTerminator && !/;\s*$/.test(stmt)) || unbalanced(stmt)) && i + 1 < lines.length) {
      i++;
      stmt += `\n${lines[i] ?? ''}`;
    }
    yield { line: startLine, text: stmt.trim() };
  }
}

function num(s: string | undefined, line: number, what: string): number {
  const n = Number(s);
  if (s === undefined || !Number.isFinite(n)) {
    throw new DbcSyntaxError(line, `${what} is not a number: ${s ?? '(missing)'}`);
  }
  return n;
}

export function parseDbc(text: string, source = 'DBC'): Database {
  const messages = new Map<string, MessageDef>();
  const byId = new Map<string, MessageDef>();
  const byRawId = new Map<number, MessageDef>();
  let current: MessageDef | undefined;
  let inNamespace = false;
  try {
    for (const { line, text: stmt } of statements(text)) {
      if (inNamespace) {
        if (/^[A-Z_][A-Z0-9_]*$/.test(stmt)) {
          continue;
        }
        inNamespace = false;
      }
      const keyword = /^([A-Za-z_][A-Za-z0-9_]*)/.exec(stmt)?.[1] ?? '';
      if (keyword !== 'SG_' && keyword !== 'BO_') {
        current = undefined; // a message's signals follow its BO_ line directly
      }
      switch (keyword) {
        case 'NS_':
          inNamespace = true;
          break;
        case 'BO_': {
          const m = BO_RE.exec(stmt);
          if (!m) {
            throw new DbcSyntaxError(line, `malformed message definition: ${stmt.slice(0, 80)}`);
          }
          const raw = num(m[1], line, 'message id');
          const independent = raw === INDEPENDENT_SIGNALS;
          const flagged = raw >= 0x80000000;
          const id = flagged ? raw - 0x80000000 : raw;
          if (!independent && id > 0x1fffffff) {
            throw new DbcSyntaxError(line, `identifier ${raw} is out of range (extended ids carry bit 31)`);
          }
          // Some generators (opendbc among them) write 29-bit ids without bit 31; no 11-bit id is that large.
          const extended = flagged || id > 0x7ff;
          const length = num(m[3], line, 'message length');
          if (length > 64) {
            throw new DbcSyntaxError(line, `message length ${length} exceeds 64 bytes`);
          }
          current = { id, extended, name: m[2] ?? '', length, sender: m[4] ?? '', signals: new Map() };
          if (!independent) {
            messages.set(current.name, current);
            byId.set(messageKey(id, extended), current);
            byRawId.set(raw, current);
          }
          break;
        }
        case 'SG_': {
          if (!current) {
            throw new DbcSyntaxError(line, 'signal outside a message (SG_ must follow its BO_)');
          }
          const m = SG_RE.exec(stmt);
          if (!m) {
            throw new DbcSyntaxError(line, `malformed signal definition: ${stmt.slice(0, 80)}`);
          }
          const mux = m[2];
          const startBit = num(m[3], line, 'start bit');
          const length = num(m[4], line, 'signal length');
          if (length < 1 || length > 64) {
            throw new DbcSyntaxError(line, `signal length ${length} is not 1..64`);
          }
          const sig: SignalDef = {
            name: m[1] ?? '',
            startBit,
            length,
            byteOrder: m[5] === '1' ? 'intel' : 'motorola',
            signed: m[6] === '-',
            factor: num(m[7], line, 'factor'),
            offset: num(m[8], line, 'offset'),
            min: num(m[9], line, 'minimum'),
            max: num(m[10], line, 'maximum'),
            unit: m[11] ?? '',
            isMultiplexer: mux === 'M' || (mux?.endsWith('M') ?? false),
            values: new Map(),
            ...(mux?.startsWith('m') ? { multiplexValue: Number(mux.slice(1).replace('M', '')) } : {}),
          };
          if (!fits(sig, current.length)) {
            throw new DbcSyntaxError(line, `signal ${sig.name} does not fit in ${current.length} bytes`);
          }
          current.signals.set(sig.name, sig);
          break;
        }
        case 'VAL_': {
          const m = /^VAL_\s+(\d+)\s+(\w+)\s+([\s\S]*);$/.exec(stmt);
          if (!m) {
            // VAL_ of environment variables have no message id; they do not concern us.
            if (/^VAL_\s+[A-Za-z_]\w*\s/.test(stmt)) {
              break;
            }
            throw new DbcSyntaxError(line, `malformed value table: ${stmt.slice(0, 80)}`);
          }
          const msg = byRawId.get(Number(m[1]));
          const sig = msg?.signals.get(m[2] ?? '');
          if (!sig) {
            break; // a value table for a signal not in this file: harmless, as in other tools
          }
          const body = m[3] ?? '';
          const re = new RegExp(String.raw`(${NUMBER})\s+"([^"]*)"`, 'g');
          let consumed = 0;
          for (const v of body.matchAll(re)) {
            sig.values.set(Number(v[1]), v[2] ?? '');
            consumed += (v[0] ?? '').length;
          }
          if (consumed === 0 && body.trim() !== '') {
            throw new DbcSyntaxError(line, `value table of ${sig.name} has no "value \\"text\\"" pairs`);
          }
          break;
        }
        case 'SIG_VALTYPE_': {
          const m = /^SIG_VALTYPE_\s+(\d+)\s+(\w+)\s*:?\s*([0-3])\s*;$/.exec(stmt);
          if (!m) {
            throw new DbcSyntaxError(line, `malformed SIG_VALTYPE_: ${stmt.slice(0, 80)}`);
          }
          const sig = byRawId.get(Number(m[1]))?.signals.get(m[2] ?? '');
          if (sig && (m[3] === '1' || m[3] === '2')) {
            sig.float = m[3] === '1' ? 32 : 64;
          }
          break;
        }
        case 'CM_': {
          const m = /^CM_\s+(BO_|SG_)\s+(\d+)\s+(?:(\w+)\s+)?"([\s\S]*)"\s*;$/.exec(stmt);
          if (m) {
            const msg = byRawId.get(Number(m[2]));
            if (m[1] === 'BO_' && msg) {
              msg.comment = m[4];
            } else if (m[1] === 'SG_' && msg && m[3]) {
              const sig = msg.signals.get(m[3]);
              if (sig) {
                sig.comment = m[4];
              }
            }
          }
          break;
        }
        default:
          // VERSION, BS_, BU_, BA_*, EV_, VAL_TABLE_, BO_TX_BU_ …: not needed to decode signals.
          if (!keyword) {
            throw new DbcSyntaxError(line, `unexpected text: ${stmt.slice(0, 80)}`);
          }
      }
    }
  } catch (e) {
    if (e instanceof DbcSyntaxError && e.source !== source) {
      throw new DbcSyntaxError(e.line, e.message.replace(/^DBC:\d+: /, ''), source);
    }
    throw e;
  }
  return { messages, byId };
}

export function loadDbc(path: string): Database {
  // latin1 keeps every byte as one character: DBC files come in all encodings, and mojibake in value
  // tables must not stop a parse.
  return parseDbc(readFileSync(path, 'latin1'), path);
}

/** Whether every bit of the signal lies inside a frame of `bytes` bytes. */
function fits(sig: Pick<SignalDef, 'startBit' | 'length' | 'byteOrder'>, bytes: number): boolean {
  if (sig.byteOrder === 'intel') {
    return sig.startBit + sig.length <= bytes * 8;
  }
  let bit = sig.startBit;
  for (let i = 1; i < sig.length; i++) {
    bit = bit % 8 === 0 ? bit + 15 : bit - 1;
  }
  return sig.startBit < bytes * 8 && bit < bytes * 8;
}
