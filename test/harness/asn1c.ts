import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './carphoned.js';

const moduleFor = (version: 2 | 3): string =>
  join(REPO, `service/ecall/msd/asn1/MSDASN1Module-v${version}.asn`);
const built = new Map<number, string>();

/**
 * An independent UPER codec for the MSD: Debian's asn1c compiles the ASN.1 module to C, and its
 * converter-sample turns PER into XER and back. Built once per test run.
 */
export function asn1cConverter(version: 2 | 3 = 3): string {
  const cached = built.get(version);
  if (cached && existsSync(cached)) {
    return cached;
  }
  const dir = mkdtempSync(join(tmpdir(), 'carphone-asn1c-'));
  execFileSync('asn1c', ['-gen-PER', '-pdu=auto', moduleFor(version)], { cwd: dir, stdio: 'pipe' });
  const sources = readdirSync(dir).filter((f) => f.endsWith('.c'));
  execFileSync(
    'cc',
    ['-O1', '-w', '-DPDU=ECallMessage', '-DASN_PDU_COLLECTION', '-I.', '-o', 'msdconv', ...sources, '-lm'],
    { cwd: dir, stdio: 'pipe' },
  );
  const path = join(dir, 'msdconv');
  built.set(version, path);
  return path;
}

function run(args: string[], input: Uint8Array | string, version: 2 | 3): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'carphone-asn1c-io-'));
  const file = join(dir, 'in');
  writeFileSync(file, input);
  return execFileSync(asn1cConverter(version), [...args, file], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** asn1c's decoding of UPER bytes of `pdu`, as XER text. */
export function asn1cPerToXer(pdu: string, per: Uint8Array, version: 2 | 3 = 3): string {
  return run(['-p', pdu, '-iper', '-oxer'], per, version).toString();
}

/** asn1c's UPER encoding of an XER document. */
export function asn1cXerToPer(pdu: string, xer: string, version: 2 | 3 = 3): Uint8Array {
  return Uint8Array.from(run(['-p', pdu, '-ixer', '-oper'], xer, version));
}

type XerValue = string | boolean | XerObject;
export interface XerObject {
  [k: string]: XerValue;
}

/** Reads asn1c's XER output into nested objects: <true/> → true, <enumValue/> → "enumValue". */
export function parseXer(xml: string): XerObject {
  const tokens = xml.match(/<[^>]+>|[^<]+/g) ?? [];
  const stack: { name: string; obj: XerObject; text: string }[] = [{ name: '', obj: {}, text: '' }];
  for (const t of tokens) {
    const top = stack[stack.length - 1];
    if (!top) {
      break;
    }
    if (t.startsWith('</')) {
      const done = stack.pop();
      const parent = stack[stack.length - 1];
      if (done && parent) {
        const keys = Object.keys(done.obj);
        // An element with neither children nor text is an empty SEQUENCE (all its fields at default).
        parent.obj[done.name] = keys.length > 0 || done.text.trim() === '' ? done.obj : done.text.trim();
      }
    } else if (t.endsWith('/>')) {
      const name = t.slice(1, -2).trim();
      const keys = Object.keys(top.obj);
      if (keys.length === 0 && top.text.trim() === '') {
        top.text = name; // an empty element inside a leaf: a boolean or an enumeration value
      }
    } else if (t.startsWith('<')) {
      stack.push({ name: t.slice(1, -1).trim(), obj: {}, text: '' });
    } else {
      top.text += t;
    }
  }
  const root = stack[0]?.obj ?? {};
  const fix = (o: XerObject): XerObject => {
    for (const [k, v] of Object.entries(o)) {
      o[k] = typeof v === 'object' ? fix(v) : v === 'true' ? true : v === 'false' ? false : v;
    }
    return o;
  };
  return fix(root);
}
