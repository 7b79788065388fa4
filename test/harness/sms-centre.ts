import { waitFor } from './process.js';
import { RawSipPeer } from './sip-fuzz.js';

/**
 * An SMS service centre as an IMS network puts it before a phone (3GPP TS 24.341): SIP MESSAGEs with
 * RP messages in application/vnd.3gpp.sms, written byte by byte here, apart from carphone's code. It
 * sends to the line at `linePort` and answers carphoned's MESSAGEs with 200 (the RawSipPeer beneath).
 */
export class SmsCentre {
  private cseq = 1;

  private constructor(
    readonly peer: RawSipPeer,
    private readonly linePort: number,
  ) {}

  static async open(linePort: number): Promise<SmsCentre> {
    return new SmsCentre(await RawSipPeer.open({ host: '127.0.0.1', port: linePort }), linePort);
  }

  get port(): number {
    return this.peer.port;
  }

  /** A MESSAGE to the line carrying the RP message `body`, with Call-ID `callId`. */
  send(callId: string, body: Buffer, extraHeaders = ''): void {
    this.peer.send(
      `MESSAGE sip:1000@127.0.0.1:${this.linePort} SIP/2.0\r\n` +
        `Via: SIP/2.0/UDP 127.0.0.1:${this.peer.port};branch=z9hG4bK${callId}\r\nMax-Forwards: 70\r\n` +
        `From: <sip:+49170123456@ims.example;user=phone>;tag=sc\r\nTo: <sip:1000@127.0.0.1>\r\n` +
        `P-Asserted-Identity: <sip:smsc@127.0.0.1:${this.peer.port}>\r\n` +
        `Call-ID: ${callId}\r\nCSeq: ${this.cseq++} MESSAGE\r\n${extraHeaders}` +
        `Content-Type: application/vnd.3gpp.sms\r\n` +
        `Content-Length: ${body.length}\r\n\r\n${body.toString('latin1')}`,
    );
  }

  /** The relay answer carphoned sent for the MESSAGE `callId`: its body's bytes, as hex. */
  answerTo(callId: string): Promise<string> {
    return waitFor(
      `the relay answer to ${callId}`,
      () => {
        const m = this.peer.received.find(
          (r) => r.startLine.startsWith('MESSAGE ') && r.header('in-reply-to') === callId,
        );
        return m && m.header('content-type') === 'application/vnd.3gpp.sms'
          ? Buffer.from(m.body, 'latin1').toString('hex')
          : undefined;
      },
      5000,
    );
  }

  /** The RP-DATA carphoned sent (RP-MTI 0: its SMS-SUBMITs, not its answers), in order. */
  submits(): { rp: Buffer; callId: string }[] {
    return this.peer.received
      .filter((r) => r.startLine.startsWith('MESSAGE sip:smsc@'))
      .map((r) => ({ rp: Buffer.from(r.body, 'latin1'), callId: r.header('call-id') ?? '' }))
      .filter((m) => m.rp[0] === 0x00);
  }

  /** The centre's RP-ACK or RP-ERROR (`bytes`) to carphoned's RP-DATA in the MESSAGE `callId`. */
  rpAnswer(callId: string, bytes: number[]): void {
    this.send(`ack${this.cseq}@ims`, Buffer.from(bytes), `In-Reply-To: ${callId}\r\n`);
  }

  close(): void {
    this.peer.close();
  }
}

/** RP-DATA from the service centre +49170123456 carrying `tpdu`, with RP reference `ref`. */
export const rpData = (ref: number, tpdu: Buffer): Buffer =>
  Buffer.from([0x01, ref, 0x07, 0x91, 0x94, 0x71, 0x10, 0x32, 0x54, 0xf6, 0x00, tpdu.length, ...tpdu]);

/** The SMS-SUBMIT inside carphoned's RP-DATA (after type, reference, empty originator, 9-octet centre). */
export const submitOf = (rp: Buffer): Buffer => rp.subarray(12, 12 + (rp[11] ?? 0));

// +4917012345678, international; 2026-12-02 07:30:00 at +01:00, semi-octets swapped.
const PHONE = [0x0d, 0x91, 0x94, 0x71, 0x10, 0x32, 0x54, 0x76, 0xf8];
const STAMP = [0x62, 0x21, 0x20, 0x70, 0x03, 0x00, 0x40];

/** An SMS-DELIVER of UCS-2 text from +4917012345678, with a concatenation header where given. */
export function ucs2Deliver(text: string, dcs = 0x08, part?: [number, number, number]): Buffer {
  const header = part ? [0x05, 0x00, 0x03, ...part] : [];
  const ud = [...header, ...Buffer.from(text, 'utf16le').swap16()];
  return Buffer.from([part ? 0x44 : 0x04, ...PHONE, 0x00, dcs, ...STAMP, ud.length, ...ud]);
}

/** An SMS-STATUS-REPORT (TS 23.040 §9.2.2.3) on TP-MR `reference` to +4917012345678, with TP-ST `status`. */
export const statusReport = (reference: number, status: number): Buffer =>
  Buffer.from([0x06, reference, ...PHONE, ...STAMP, ...STAMP, status]);
