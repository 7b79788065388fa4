import { createSocket } from 'node:dgram';
import * as sip from 'sip';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../service/core/clock.js';
import { silentLogger } from '../../service/log/logger.js';
import { RegistrarClient } from '../../service/sip/registrar-client.js';
import { SipStack } from '../../service/sip/stack.js';
import { Kamailio } from '../harness/kamailio.js';
import { waitFor } from '../harness/process.js';
import { freePort } from '../harness/ports.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let kam: Kamailio | undefined;
let stack: SipStack | undefined;
let client: RegistrarClient | undefined;

afterEach(async () => {
  await client?.stop();
  stack?.close();
  await kam?.stop();
  client = stack = kam = undefined;
});

/** A registrar client of user 1000, registered with kamailio over `transport`; its statuses go to `statuses`. */
async function registerWith(
  k: Kamailio,
  transport: 'udp' | 'tcp',
  keepAliveSeconds: number,
  statuses: string[],
): Promise<RegistrarClient> {
  stack = await SipStack.open({ address: '127.0.0.1', port: 0, transport, logger: silentLogger });
  const registrar = new RegistrarClient({
    stack,
    clock: systemClock,
    logger: silentLogger,
    registrar: `sip:127.0.0.1:${k.port};transport=${transport}`,
    aor: 'sip:1000@127.0.0.1',
    contact: `sip:1000@127.0.0.1:${stack.port};transport=${transport}`,
    credentials: { user: '1000', password: 'secret-1000' },
    expires: 600,
    keepAliveSeconds,
    userAgent: 'carphone-test',
    onStatus: (status) => statuses.push(status),
  });
  client = registrar;
  registrar.start();
  await waitFor('registered', () => registrar.status === 'registered');
  return registrar;
}

describe('a line waking from suspend', () => {
  it('registers afresh with kamailio at once, not at its refresh time 5 minutes later', async () => {
    kam = await Kamailio.start({ users: [{ user: '1000', password: 'secret-1000' }] });
    const statuses: string[] = [];
    const registrar = await registerWith(kam, 'udp', 0, statuses);
    const registers = (): number => (kam?.log().match(/REQ REGISTER /g) ?? []).length;
    const before = registers();
    statuses.length = 0;

    registrar.wokeUp();

    await waitFor('registered again', () => statuses.at(-1) === 'registered' && registers() > before, 5000);
    expect(statuses).toEqual(['registering', 'registered']);
  });
});

describe('keep-alives to the registrar', () => {
  it('sends kamailio an OPTIONS about every keepAliveSeconds while registered, and no REGISTER more', async () => {
    kam = await Kamailio.start({ users: [{ user: '1000', password: 'secret-1000' }] });
    const statuses: string[] = [];
    const registrar = await registerWith(kam, 'udp', 1, statuses);
    const mark = kam.logMark();
    await sleep(3500);
    const seen = kam.logSince(mark).join('\n');
    // 0.8-1 s apart: three or four in 3.5 s, each answered, so the binding stands as it was.
    expect((seen.match(/REQ OPTIONS sip:127\.0\.0\.1/g) ?? []).length).toBeGreaterThanOrEqual(3);
    expect(seen).not.toMatch(/REQ REGISTER/);
    expect(statuses).toEqual(['registering', 'registered']);
    // Un-registered, the line sends none.
    await registrar.stop();
    const stopped = kam.logMark();
    await sleep(2500);
    expect(kam.logSince(stopped).join('\n')).not.toMatch(/REQ OPTIONS/);
  });

  it('registers again at once when the registrar stops answering, and is registered as soon as it is back', async () => {
    const port = await freePort();
    kam = await Kamailio.start({ port, users: [{ user: '1000', password: 'secret-1000' }] });
    const statuses: string[] = [];
    await registerWith(kam, 'tcp', 1, statuses);
    await kam.stop();
    // The binding would otherwise be taken as good until its refresh, 300 s on.
    await waitFor('failed', () => statuses.at(-1) === 'failed', 5000);
    expect(statuses).toEqual(['registering', 'registered', 'registering', 'failed']);
    kam = await Kamailio.start({ port, users: [{ user: '1000', password: 'secret-1000' }] });
    await waitFor('registered again', () => statuses.at(-1) === 'registered', 10_000);
  });
});

describe('a line moving to a new address', () => {
  it('registers its new Contact from there at once, removing the old binding in the same REGISTER', async () => {
    // A registrar of our own: it answers every REGISTER 200 and keeps what came.
    const registrarSocket = createSocket('udp4');
    await new Promise<void>((resolve) => registrarSocket.bind(0, '127.0.0.1', resolve));
    const seen: { from: string; contacts: string[] }[] = [];
    registrarSocket.on('message', (data, from) => {
      const rq = sip.parse(data);
      if (!rq || !('method' in rq)) {
        return;
      }
      seen.push({
        from: from.address,
        contacts: (Array.isArray(rq.headers.contact) ? rq.headers.contact : []).map((c) =>
          c.params.expires !== undefined ? `${c.uri};expires=${String(c.params.expires)}` : c.uri,
        ),
      });
      registrarSocket.send(sip.stringify(sip.makeResponse(rq, 200, 'OK')), from.port, from.address);
    });
    const moved = await SipStack.open({
      address: '127.0.0.2',
      port: 0,
      transport: 'udp',
      logger: silentLogger,
    });
    try {
      stack = await SipStack.open({ address: '127.0.0.1', port: 0, transport: 'udp', logger: silentLogger });
      const statuses: string[] = [];
      const registrar = new RegistrarClient({
        stack,
        clock: systemClock,
        logger: silentLogger,
        registrar: `sip:127.0.0.1:${registrarSocket.address().port}`,
        aor: 'sip:1000@127.0.0.1',
        contact: stack.contactUri('1000'),
        credentials: undefined,
        expires: 600,
        keepAliveSeconds: 0,
        userAgent: 'carphone-test',
        onStatus: (status) => statuses.push(status),
      });
      client = registrar;
      registrar.start();
      await waitFor('registered', () => registrar.status === 'registered');
      const before = stack.contactUri('1000');

      registrar.moveTo(moved, moved.contactUri('1000'));

      await waitFor('the REGISTER from the new address', () => seen.length === 2);
      expect(seen[1]).toEqual({
        from: '127.0.0.2',
        contacts: [moved.contactUri('1000'), `${before};expires=0`],
      });
      // The old binding is gone once that was answered: the next REGISTER names the new Contact alone.
      await waitFor('registered again', () => statuses.at(-1) === 'registered' && seen.length === 2);
      registrar.wokeUp();
      await waitFor('a fresh REGISTER', () => seen.length === 3);
      expect(seen[2]?.contacts).toEqual([moved.contactUri('1000')]);
      // The line never showed itself unregistered while it moved.
      expect(statuses.filter((s) => s !== 'registered' && s !== 'registering')).toEqual([]);
    } finally {
      await client?.stop(500);
      client = undefined;
      moved.close();
      registrarSocket.close();
    }
  });
});
