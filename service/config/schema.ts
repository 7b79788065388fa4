import { isSupportedCountry, type CountryCode } from 'libphonenumber-js';
import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { hostOfAddress, ipFamily } from '../core/ip-address.js';
import { z } from 'zod';
import { PROPULSION_FIELDS } from '../ecall/msd/msd.js';
import { keyPairProblem } from '../core/tls-key-pair.js';
import { isPortText } from './endpoint.js';
import { isPhoneNumber } from '../sip/dial-string.js';
import { TONE_PLAN_NAMES } from '../media/tones.js';
import { DEFAULT_QUICK_REPLIES } from '../sms/quick-replies.js';

const ipv4 = z.string().refine((s) => isIPv4(s), 'must be an IPv4 address literal such as 127.0.0.1');
const interfaceName = z
  .string()
  .regex(/^[A-Za-z0-9_.:@-]{1,15}$/, 'must be a network interface name such as wwan0');

const ipAddress = z
  .string()
  .refine(
    (s) => ipFamily(s) !== undefined,
    'must be an IPv4 or IPv6 address literal such as 127.0.0.1 or ::1',
  );

const port = z.number().int().min(0, 'must be 0 (pick a free port) or 1-65535').max(65535);

/** A DNS server: an IPv4 address, or address:port. */
const dnsServer = z.string().refine((s) => {
  const [address = '', portText, more] = s.split(':');
  return more === undefined && isIPv4(address) && (portText === undefined || isPortText(portText));
}, 'must be an IPv4 address, or address:port (port 1-65535), such as 10.0.0.53');

const sipUri = z
  .string()
  .regex(/^sips?:[^\s]+$/, 'must be a SIP URI such as sip:127.0.0.1:5060 or sip:ims.example.net');

function holdsPemCertificates(path: string): boolean {
  try {
    return readFileSync(path, 'utf8').includes('-----BEGIN CERTIFICATE-----');
  } catch {
    return false;
  }
}

/** A PEM private key carphone can use without a passphrase (it has no one to ask). */
function holdsPemPrivateKey(path: string): boolean {
  try {
    const text = readFileSync(path, 'utf8');
    return /-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(text);
  } catch {
    return false;
  }
}

/** Why the files' certificate and key cannot be used together, as the configuration's message. */
function keyFilesProblem(certFile: string, keyFile: string): string | undefined {
  let problem: string | undefined;
  try {
    problem = keyPairProblem(readFileSync(certFile, 'utf8'), readFileSync(keyFile, 'utf8'));
  } catch (e) {
    problem = e instanceof Error ? e.message : String(e);
  }
  return problem === undefined
    ? undefined
    : `is not the private key of the certificate in tlsCertFile (${problem})`;
}

const audioDevice = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('null') }),
  z.strictObject({
    type: z.literal('file'),
    /** WAV file to play into calls (8 kHz or 16 kHz, mono, 16-bit PCM). Looped. */
    play: z.string().min(1).optional(),
    /** Directory where each call's received audio is written as call-<id>.wav. */
    record: z.string().min(1).optional(),
  }),
  z.strictObject({
    /** PulseAudio, or PipeWire through pipewire-pulse: the head unit's speakers and microphone. */
    type: z.literal('pulse'),
    /** Sink and source names (pactl list short sinks/sources); the server's defaults when absent. */
    sink: z.string().min(1).optional(),
    source: z.string().min(1).optional(),
    /** A PulseAudio server address, e.g. unix:/run/pulse/native. */
    server: z.string().min(1).optional(),
    latencyMs: z.number().int().min(10).max(500).default(40),
  }),
]);

