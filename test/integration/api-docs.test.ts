import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OfonoClient } from '../../service/client/ofono-client.js';
import { Carphoned, REPO } from '../harness/carphoned.js';
import { PrivateBus } from '../harness/dbus-daemon.js';
import { freePort } from '../harness/ports.js';

interface DocumentedInterface {
  file: string;
  methods: string[];
  signals: string[];
  properties: string[];
  /** Properties marked [optional]: absent while their value is unknown. */
  optional: string[];
}

/** Reads docs/api/*.txt (oFono's doc format): the members listed under Methods, Signals, Properties. */
function readDocs(): Map<string, DocumentedInterface> {
  const dir = join(REPO, 'docs/api');
  const out = new Map<string, DocumentedInterface>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('-api.txt'))) {
    const text = readFileSync(join(dir, file), 'utf8');
    const iface = /^Interface\t(\S+)/m.exec(text)?.[1];
    if (!iface) {
      continue;
    }
    const doc: DocumentedInterface = { file, methods: [], signals: [], properties: [], optional: [] };
    let section: 'methods' | 'signals' | 'properties' | undefined;
    for (const line of text.split('\n')) {
      const head = /^(Methods|Signals|Properties)\t/.exec(line)?.[1];
      if (head) {
        section = head.toLowerCase() as typeof section;
      }
      const entry = line.replace(/^(Methods|Signals|Properties)\t/, '\t');
      if (!section || !/^\t\t?\S/.test(entry)) {
        continue;
      }
      if (section === 'properties') {
        const m =
          /^\t\t?(?:string|boolean|byte|double|int32|uint16|uint32|object|dict|array\{[a-z,]+\}) (\w+) \[/.exec(
            entry,
          );
        if (m?.[1]) {
          doc.properties.push(m[1]);
          if (/\[[^\]]*optional/.test(entry)) {
            doc.optional.push(m[1]);
          }
        }
      } else {
        const m = /^\t\t?(?:[\w{},]+ )?([A-Z]\w+)\(/.exec(entry);
        if (m?.[1]) {
          doc[section].push(m[1]);
        }
      }
    }
    out.set(iface, doc);
  }
  return out;
}

function introspected(xml: string, iface: string): { methods: string[]; signals: string[] } {
  const block =
    new RegExp(`<interface name="${iface.replace(/\./g, '\\.')}">([\\s\\S]*?)</interface>`).exec(xml)?.[1] ??
    '';
  const names = (kind: string): string[] =>
    [...block.matchAll(new RegExp(`<${kind} name="(\\w+)"`, 'g'))].map((m) => m[1] ?? '');
  return { methods: names('method'), signals: names('signal') };
}

describe('docs/api matches the live D-Bus objects', () => {
  let bus: PrivateBus;
  let daemon: Carphoned;
  let client: OfonoClient;
  const docs = readDocs();

  beforeAll(async () => {
    bus = await PrivateBus.start();
    daemon = await Carphoned.start(
      {
        dbus: { bus: bus.address },
        accounts: [{ id: 'sip0', user: 'u', domain: '127.0.0.1' }],
        ecall: { psap: 'sip:127.0.0.1:9', vin: 'WVWZZZ1KZAW123456' },
      },
      ['--can', `udp:${await freePort()}`],
    );
    client = await daemon.client();
  });

  afterAll(async () => {
    client?.disconnect();
    await daemon?.stop();
    await bus?.stop();
  });

  const objects: [string, string[]][] = [
    ['/', ['org.ofono.Manager']],
    [
      '/sip0',
      [
        'org.ofono.Modem',
        'org.ofono.VoiceCallManager',
        'org.ofono.CallVolume',
        'org.ofono.NetworkRegistration',
        'org.ofono.MessageManager',
        'org.carphone.SipAccount',
        'org.carphone.Emergency',
      ],
    ],
    ['/sip0/voicecall01', ['org.ofono.VoiceCall', 'org.carphone.CallQuality']],
    ['/vehicle', ['org.carphone.Vehicle']],
    ['/history', ['org.carphone.CallHistory', 'org.carphone.MessageHistory']],
    ['/contacts', ['org.carphone.Contacts']],
  ];

  it('documents every method and signal each interface has, and no more', async () => {
    const call = await client.dial('/sip0', '*43');
    await client.waitForCallState(call, 'active');
    for (const [path, ifaces] of objects) {
      const xml = (await client.call(path, 'org.freedesktop.DBus.Introspectable', 'Introspect')) as string;
      for (const iface of ifaces) {
        const doc = docs.get(iface);
        expect(doc, `docs/api has no file for ${iface}`).toBeDefined();
        const live = introspected(xml, iface);
        // GetProperties is part of oFono's property pattern; the Manager has no properties to get.
        const liveMethods =
          iface === 'org.ofono.Manager' ? live.methods.filter((m) => m !== 'GetProperties') : live.methods;
        const liveSignals =
          iface === 'org.ofono.Manager' ? live.signals.filter((m) => m !== 'PropertyChanged') : live.signals;
        expect(doc?.methods.sort(), `${iface} methods in ${doc?.file}`).toEqual(liveMethods.sort());
        expect(doc?.signals.sort(), `${iface} signals in ${doc?.file}`).toEqual(liveSignals.sort());
        if (iface !== 'org.ofono.Manager') {
          const props = Object.keys(await client.properties(path, iface)).sort();
          const required = (doc?.properties ?? []).filter((p) => !doc?.optional.includes(p)).sort();
          expect(
            props.filter((p) => !doc?.properties.includes(p)),
            `${iface} properties missing from ${doc?.file}`,
          ).toEqual([]);
          expect(
            required.filter((p) => !props.includes(p)),
            `${iface} documented but absent`,
          ).toEqual([]);
        }
      }
    }
    await client.hangup(call);
  });
});
