import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../service/core/errors.js';
import { systemClock } from '../../../service/core/clock.js';
import { parseGnssSource } from '../../../service/gnss/gnss-source.js';
import { silentLogger } from '../../../service/log/logger.js';
import { parseCanSource } from '../../../service/vehicle/can-source.js';

function configError(parse: () => unknown): ConfigError {
  try {
    parse();
  } catch (e) {
    if (e instanceof ConfigError) {
      return e;
    }
    throw e;
  }
  throw new Error('parsed without an error');
}

describe('addresses and ports inside a CAN or GNSS source string', () => {
  it('takes a port alone or an IPv4 address and port for CAN over UDP', () => {
    expect(parseCanSource('udp:20000').description).toBe('udp:127.0.0.1:20000');
    expect(parseCanSource('udp:0.0.0.0:20000').description).toBe('udp:0.0.0.0:20000');
  });

  it.each([
    'udp:999.1.1.1:20000',
    'udp:10.0.0:20000',
    'udp:can-gw:20000',
    'udp:70000',
    'udp:0',
    'udp:',
    'udp:1:2:3',
  ])('refuses %s naming vehicle.can', (spec) => {
    expect(configError(() => parseCanSource(spec)).key).toBe('vehicle.can');
  });

  it.each([
    ['gpsd', 'gpsd:127.0.0.1:2947'],
    ['gpsd:3000', 'gpsd:127.0.0.1:3000'],
    ['gpsd:10.1.2.3', 'gpsd:10.1.2.3:2947'],
    ['gpsd:10.1.2.3:3000', 'gpsd:10.1.2.3:3000'],
  ])('takes %s as %s', (spec, description) => {
    expect(parseGnssSource(spec, systemClock, silentLogger).description).toBe(description);
  });

  it.each([
    'gpsd:999.1.1.1:2947',
    'gpsd:127.0.0.1:99999',
    'gpsd:127.0.0.1:0',
    'gpsd:99999',
    'gpsd:x',
    'gpsd:1.2.3.4:5:6',
  ])('refuses %s naming gnss.source', (spec) => {
    const e = configError(() => parseGnssSource(spec, systemClock, silentLogger));
    expect(e.key).toBe('gnss.source');
    expect(e.message).toContain(spec);
  });
});
