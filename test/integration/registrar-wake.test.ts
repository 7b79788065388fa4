import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../service/core/clock.js';
import { silentLogger } from '../../service/log/logger.js';
import { RegistrarClient } from '../../service/sip/registrar-client.js';
import { SipStack } from '../../service/sip/stack.js';
import { Kamailio } from '../harness/kamailio.js';
import { waitFor } from '../harness/process.js';

let kam: Kamailio | undefined;
let stack: SipStack | undefined;
let client: RegistrarClient | undefined;

afterEach(async () => {
  await client?.stop();
  stack?.close();
  await kam?.stop();
  client = stack = kam = undefined;
});

describe('a line waking from suspend', () => {
  it('registers afresh with kamailio at once, not at its refresh time 5 minutes later', async () => {
    kam = await Kamailio.start({ users: [{ user: '1000', password: 'secret-1000' }] });
    stack = await SipStack.open({ address: '127.0.0.1', port: 0, transport: 'udp', logger: silentLogger });
    const statuses: string[] = [];
    const registrar = new RegistrarClient({
      stack,
      clock: systemClock,
      logger: silentLogger,
      registrar: `sip:127.0.0.1:${kam.port}`,
      aor: 'sip:1000@127.0.0.1',
      contact: `sip:1000@127.0.0.1:${stack.port}`,
      credentials: { user: '1000', password: 'secret-1000' },
      expires: 600,
      userAgent: 'carphone-test',
      onStatus: (status) => statuses.push(status),
    });
    client = registrar;
    registrar.start();
    await waitFor('registered', () => registrar.status === 'registered');
    const registers = (): number => (kam?.log().match(/REQ REGISTER /g) ?? []).length;
    const before = registers();
    statuses.length = 0;

    registrar.wokeUp();

    await waitFor('registered again', () => statuses.at(-1) === 'registered' && registers() > before, 5000);
    expect(statuses).toEqual(['registering', 'registered']);
  });
});
