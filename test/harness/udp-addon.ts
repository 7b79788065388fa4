import { udpAddon, type UdpAddon } from '../../service/media/transport/udp-addon.js';

/** native/udp, which `npm ci` builds: a machine where it did not build must fail the tests that need it, not skip them. */
export function builtUdpAddon(): UdpAddon {
  const loaded = udpAddon();
  if (!('addon' in loaded)) {
    throw new Error(loaded.reason);
  }
  return loaded.addon;
}
