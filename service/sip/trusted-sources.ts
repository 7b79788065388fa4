import { errorMessage } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import { hopOf, numericHop } from './next-hop-resolver.js';

/**
 * The addresses a line takes new requests from when it takes them only through its proxies: those its
 * registrar, outbound proxy and the like resolve to. A head unit on a mobile network's public address
 * is found by SIP scanners within hours; their INVITEs would otherwise ring in the car. Addresses are
 * compared without the port, as a proxy's TCP and TLS connections come from ports of its own choosing.
 */
export class TrustedSources {
  private readonly byUri = new Map<string, readonly string[]>();

  constructor(
    private readonly uris: readonly string[],
    private readonly addressesOf: (uri: string) => Promise<string[]>,
    private readonly logger: Logger,
  ) {
    // An address in the URI itself is trusted at once, before any lookup.
    for (const uri of uris) {
      const hop = hopOf(uri);
      const numeric = hop ? numericHop(hop) : undefined;
      if (numeric) {
        this.byUri.set(uri, [numeric.address]);
      }
    }
  }

  includes(address: string): boolean {
    for (const addresses of this.byUri.values()) {
      if (addresses.includes(address)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Looks the names up again (a registration is a good moment: its proxy was just reached). A name that
   * cannot be looked up now keeps the addresses it had, so that a DNS outage refuses no proxy.
   */
  async refresh(): Promise<void> {
    await Promise.all(
      this.uris.map(async (uri) => {
        try {
          this.byUri.set(uri, await this.addressesOf(uri));
        } catch (e) {
          this.logger.warn({ uri, err: errorMessage(e) }, 'trusted source not looked up');
        }
      }),
    );
  }
}
