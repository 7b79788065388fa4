import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A self-signed certificate (its own CA: a client that trusts it trusts the server), made with Debian's
 * openssl for the test that needs it: an EC P-256 key, valid two days, for 127.0.0.1 or the host names
 * or IP addresses given (then for those alone; the first is its common name).
 */
export function selfSignedCertificate(hostName?: string | string[]): { certFile: string; keyFile: string } {
  const names = hostName === undefined ? [] : [hostName].flat();
  const dir = mkdtempSync(join(tmpdir(), 'carphone-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      `/CN=${names[0] ?? '127.0.0.1'}`,
      '-addext',
      `subjectAltName=${names.length ? names.map((n) => `${isIP(n) ? 'IP' : 'DNS'}:${n}`).join(',') : 'IP:127.0.0.1'}`,
    ],
    { stdio: 'pipe' },
  );
  return { certFile, keyFile };
}
