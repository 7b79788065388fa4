import { createSecureContext } from 'node:tls';

/** Why a PEM certificate and private key cannot be used together (the key is not the certificate's), if so. */
export function keyPairProblem(cert: string, key: string): string | undefined {
  try {
    createSecureContext({ cert, key });
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
