#!/usr/bin/env -S npx tsx
import { Command, CommanderError } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { OfonoClient, OfonoClientError, type Props } from '../client/ofono-client.js';
import { decodeECallMessage, encodeECallMessage, type ECallMessage } from '../ecall/msd/msd.js';

/**
 * carphonectl: carphoned's command line over D-Bus. Exit codes a script can rely on:
 *   0 done · 1 the service refused (the D-Bus error name is printed), or an MSD is invalid · 2 usage error
 *   3 the service cannot be reached · 4 nothing to act on (no such call, no incoming call)
 */
const EXIT = { ok: 0, refused: 1, usage: 2, unreachable: 3, nothing: 4 } as const;

class CtlError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

interface GlobalOptions {
  bus?: string;
  name: string;
  modem?: string;
}

const program = new Command()
  .name('carphonectl')
  .description('control carphoned over D-Bus')
  .option(
    '--bus <address>',
    'D-Bus address, or "system" (default: $CARPHONE_BUS, then $DBUS_SESSION_BUS_ADDRESS)',
  )
  .option('--name <name>', 'service name on the bus', process.env.CARPHONE_NAME ?? 'org.carphone')
  .option('--modem <path>', 'line to act on (default: the first one)')
  .exitOverride();

async function connect(): Promise<OfonoClient> {
  const o = program.opts<GlobalOptions>();
  const address = o.bus ?? process.env.CARPHONE_BUS ?? process.env.DBUS_SESSION_BUS_ADDRESS;
  if (!address) {
    throw new CtlError(
      EXIT.unreachable,
      'no bus given: use --bus, or set CARPHONE_BUS to the DBUS_ADDRESS carphoned printed',
    );
  }
  let client: OfonoClient;
  try {
    client = await OfonoClient.connect(address, o.name);
  } catch (e) {
    throw new CtlError(
      EXIT.unreachable,
      `cannot connect to ${address}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  if (!(await client.owner())) {
    client.disconnect();
    throw new CtlError(EXIT.unreachable, `${o.name} is not running on ${address}`);
  }
  return client;
}

async function modemPath(client: OfonoClient): Promise<string> {
  const chosen = program.opts<GlobalOptions>().modem;
  const modems = await client.modems();
  if (chosen) {
    const path = chosen.startsWith('/') ? chosen : `/${chosen}`;
    if (!modems.some(([p]) => p === path)) {
      throw new CtlError(
        EXIT.nothing,
        `no line ${path}; lines: ${modems.map(([p]) => p).join(' ') || 'none'}`,
      );
    }
    return path;
  }
  const first = modems[0];
  if (!first) {
    throw new CtlError(EXIT.nothing, 'carphoned has no lines configured');
  }
  return first[0];
}

/** D-Bus values are strings, numbers and booleans here; show anything else as JSON. */
function text(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v);
}

/** " forwarded REASON [from NUMBER]" for a call (or call log entry) the network forwarded, else "". */
function forwardedWords(p: Props): string {
  const from = p.ForwardedFrom ? ` from ${text(p.ForwardedFrom)}` : '';
  return p.Forwarded ? ` forwarded ${text(p.Forwarded)}${from}` : '';
}

function formatCall(path: string, p: Props): string {
  const since = p.StartTime ? ` since ${text(p.StartTime)}` : '';
  const name = p.Name ? ` (${text(p.Name)})` : '';
  const flags = `${p.Multiparty ? ' MULTIPARTY' : ''}${p.Emergency ? ' EMERGENCY' : ''}`;
  return `${path} ${text(p.State)} ${text(p.LineIdentification)}${name}${since}${forwardedWords(p)}${flags}`;
}

/** A list command's optional limit: 20 unless given. */
function listLimit(limit: string | undefined, what: string): number {
  const n = limit === undefined ? 20 : Number(limit);
  if (!Number.isInteger(n) || n < 1) {
    throw new CtlError(EXIT.usage, `limit must be a whole number of ${what}, not "${limit ?? ''}"`);
  }
  return n;
}

function action(fn: (client: OfonoClient, ...args: string[]) => Promise<void>) {
  return async (...args: unknown[]): Promise<void> => {
    const client = await connect();
    try {
      await fn(client, ...args.filter((a): a is string => typeof a === 'string'));
    } finally {
      client.disconnect();
    }
  };
}

program
  .command('status')
  .description('lines, their registration, and calls; missed calls and new messages not yet seen')
  .action(
    action(async (client) => {
      for (const [path, props] of await client.modems()) {
        const acct = await client.properties(path, 'org.carphone.SipAccount');
        const err = acct.RegistrationError ? ` (${text(acct.RegistrationError)})` : '';
        const seenAs = acct.PublicAddress ? ` public ${text(acct.PublicAddress)}` : '';
        console.log(
          `${path} ${text(props.Name)} ${props.Powered ? 'on' : 'off'} ${text(acct.Registration)}${err} ${text(acct.Aor)}${seenAs}`,
        );
        const vm = await client.properties(path, 'org.ofono.MessageWaiting');
        if (vm.VoicemailWaiting === true) {
          const count = Number(vm.VoicemailMessageCount);
          const dial = vm.VoicemailMailboxNumber ? ` (dial ${text(vm.VoicemailMailboxNumber)})` : '';
          console.log(`  voicemail waiting: ${count > 0 ? `${count} new` : 'messages'}${dial}`);
        }
        for (const [callPath, callProps] of await client.calls(path)) {
          console.log(`  ${formatCall(callPath, callProps)}`);
        }
      }
      // Counted until an HMI shows them (MarkSeen, MarkRead): what the driver has not seen yet.
      const missed = Number((await client.properties('/history', 'org.carphone.CallHistory')).MissedCount);
      const unread = Number((await client.properties('/history', 'org.carphone.MessageHistory')).UnreadCount);
      if (missed > 0) {
        console.log(`missed calls: ${missed}`);
      }
      if (unread > 0) {
        console.log(`new messages: ${unread}`);
      }
    }),
  );

program
  .command('dial <number>')
  .description('place a call: +E.164, digits (*43 is the echo test) or a SIP URI; prints the call path')
  .option('--hide-caller-id', 'withhold the line\'s identity from the called party (hide_callerid "enabled")')
  .action((number: string, options: { hideCallerId?: boolean }) =>
    action(async (client) => {
      const hide = options.hideCallerId ? 'enabled' : '';
      console.log(await client.dial(await modemPath(client), number, hide));
    })(),
  );

program
  .command('answer')
  .description('answer the incoming call')
  .action(
    action(async (client) => {
      const modem = await modemPath(client);
      const incoming = (await client.calls(modem)).find(([, p]) => p.State === 'incoming');
      if (!incoming) {
        throw new CtlError(EXIT.nothing, 'no incoming call');
      }
      await client.answer(incoming[0]);
      console.log(incoming[0]);
    }),
  );

/** A call given as its object path or as its number in the call list ("1" for voicecall01). */
async function callPathOf(client: OfonoClient, modem: string, call: string): Promise<string> {
  const calls = await client.calls(modem);
  const path = call.startsWith('/')
    ? call
    : calls.find(([p]) => p.endsWith(`voicecall${call.padStart(2, '0')}`))?.[0];
  if (!path || !calls.some(([p]) => p === path)) {
    throw new CtlError(EXIT.nothing, `no call ${call}`);
  }
  return path;
}

program
  .command('hangup [call]')
  .description('hang up one call (its path or number in the list), the multiparty call, or all calls')
  .option('--multiparty', 'hang up every call of the multiparty call')
  .action((call: string | undefined, options: { multiparty?: boolean }) =>
    action(async (client) => {
      const modem = await modemPath(client);
      if (options.multiparty) {
        await client.manager(modem, 'HangupMultiparty');
      } else if (call) {
        await client.hangup(await callPathOf(client, modem, call));
      } else {
        await client.manager(modem, 'HangupAll');
      }
    })(),
  );

program
  .command('swap')
  .description('hold the active call and resume the held one')
  .action(action(async (client) => client.manager(await modemPath(client), 'SwapCalls')));

program
  .command('transfer')
  .description('connect the active and the held call with each other and leave both')
  .action(action(async (client) => client.manager(await modemPath(client), 'Transfer')));

program
  .command('join')
  .description('join the active and the held call into a multiparty call; prints its calls')
  .action(
    action(async (client) => {
      for (const path of await client.createMultiparty(await modemPath(client))) {
        console.log(path);
      }
    }),
  );

program
  .command('private <call>')
  .description('talk to one call of the multiparty call alone; the others are held; prints those left in it')
  .action(
    action(async (client, call) => {
      const modem = await modemPath(client);
      for (const path of await client.privateChat(modem, await callPathOf(client, modem, call))) {
        console.log(path);
      }
    }),
  );

/**
 * The line settings `set` changes: the name on the command line, oFono's interface and property, and
 * the D-Bus type of its value where it is not a string.
 */
const SETTINGS: Record<string, { iface: string; property: string; signature?: 'q' }> = {
  'hide-caller-id': { iface: 'org.ofono.CallSettings', property: 'HideCallerId' },
  'call-waiting': { iface: 'org.ofono.CallSettings', property: 'VoiceCallWaiting' },
  'voicemail-number': { iface: 'org.ofono.MessageWaiting', property: 'VoicemailMailboxNumber' },
  'forward-always': { iface: 'org.ofono.CallForwarding', property: 'VoiceUnconditional' },
  'forward-busy': { iface: 'org.ofono.CallForwarding', property: 'VoiceBusy' },
  'forward-no-reply': { iface: 'org.ofono.CallForwarding', property: 'VoiceNoReply' },
  'forward-no-reply-seconds': {
    iface: 'org.ofono.CallForwarding',
    property: 'VoiceNoReplyTimeout',
    signature: 'q',
  },
};

program
  .command('settings')
  .description("the line's settings, one per line: name value")
  .action(
    action(async (client) => {
      const modem = await modemPath(client);
      for (const [name, { iface, property }] of Object.entries(SETTINGS)) {
        console.log(`${name} ${text((await client.properties(modem, iface))[property])}`);
      }
    }),
  );

program
  .command('set <name> <value>')
  .description(
    'change a setting: hide-caller-id default|enabled|disabled, call-waiting enabled|disabled, voicemail-number NUMBER, forward-always|forward-busy|forward-no-reply NUMBER ("" for none), forward-no-reply-seconds 1-30',
  )
  .action((name: string, value: string) =>
    action(async (client) => {
      const setting = SETTINGS[name];
      if (!setting) {
        throw new CtlError(EXIT.usage, `no setting ${name}; settings: ${Object.keys(SETTINGS).join(', ')}`);
      }
      if (setting.signature === 'q' && !/^[0-9]{1,5}$/.test(value)) {
        throw new CtlError(EXIT.usage, `${name} takes a whole number of seconds`);
      }
      const typed = setting.signature === 'q' ? Number(value) : value;
      await client.setProperty(
        await modemPath(client),
        setting.iface,
        setting.property,
        setting.signature ?? 's',
        typed,
      );
    })(),
  );

program
  .command('voicemail')
  .description("call the line's voicemail number; prints the call path")
  .action(
    action(async (client) => {
      const modem = await modemPath(client);
      const number = text(
        (await client.properties(modem, 'org.ofono.MessageWaiting')).VoicemailMailboxNumber,
      );
      if (!number) {
        throw new CtlError(EXIT.nothing, 'no voicemail number: set one with "set voicemail-number NUMBER"');
      }
      console.log(await client.dial(modem, number));
    }),
  );

program
  .command('text <to> <message...>')
  .description('send a text message (SIP MESSAGE) and wait for the network to take it or refuse it')
  .action((to: string, words: string[]) =>
    action(async (client) => {
      const modem = await modemPath(client);
      const account = await client.properties(modem, 'org.carphone.SipAccount');
      if (account.Registrar && account.Registration !== 'registered') {
        const path = await client.call(modem, 'org.ofono.MessageManager', 'SendMessage', 'ss', [
          to,
          words.join(' '),
        ]);
        console.log(`${text(path)} pending: it goes when the line registers`);
        return;
      }
      const sent = await client.sendMessage(modem, to, words.join(' '));
      if (sent.state !== 'sent') {
        throw new CtlError(EXIT.refused, `${sent.path} failed: ${sent.reason}`);
      }
      console.log(`${sent.path} sent`);
    })(),
  );

/** What the SMS centre's status reports said of a text sent (MessageHistory's Delivery). */
const DELIVERY_WORDS: Record<string, string> = {
  waiting: ' (report awaited)',
  delivered: ' (delivered)',
  failed: ' (not delivered)',
};

program
  .command('messages [limit]')
  .description(
    'text messages received and sent, newest first: time direction number (name) state (unread, or what the delivery report said): text',
  )
  .action((limit: string | undefined) =>
    action(async (client) => {
      const entries = (await client.call('/history', 'org.carphone.MessageHistory', 'GetRecent', 'u', [
        listLimit(limit, 'messages'),
      ])) as Props[];
      for (const e of entries) {
        const name = e.Name ? ` (${text(e.Name)})` : '';
        const why = e.FailureReason ? ` [${text(e.FailureReason)}]` : '';
        const arrow = e.Direction === 'incoming' ? '<-' : '->';
        const after = e.Unread === true ? ' (unread)' : (DELIVERY_WORDS[text(e.Delivery)] ?? '');
        console.log(
          `${text(e.Time)} ${arrow} ${text(e.LineIdentification)}${name} ${text(e.State)}${after}${why}: ${text(e.Text)}`,
        );
      }
    })(),
  );

program
  .command('recents [limit]')
  .description(
    'the call log, newest first: time kind number (name) talk seconds, how it ended [forwarded REASON from NUMBER] [EMERGENCY]',
  )
  .action((limit: string | undefined) =>
    action(async (client) => {
      const entries = (await client.call('/history', 'org.carphone.CallHistory', 'GetRecent', 'u', [
        listLimit(limit, 'calls'),
      ])) as Props[];
      for (const e of entries) {
        const name = e.Name ? ` (${text(e.Name)})` : '';
        console.log(
          `${text(e.StartTime)} ${text(e.Kind)} ${text(e.LineIdentification)}${name} ${text(e.Duration)} s, ${text(e.DisconnectReason)}${forwardedWords(e)}${e.Emergency ? ' EMERGENCY' : ''}`,
        );
      }
    })(),
  );

program
  .command('calls')
  .description('list calls, one per line: path state number [since time]')
  .action(
    action(async (client) => {
      for (const [path, props] of await client.calls(await modemPath(client))) {
        console.log(formatCall(path, props));
      }
    }),
  );

program
  .command('monitor')
  .description('print events as they happen, one per line, until interrupted')
  .action(async () => {
    const client = await connect();
    client.onSignal((s) => console.log(`${s.path} ${s.interface}.${s.member} ${JSON.stringify(s.args)}`));
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
      client.bus.once('error', resolve);
    });
    client.disconnect();
  });

const msd = program
  .command('msd')
  .description('encode and decode eCall MSDs (EN 15722 v3, UPER) without a daemon');

msd
  .command('encode <file>')
  .description('encode an ECallMessage from JSON (ASN.1 field names as keys) to UPER; prints hex')
  .option('--out <file>', 'also write the binary encoding to this file')
  .action((file: string, o: { out?: string }) => {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8'));
    } catch (e) {
      throw new CtlError(EXIT.usage, `cannot read ${file} as JSON: ${(e as Error).message}`);
    }
    let bytes: Uint8Array;
    try {
      bytes = encodeECallMessage(json as ECallMessage);
    } catch (e) {
      throw new CtlError(EXIT.refused, `invalid MSD: ${(e as Error).message}`);
    }
    if (o.out) {
      writeFileSync(o.out, bytes);
    }
    console.log(Buffer.from(bytes).toString('hex'));
  });

msd
  .command('decode [hex]')
  .description('decode UPER (hex argument, or --file binary) to JSON')
  .option('--file <file>', 'read the binary encoding from a file')
  .action((hex: string | undefined, o: { file?: string }) => {
    let bytes: Uint8Array;
    if (o.file) {
      bytes = Uint8Array.from(readFileSync(o.file));
    } else if (hex && /^([0-9a-fA-F]{2})+$/.test(hex.replace(/\s/g, ''))) {
      bytes = Uint8Array.from(Buffer.from(hex.replace(/\s/g, ''), 'hex'));
    } else {
      throw new CtlError(EXIT.usage, 'give the MSD as hex digits, or --file FILE');
    }
    try {
      console.log(JSON.stringify(decodeECallMessage(bytes), null, 2));
    } catch (e) {
      throw new CtlError(EXIT.refused, `cannot decode: ${(e as Error).message}`);
    }
  });

async function main(): Promise<number> {
  try {
    await program.parseAsync();
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof CtlError) {
      console.error(`carphonectl: ${e.message}`);
      return e.exitCode;
    }
    if (e instanceof OfonoClientError) {
      console.error(`carphonectl: ${e.type}: ${e.message}`);
      return EXIT.refused;
    }
    console.error(`carphonectl: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT.refused;
  }
}

void main().then((code) => process.exit(code));