export const accountSchema = z.strictObject({
  /** Becomes the D-Bus object path /<id>: one path segment, as oFono's scripts expect. */
  id: z.string().regex(/^[A-Za-z0-9_]{1,32}$/, 'must be 1-32 letters, digits or underscores'),
  name: z.string().max(64).optional(),
  user: z.string().regex(/^[A-Za-z0-9_.!~*'()&=+$,;?/%-]{1,64}$/, 'must be a SIP user part'),
  displayName: z.string().max(64).optional(),
  /** A host name, or an IP address (an IPv6 one with or without brackets: it is written with them). */
  domain: z.string().min(1, 'must not be empty').transform(hostOfAddress),
  password: z.string().optional(),
  authUser: z.string().optional(),
  registrar: sipUri.optional(),
  outboundProxy: sipUri.optional(),
  /**
   * DNS servers for a registrar, proxy or PSAP named by host name (SRV, then A records); the system's
   * resolver when not given. A head unit's IMS APN usually comes with DNS servers of its own.
   */
  dnsServers: z.array(dnsServer).min(1, 'must name at least one server').optional(),
  transport: z.enum(['udp', 'tcp', 'tls']).default('udp'),
  /**
   * For transport tls: a PEM file of the certificates that may sign the registrar's or proxy's (a
   * carmaker's own CA, say); without it, Node's bundled public CAs. The peer's certificate must name
   * the host the URI names, or the IP address where the URI gives one.
   */
  tlsCaFile: z
    .string()
    .refine(holdsPemCertificates, 'must be a readable PEM file of CA certificates')
    .optional(),
  /**
   * For transport tls, where the registrar or proxy asks for the head unit's own certificate (mutual
   * TLS, e.g. one provisioned per vehicle at the end of the line): a PEM file of the certificate (its
   * intermediate CAs after it) and one of its private key, unencrypted. Both or neither.
   */
  tlsCertFile: z
    .string()
    .refine(holdsPemCertificates, 'must be a readable PEM file of a certificate')
    .optional(),
  tlsKeyFile: z
    .string()
    .refine(holdsPemPrivateKey, 'must be a readable PEM file of an unencrypted private key')
    .optional(),
  expires: z.number().int().min(10, 'must be at least 10 seconds').max(86400).default(600),
  /**
   * An OPTIONS to the registrar this often while registered, to keep the mobile network's NAT mapping
   * open and to notice a lost flow or a new public address at once (service/sip/keep-alive.ts); 0 turns
   * it off. Unset: 25 s over UDP (mobile networks' NATs forget idle UDP mappings after 30 s or more),
   * 90 s over TCP and TLS.
   */
  keepAliveSeconds: z.number().int().min(0).max(3600).optional(),
  /**
   * While a call sends no audio (on hold, either side; early media), an RTP keep-alive this long after
   * the last packet sent, and one at once where none has gone out yet, so that the NAT keeps the media
   * port's mapping and a media relay can find the car (RFC 6263, whose default this is); 0 turns them off.
   */
  rtpKeepAliveSeconds: z.number().int().min(0).max(300).default(15),
  /**
   * Voicemail: the number the driver dials for it (oFono's VoicemailMailboxNumber), and whether to ask
   * the network for the message-waiting indication (a SUBSCRIBE to message-summary, RFC 3842, to
   * `server` or the line's own address of record). NOTIFYs a server sends unasked are taken either way.
   */
  /**
   * Texts to numbers as SMS over IP (3GPP TS 24.341: SMS-SUBMIT in RP-DATA, in a MESSAGE of type
   * application/vnd.3gpp.sms), as an IMS network wants them: `serviceCentre` is the SMS centre's
   * +E.164 number, `psi` the SIP URI the MESSAGE goes to (default sip:<serviceCentre>@<domain>;user=phone).
   * Without it, texts go as text/plain MESSAGE (RFC 3428). SMS that arrive are read either way.
   */
  sms: z
    .strictObject({
      serviceCentre: z.string().regex(/^\+[1-9][0-9]{1,14}$/, 'must be +E.164'),
      psi: sipUri.optional(),
    })
    .optional(),
  voicemail: z
    .strictObject({
      number: z
        .string()
        .refine((n) => n === '' || isPhoneNumber(n), 'must be +E.164 or digits 0-9*#, or empty')
        .default(''),
      subscribe: z.boolean().default(false),
      server: sipUri.optional(),
      expiresSeconds: z.number().int().min(10).max(86400).default(3600),
    })
    .default({ number: '', subscribe: false, expiresSeconds: 3600 }),
  /**
   * Who may start something with the line (a call, an unsolicited NOTIFY, an OPTIONS): "proxy", only
   * the addresses its registrar, outbound proxy, voicemail server and (on the eCall line) PSAP resolve
   * to, so that SIP scanners on a mobile network's public addresses cannot ring the driver's phone;
   * "anyone", every address that reaches its SIP port. Requests within a call or subscription are
   * matched by their dialog either way. Default: "proxy" where there is a registrar or outbound proxy.
   */
  acceptRequestsFrom: z.enum(['proxy', 'anyone']).optional(),
  /** A call that receives no RTP this long (while not on hold) is ended as dropped; 0 turns it off. */
  mediaTimeoutSeconds: z.number().min(0).max(600).default(20),
  /**
   * Session timers (RFC 4028): our INVITEs ask for `expiresSeconds`; a call the far end or a proxy asks
   * a timer of is refreshed (or, where the far end refreshes, ended when it stops) accordingly.
   * `minSeconds` is the shortest interval taken (RFC 4028's Min-SE, 90 s by the RFC; less for tests).
   */
  sessionTimer: z
    .strictObject({
      enabled: z.boolean().default(true),
      expiresSeconds: z.number().int().min(1).max(86400).default(1800),
      minSeconds: z.number().int().min(1).max(86400).default(90),
    })
    .refine((t) => t.minSeconds <= t.expiresSeconds, 'minSeconds must not be more than expiresSeconds')
    .default({ enabled: true, expiresSeconds: 1800, minSeconds: 90 }),
  /** Audio codecs to offer and accept, most wanted first. */
  codecs: z
    .array(z.enum(['opus', 'pcmu', 'pcma']))
    .min(1, 'must name at least one codec')
    .refine((c) => new Set(c).size === c.length, 'must not name a codec twice')
    .default(['opus', 'pcmu', 'pcma']),
  /**
   * SRTP (RFC 3711) keyed by SDES (RFC 4568), AES_CM_128_HMAC_SHA1_80: off; optional (the key is
   * offered on RTP/AVP and used where the peer answers with one); mandatory (RTP/SAVP only).
   */
  srtp: z.enum(['off', 'optional', 'mandatory']).default('off'),
  /** Mean RTCP report interval; RFC 3550 recommends 5 s. Call quality on D-Bus updates as often. */
  rtcpIntervalSeconds: z.number().min(1).max(60).default(5),
  /**
   * Where SIP and RTP are bound: an IPv4 or IPv6 address (127.0.0.1 when neither is given), or a
   * network interface (an LTE modem's, say) whose address of `family` the line follows as it changes.
   */
  listen: z
    .strictObject({
      address: ipAddress.optional(),
      /**
       * One interface, or several in order of preference (Wi-Fi before the modem, say): the line is on
       * the first of them that has an address, and moves, with its calls, as that changes.
       */
      interface: z
        .union([interfaceName, z.array(interfaceName).min(1).max(8)])
        .transform((names) => (typeof names === 'string' ? [names] : names))
        .optional(),
      /** For an interface: which of its addresses (an IMS APN may be IPv6 only). */
      family: z.enum(['ipv4', 'ipv6']).default('ipv4'),
      port: port.default(0),
    })
    .refine(
      (l) => l.address === undefined || l.interface === undefined,
      'give address or interface, not both',
    )
    .refine((l) => l.interface !== undefined || l.family === 'ipv4', {
      message: 'family applies to an interface; an address names its own family',
      path: ['family'],
    })
    .default({ port: 0, family: 'ipv4' }),
  /**
   * The address written into SDP instead of the one RTP is bound to, where the peer reaches this
   * head unit's media through a static mapping (a NAT, a media relay) on the same ports.
   */
  mediaAddress: ipAddress.optional(),
  /** RTP port range for this account's calls. */
  rtpPorts: z
    .strictObject({ min: port.default(20000), max: port.default(20999) })
    .default({ min: 20000, max: 20999 })
    .refine((r) => r.min <= r.max && r.min > 0, 'min must be 1..max'),
});

export const configSchema = z
  .strictObject({
    log: z
      .strictObject({ level: z.enum(['error', 'warn', 'info', 'debug', 'trace']).default('info') })
      .default({
        level: 'info',
      }),
    dbus: z
      .strictObject({
        /** system, session, or a D-Bus address such as unix:path=/run/carphone/bus */
        bus: z
          .string()
          .regex(/^(system|session|auto|[a-z]+:.+)$/, 'must be system, session, auto or a D-Bus address')
          .default('auto'),
        /** org.carphone by default; org.ofono makes carphoned a drop-in for oFono clients. */
        name: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)+$/, 'must be a D-Bus well-known name')
          .default('org.carphone'),
      })
      .default({ bus: 'auto', name: 'org.carphone' }),
    audio: z
      .strictObject({
        device: audioDevice.default({ type: 'null' }),
        /**
         * The tones carphoned plays itself (service/media/tones.ts): ringback and call waiting as in
         * `plan`'s country; the ringtone of an incoming call, carphone's own or a carmaker's WAV file
         * (16-bit PCM at 8 kHz, looped) where `ringtone` names one, none where it is false (an HMI or
         * audio manager that rings itself); the beeps of a call the far end or the network ended unless
         * `callEnded` is false.
         */
        tones: z
          .strictObject({
            plan: z.enum(TONE_PLAN_NAMES).default('europe'),
            ringtone: z.union([z.boolean(), z.string().min(1)]).default(true),
            callEnded: z.boolean().default(true),
          })
          .default({ plan: 'europe', ringtone: true, callEnded: true }),
      })
      .default({ device: { type: 'null' }, tones: { plan: 'europe', ringtone: true, callEnded: true } }),
    accounts: z
      .array(accountSchema)
      .max(8, 'at most 8 accounts')
      .refine((a) => new Set(a.map((x) => x.id)).size === a.length, 'account ids must be unique')
      .default([]),
    echoTest: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** The number that reaches the built-in echo endpoint, as *43 does on many PBXs. */
        number: z
          .string()
          .regex(/^[*#0-9]{1,10}$/, 'must be 1-10 of 0-9 * #')
          .default('*43'),
        address: ipv4.default('127.0.0.2'),
      })
      .default({ enabled: true, number: '*43', address: '127.0.0.2' }),
    contacts: z
      .strictObject({
        /** The address book: a vCard file (2.1, 3.0 or 4.0), as a phone exports it. */
        vcard: z.string().min(1).optional(),
        /**
         * The country the car is sold in (ISO 3166 alpha-2, "DE"): national numbers in the address book
         * are read by its numbering plan to match callers (contacts/number-match.ts).
         */
        country: z
          .string()
          .refine(
            (c): c is CountryCode => isSupportedCountry(c),
            'must be an ISO 3166 alpha-2 country code, e.g. DE',
          )
          .optional(),
      })
      .default({}),
    messages: z
      .strictObject({
        /** One-touch replies per HMI language (sms/quick-replies.ts); {} turns texting from the HMI off. */
        quickReplies: z
          .record(
            z.string(),
            z
              .array(
                z
                  .string()
                  .trim()
                  .min(1, 'must not be empty')
                  .max(160, 'must be at most 160 characters: a reply is read at a glance')
                  // eslint-disable-next-line no-control-regex
                  .regex(/^[^\u0000-\u001f\u007f]*$/, 'must be one line of text, without control characters'),
              )
              .min(1, 'must have at least one reply (leave the language out to offer none)')
              .max(4, 'must have at most 4 replies: more do not fit the screen without scrolling'),
          )
          // Checked here, not as the record's key schema, so the error names the key and says why.
          .superRefine((replies, ctx) => {
            for (const lang of Object.keys(replies).filter((k) => !/^[a-z]{2}$/.test(k))) {
              ctx.addIssue({
                code: 'custom',
                path: [lang],
                message: 'must be a language code of two small letters (ISO 639-1), e.g. en',
              });
            }
          })
          .default(DEFAULT_QUICK_REPLIES),
      })
      .default({ quickReplies: DEFAULT_QUICK_REPLIES }),
    /** The call log: an SQLite file (default history.sqlite in the state directory, daemon/state-directory.ts). */
    history: z.strictObject({ path: z.string().min(1).optional() }).default({}),
    ecall: z
      .strictObject({
        /** The emergency proxy or PSAP eCalls are routed to (loose route), e.g. sip:psap.example:5060. */
        psap: sipUri,
        /** Where test eCalls go; never the real PSAP. Default: the psap key. */
        testPsap: sipUri.optional(),
        /** The line that places eCalls (default: the first account). */
        account: z.string().optional(),
        vin: z
          .string()
          .regex(/^[0-9A-HJ-NPR-Z]{17}$/, 'must be a 17-character VIN (0-9, A-Z without I, O, Q)'),
        vehicleType: z.string().default('passengerVehicleCategoryM1'),
        propulsion: z.array(z.enum(PROPULSION_FIELDS)).default([]),
        /** Minutes the vehicle stays reachable for the PSAP's callback after the clear-down. */
        callbackMinutes: z
          .number()
          .min(0)
          .max(24 * 60)
          .default(60),
        /** Seconds before each redial after a failed or dropped eCall; their count is the number of redials. */
        redialSeconds: z.array(z.number().min(0).max(600)).max(20).default([0, 5, 10, 20, 30]),
        /**
         * File where the eCall state is kept across a crash of the daemon (written atomically); default
         * ecall.json in the state directory (daemon/state-directory.ts).
         */
        statePath: z.string().min(1).optional(),
        /** Position to report when no position source has one (degrees); otherwise "unknown". */
        fallbackPosition: z
          .strictObject({ latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180) })
          .optional(),
      })
      .optional(),
    gnss: z
      .strictObject({
        /** gpsd (127.0.0.1:2947), gpsd:ADDRESS:PORT, or nmea:PATH (a file, FIFO or serial device). */
        source: z.string().regex(/^(gpsd(:.+)?|nmea:.+)$/, 'must be gpsd, gpsd:ADDRESS:PORT or nmea:PATH'),
      })
      .optional(),
    vehicle: z
      .strictObject({
        /** socketcan:IFACE, replay:FILE, replay-fast:FILE, udp:PORT or udp:ADDRESS:PORT */
        can: z
          .string()
          .regex(
            /^(socketcan|replay|replay-fast|udp):.+$/,
            'must be socketcan:IFACE, replay:FILE, replay-fast:FILE or udp:PORT',
          )
          .optional(),
        /** Bindings YAML (default: the reference vehicle's, can/bindings/carphone-reference.yaml). */
        bindings: z.string().min(1).optional(),
        /** DBC file, overriding the one the bindings name. */
        dbc: z.string().min(1).optional(),
      })
      .default({}),
  })
  // What one section says about another.
  .superRefine((c, ctx) => {
    if (c.ecall && c.accounts.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['ecall'], message: 'eCall needs at least one account' });
    }
    const line = c.ecall?.account;
    if (line !== undefined && !c.accounts.some((a) => a.id === line)) {
      ctx.addIssue({ code: 'custom', path: ['ecall', 'account'], message: `no account with id ${line}` });
    }
    c.accounts.forEach((a, i) =>
      [...accountTlsIssues(a), ...acceptIssues(a), ...familyIssues(a)].forEach(([key, message]) =>
        ctx.addIssue({ code: 'custom', path: ['accounts', i, key], message }),
      ),
    );
    if (!c.vehicle.can && (c.vehicle.bindings || c.vehicle.dbc)) {
      ctx.addIssue({
        code: 'custom',
        path: ['vehicle', 'can'],
        message: 'bindings and dbc need a CAN source (socketcan:IFACE, replay:FILE or udp:PORT)',
      });
    }
  });

