import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seeded } from '../../bench/jitter/traces.js';
import { OfonoClientError, type OfonoClient } from '../../service/client/ofono-client.js';
import { Carphoned, REPO } from '../harness/carphoned.js';
import { PrivateBus } from '../harness/dbus-daemon.js';
import { randomArguments } from '../harness/dbus-values.js';
import { RawSipPeer } from '../harness/sip-fuzz.js';
import { failuresLogged } from '../harness/failure-logs.js';
import { freePort } from '../harness/ports.js';
import { waitFor } from '../harness/process.js';

/**
 * Every method carphoned exports, found by introspection, called with seeded random arguments of its
 * signature and with arguments of the wrong signature, by a client that may be any process allowed on
 * the bus (FUZZ_SEED=n explores other seeds). Each call must end in a reply or in one of the named
 * errors docs/errors.md lists, never in an exception caught by a catch-all; afterwards every object
 * still answers and the echo line still takes a call.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 1);
const ROUNDS = 3;
const CALLS_PER_METHOD = 12;

const NAMED_ERRORS =
  /^(org\.ofono\.Error\.(InvalidArguments|InvalidFormat|NotImplemented|NotSupported|NotAllowed|Failed|InProgress|NotFound|NotAvailable|AccessDenied)|org\.freedesktop\.DBus\.Error\.(UnknownObject|UnknownMethod|UnknownInterface))$/;

interface Method {
  path: string;
  iface: string;
  name: string;
  signature: string;
}

let bus: PrivateBus;
let daemon: Carphoned;
let client: OfonoClient;
let psap: RawSipPeer;

beforeAll(async () => {
  bus = await PrivateBus.start();
  // A PSAP that refuses every eCall: Trigger starts eCalls that fail after their redials.
  psap = await RawSipPeer.open({ host: '127.0.0.1', port: 9 }, '503 Service Unavailable');
  const canPort = await freePort();
  daemon = await Carphoned.start(
    {
      dbus: { bus: bus.address },
      accounts: [{ id: 'local', user: 'driver', domain: '127.0.0.1' }],
      contacts: { vcard: join(REPO, 'test/fixtures/contacts.vcf') },
      ecall: { psap: `sip:127.0.0.1:${psap.port}`, vin: 'WVWZZZ1KZAW123456', redialSeconds: [0.2, 0.2] },
    },
    ['--can', `udp:${canPort}`],
  );
  client = await daemon.client();
});

afterAll(async () => {
  client?.disconnect();
  await daemon?.stop();
  await bus?.stop();
  psap?.close();
});

async function introspect(path: string): Promise<string> {
  return (await client.call(path, 'org.freedesktop.DBus.Introspectable', 'Introspect')) as string;
}

/** carphoned's objects and their methods (not the org.freedesktop ones every object has). */
async function exportedMethods(): Promise<Method[]> {
  const methods: Method[] = [];
  const pending = ['/'];
  while (pending.length > 0) {
    const path = pending.shift() ?? '/';
    const xml = await introspect(path);
    for (const child of xml.matchAll(/<node name="([^"]+)"/g)) {
      pending.push(`${path === '/' ? '' : path}/${child[1] ?? ''}`);
    }
    for (const iface of xml.matchAll(/<interface name="([^"]+)">([\s\S]*?)<\/interface>/g)) {
      const [, name = '', body = ''] = iface;
      if (name.startsWith('org.freedesktop.')) {
        continue;
      }
      for (const method of body.matchAll(/<method name="([^"]+)"(?:\/>|>([\s\S]*?)<\/method>)/g)) {
        const args = [...(method[2] ?? '').matchAll(/<arg ([^>]*)\/>/g)].map((a) => a[1] ?? '');
        const signature = args
          .filter((a) => !/direction="out"/.test(a))
          .map((a) => /type="([^"]+)"/.exec(a)?.[1] ?? '')
          .join('');
        methods.push({ path, iface: name, name: method[1] ?? '', signature });
      }
    }
  }
  return methods;
}

