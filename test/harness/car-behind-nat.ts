import type { OfonoClient } from '../../service/client/ofono-client.js';
import { Carphoned } from './carphoned.js';
import type { Kamailio } from './kamailio.js';
import type { NatNetwork } from './nat-network.js';
import { waitFor } from './process.js';

/**
 * carphoned in the car's namespace of a NatNetwork, its line 1000 registered with kamailio in the core
 * through the NAT; `account` and `config` add to the line's and the daemon's configuration.
 */
export async function carBehindNat(
  net: NatNetwork,
  kam: Kamailio,
  busAddress: string,
  account: object,
  config: object = {},
): Promise<{ daemon: Carphoned; client: OfonoClient }> {
  const daemon = await Carphoned.start(
    {
      dbus: { bus: busAddress },
      echoTest: { enabled: false },
      ...config,
      accounts: [
        {
          id: 'sip0',
          user: '1000',
          password: 'secret-1000',
          domain: net.coreAddress,
          registrar: kam.uri,
          listen: { address: net.carAddress, port: 0 },
          ...account,
        },
      ],
    },
    [],
    {},
    undefined,
    net.car,
  );
  const client = await daemon.client();
  await waitFor(
    'registered',
    async () => (await client.properties('/sip0', 'org.carphone.SipAccount')).Registration === 'registered',
    15_000,
  );
  return { daemon, client };
}
