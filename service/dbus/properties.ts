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
  // org.ofono.NetworkRegistration
  Status: 's',
  Mode: 's',
  Technology: 's',
  // org.carphone.SipAccount
  Registration: 's',
  RegistrationError: 's',
  Aor: 's',
  Registrar: 's',
  Transport: 's',
  LocalAddress: 's',
};

export function variant(name: string, value: unknown): Variant {
  const sig = PROPERTY_SIGNATURES[name];
  if (!sig) {
    throw new Error(`no signature for property ${name}`);
  }
  return new dbus.Variant(sig, sig === 'a{sv}' ? treeOf(value) : value);
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
      out[k] = new dbus.Variant('s', v);
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