describe('calls from D-Bus clients', () => {
  it('answers every method called with random arguments with a reply or a named error, and wrongly typed ones with InvalidArguments', async () => {
    const rand = seeded(SEED);
    const outcomes = new Map<string, number>();
    const unnamed: string[] = [];
    const wronglyTyped: string[] = [];
    const interfacesSeen = new Set<string>();
    for (let round = 0; round < ROUNDS; round++) {
      // Calls come and go (Dial makes them, Hangup ends them): one is made to be there, and the
      // objects are looked up again every round.
      await client.setProperty('/local', 'org.ofono.Modem', 'Powered', 'b', true);
      // (Refused while an eCall that Trigger started is on: that round has no call object.)
      await client.dial('/local', '*43').catch(() => undefined);
      // A text to where nothing answers: its Message object stays while the network is silent (32 s).
      await client.call('/local', 'org.ofono.MessageManager', 'SendMessage', 'ss', [
        'sip:nobody@127.0.0.1:9',
        'fuzz',
      ]);
      const methods = await exportedMethods();
      methods.forEach((m) => interfacesSeen.add(m.iface));
      for (const m of methods) {
        for (let k = 0; k < CALLS_PER_METHOD; k++) {
          const wrong = k === CALLS_PER_METHOD - 1;
          const signature = wrong ? (m.signature === 's' ? 'u' : 's') : m.signature;
          const args = randomArguments(signature, rand);
          try {
            await client.call(m.path, m.iface, m.name, signature, args);
            outcomes.set('reply', (outcomes.get('reply') ?? 0) + 1);
          } catch (e) {
            if (!(e instanceof OfonoClientError)) {
              throw e;
            }
            outcomes.set(e.type, (outcomes.get(e.type) ?? 0) + 1);
            // As oFono does (and docs/errors.md says); a call's object may be gone by now.
            const fleeting = m.path.includes('/voicecall') || m.path.includes('/message_');
            if (wrong && !fleeting && e.type !== 'org.ofono.Error.InvalidArguments') {
              wronglyTyped.push(`${m.iface}.${m.name}(${signature}) on ${m.path}: ${e.type}`);
            }
            if (!NAMED_ERRORS.test(e.type) || e.message.includes('internal error')) {
              unnamed.push(`${m.iface}.${m.name}(${signature}) on ${m.path}: ${e.type} ${e.message}`);
            }
          }
        }
      }
    }
    expect(unnamed).toEqual([]);
    expect(wronglyTyped).toEqual([]);
    expect(failuresLogged(daemon)).toEqual([]);
    // It reached every interface docs/api describes, and their handlers: replies and the errors of
    // argument checks both came back.
    expect([...interfacesSeen].sort()).toEqual([
      'org.carphone.CallHistory',
      'org.carphone.CallQuality',
      'org.carphone.Contacts',
      'org.carphone.Emergency',
      'org.carphone.MessageHistory',
      'org.carphone.SipAccount',
      'org.carphone.Vehicle',
      'org.ofono.CallForwarding',
      'org.ofono.CallSettings',
      'org.ofono.CallVolume',
      'org.ofono.Manager',
      'org.ofono.Message',
      'org.ofono.MessageManager',
      'org.ofono.MessageWaiting',
      'org.ofono.Modem',
      'org.ofono.NetworkRegistration',
      'org.ofono.VoiceCall',
      'org.ofono.VoiceCallManager',
    ]);
    expect(outcomes.get('reply') ?? 0).toBeGreaterThan(50);
    expect(outcomes.get('org.ofono.Error.InvalidArguments') ?? 0).toBeGreaterThan(50);

    // Every object still answers, and the echo line still takes a call.
    for (const m of await exportedMethods()) {
      if (m.name === 'GetProperties') {
        await client.properties(m.path, m.iface);
      }
    }
    await client.setProperty('/local', 'org.ofono.Modem', 'Powered', 'b', true);
    await waitFor(
      'the eCalls to end',
      async () => {
        const { State } = await client.properties('/local', 'org.carphone.Emergency');
        return State === 'idle' || State === 'failed' ? true : undefined;
      },
      20_000,
    );
    await client.call('/local', 'org.ofono.VoiceCallManager', 'HangupAll');
    await waitFor(
      'no calls',
      async () => ((await client.calls('/local')).length === 0 ? true : undefined),
      10_000,
    );
    const path = await client.dial('/local', '*43');
    await client.waitForCallState(path, 'active', 10_000);
    await client.hangup(path);
    expect(daemon.child.exited).toBe(false);
  });
});