/** Requests taken only through a proxy need a proxy to come through. */
function acceptIssues(a: z.infer<typeof accountSchema>): [string, string][] {
  return a.acceptRequestsFrom === 'proxy' && !a.registrar && !a.outboundProxy
    ? [['acceptRequestsFrom', 'proxy needs a registrar or outboundProxy to take requests from']]
    : [];
}

/** The family a line's SIP and RTP are bound to: its address's, or the one asked of its interface. */
export function lineFamily(a: z.infer<typeof accountSchema>): 4 | 6 {
  if (a.listen.address !== undefined) {
    return ipFamily(a.listen.address) ?? 4;
  }
  return a.listen.family === 'ipv6' ? 6 : 4;
}

/** RTP cannot cross from IPv4 to IPv6: the address written into SDP must be of the family bound. */
function familyIssues(a: z.infer<typeof accountSchema>): [string, string][] {
  if (a.mediaAddress === undefined) {
    return [];
  }
  const bound = lineFamily(a);
  return ipFamily(a.mediaAddress) === bound
    ? []
    : [['mediaAddress', `must be an IPv${bound} address like the line's`]];
}

/** What an account's TLS client certificate settings say about each other and the transport. */
function accountTlsIssues(a: z.infer<typeof accountSchema>): [string, string][] {
  const { tlsCertFile: cert, tlsKeyFile: key } = a;
  if (cert === undefined && key === undefined) {
    return [];
  }
  if (cert === undefined) {
    return [['tlsCertFile', 'is needed with tlsKeyFile']];
  }
  if (key === undefined) {
    return [['tlsKeyFile', 'is needed with tlsCertFile']];
  }
  if (a.transport !== 'tls') {
    return [['tlsCertFile', 'needs transport: tls']];
  }
  const problem = keyFilesProblem(cert, key);
  return problem === undefined ? [] : [['tlsKeyFile', problem]];
}

export type Config = z.infer<typeof configSchema>;
export type AccountConfig = z.infer<typeof accountSchema>;
export type AudioDeviceConfig = z.infer<typeof audioDevice>;
