import dbus from 'dbus-next';

type Variant = InstanceType<typeof dbus.Variant>;

/** D-Bus signature of each property carphone exposes, by name; one table for every interface. */
export const PROPERTY_SIGNATURES: Record<string, string> = {
  // org.ofono.Modem
  Powered: 'b',
  Online: 'b',
  Lockdown: 'b',
  Emergency: 'b',
  Name: 's',
  Manufacturer: 's',
  Model: 's',
  Revision: 's',
  Serial: 's',
  Features: 'as',
  Interfaces: 'as',
  Type: 's',
  // org.ofono.VoiceCallManager
  EmergencyNumbers: 'as',
  // org.ofono.VoiceCall
  LineIdentification: 's',
  IncomingLine: 's',
  Multiparty: 'b',
  State: 's',
  StartTime: 's',
  RemoteHeld: 'b',
  Forwarded: 's',
  ForwardedFrom: 's',
  RemoteMultiparty: 'b',
  // org.ofono.CallVolume
  Muted: 'b',
  SpeakerVolume: 'y',
  MicrophoneVolume: 'y',
  // org.carphone.Vehicle
  Source: 's',
  SourceError: 's',
  Ignition: 's',
  Speed: 'd',
  Occupants: 'i',
  Propulsion: 's',
  Latitude: 'd',
  Longitude: 'd',
  CrashSensing: 'b',
  // org.carphone.Emergency
  Activation: 's',
  TestCall: 'b',
  TriggeredAt: 's',
  Attempt: 'y',
  MessageIdentifier: 'y',
  MsdAcknowledged: 'b',
  CallbackUntil: 's',
  Msd: 'a{sv}',
  // org.carphone.CallQuality
  Quality: 's',
  Jitter: 'd',
  PacketLoss: 'd',
  RoundTripTime: 'u',
  RemotePacketLoss: 'd',
  RemoteJitter: 'd',
  RFactor: 'd',
  MOS: 'd',
  JitterBufferDelay: 'u',
  JitterBufferTarget: 'u',
  LateFrames: 'u',
  ConcealedFrames: 'u',
  AcceleratedFrames: 'u',
  ExpandedFrames: 'u',
  // org.carphone.Contacts
  Count: 'u',
  // org.carphone.MessageHistory
  UnreadCount: 'u',
  QuickReplies: 'a{sas}',
  // org.carphone.CallHistory
  MissedCount: 'u',
  // org.ofono.NetworkRegistration
  Status: 's',
  Mode: 's',
  Technology: 's',
  // org.ofono.CallSettings
  CallingLinePresentation: 's',
  CallingNamePresentation: 's',
  CalledLinePresentation: 's',
  ConnectedLinePresentation: 's',
  ConnectedLineRestriction: 's',
  CallingLineRestriction: 's',
  HideCallerId: 's',
  VoiceCallWaiting: 's',
  // org.ofono.CallForwarding
  VoiceUnconditional: 's',
  VoiceBusy: 's',
  VoiceNoReply: 's',
  VoiceNoReplyTimeout: 'q',
  VoiceNotReachable: 's',
  ForwardingFlagOnSim: 'b',
  // org.ofono.MessageWaiting
  VoicemailWaiting: 'b',
  VoicemailMessageCount: 'y',
  VoicemailMailboxNumber: 's',
  // org.ofono.MessageManager
  ServiceCenterAddress: 's',
  UseDeliveryReports: 'b',
  Bearer: 's',
  Alphabet: 's',
  // org.carphone.SipAccount
  Registration: 's',
  RegistrationError: 's',
  Aor: 's',
  Registrar: 's',
  Transport: 's',
  LocalAddress: 's',
  PublicAddress: 's',
  VoicemailSubscription: 's',
};

/**
 * A string D-Bus can carry. Its strings cannot hold NUL: dbus-next refuses to marshal a message with
 * one, so a single caller name or vCard field holding one would make every GetCalls or GetRecent fail.
 * Text from outside is cleaned where it enters (the SIP layer); this is the last line for all of it.
 */
export function dbusString(s: string): string {
  return s.includes('\0') ? s.replaceAll('\0', '') : s;
}

/** A D-Bus string variant of `s`, made safe to marshal. */
export function stringVariant(s: string): Variant {
  return new dbus.Variant('s', dbusString(s));
}

export function variant(name: string, value: unknown): Variant {
  const sig = PROPERTY_SIGNATURES[name];
  if (!sig) {
    throw new Error(`no signature for property ${name}`);
  }
  if (sig === 'a{sv}') {
    return new dbus.Variant(sig, treeOf(value));
  }
  if (sig === 's' && typeof value === 'string') {
    return stringVariant(value);
  }
  if (sig === 'as' && Array.isArray(value)) {
    return new dbus.Variant(sig, safeStrings(value));
  }
  if (sig === 'a{sas}' && typeof value === 'object' && value !== null) {
    return new dbus.Variant(
      sig,
      Object.fromEntries(
        Object.entries(value).map(([k, v]) => [dbusString(k), Array.isArray(v) ? safeStrings(v) : []]),
      ),
    );
  }
  return new dbus.Variant(sig, value);
}

function safeStrings(items: unknown[]): unknown[] {
  return items.map((v) => (typeof v === 'string' ? dbusString(v) : v));
}

/**
 * A JSON-like value as nested a{sv} dictionaries (the decoded MSD): objects become a{sv}, booleans b,
 * integers x (int64: timestamps and positions need more than 32 bits of range), other numbers d.
 */
export function treeOf(value: unknown): Record<string, Variant> {
  const out: Record<string, Variant> = {};
  for (const [k, v] of Object.entries((value ?? {}) as Record<string, unknown>)) {
    if (typeof v === 'boolean') {
      out[k] = new dbus.Variant('b', v);
    } else if (typeof v === 'number') {
      out[k] = Number.isInteger(v) ? new dbus.Variant('x', v) : new dbus.Variant('d', v);
    } else if (typeof v === 'string') {
      out[k] = stringVariant(v);
    } else if (v && typeof v === 'object') {
      out[k] = new dbus.Variant('a{sv}', treeOf(v));
    }
  }
  return out;
}

/** Turns a plain property record into the a{sv} dictionary of GetProperties, skipping absent ones. */
export function toDict(props: object): Record<string, Variant> {
  const out: Record<string, Variant> = {};
  for (const [k, v] of Object.entries(props)) {
    if (v !== undefined) {
      out[k] = variant(k, v);
    }
  }
  return out;
}
