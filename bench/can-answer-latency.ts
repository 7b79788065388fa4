import { createSocket, type Socket } from 'node:dgram';
import { join } from 'node:path';
import { encodeCannelloni } from '../can/transport/cannelloni.js';
import { loadBindings } from '../service/vehicle/bindings-load.js';
import { Carphoned, REPO } from '../test/harness/carphoned.js';
import { PrivateBus } from '../test/harness/dbus-daemon.js';
import { freePort } from '../test/harness/ports.js';
import { frameFor } from '../test/unit/vehicle/frames.js';
import { summarize, type Summary } from './stats.js';

/**
 * Steering-wheel answer on the wire: the moment the key's release frame (CAN over UDP) leaves the
 * bench → the moment carphoned's 200 OK for the ringing call arrives. The peer in the same run is
 * carphoned's own SIP path: INVITE sent → 180 Ringing received, on the same sockets.
 */
class Uac {
  private waiters: { re: RegExp; resolve: (m: string) => void }[] = [];
  private seq = 0;

  constructor(
    private readonly socket: Socket,
    private readonly target: { address: string; port: number },
  ) {
    socket.on('message', (m) => {
      const text = m.toString('latin1');
      const w = this.waiters.find((x) => x.re.test(text));
      if (w) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(text);
      }
    });
  }

  expect(re: RegExp, timeoutMs = 5000): Promise<string> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${re} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        re,
        resolve: (m) => {
          clearTimeout(t);
          resolve(m);
        },
      });
    });
  }

  send(text: string): void {
    this.socket.send(Buffer.from(text, 'latin1'), this.target.port, this.target.address);
  }

  invite(callId: string): { tag: string; ruri: string } {
    const local = this.socket.address();
    const sdp = `v=0\r\no=bench 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=inactive\r\n`;
    const tag = `b${++this.seq}`;
    const ruri = `sip:1000@${this.target.address}:${this.target.port}`;
    this.send(
      `INVITE ${ruri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${local.port};branch=z9hG4bK${callId}\r\nMax-Forwards: 70\r\n` +
        `From: <sip:bench@127.0.0.1>;tag=${tag}\r\nTo: <${ruri}>\r\nCall-ID: ${callId}\r\nCSeq: 1 INVITE\r\n` +
        `Contact: <sip:bench@127.0.0.1:${local.port}>\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`,
    );
    return { tag, ruri };
  }

  finish(callId: string, tag: string, ruri: string, ok: string): void {
    const local = this.socket.address();
    const to = /\r\nTo: ([^\r]+)/i.exec(ok)?.[1] ?? `<${ruri}>`;
    const head = (method: string, seq: number): string =>
      `${method} ${ruri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${local.port};branch=z9hG4bK${callId}${method}\r\nMax-Forwards: 70\r\n` +
      `From: <sip:bench@127.0.0.1>;tag=${tag}\r\nTo: ${to}\r\nCall-ID: ${callId}\r\nCSeq: ${seq} ${method}\r\nContent-Length: 0\r\n\r\n`;
    this.send(head('ACK', 1));
    this.send(head('BYE', 2));
  }
}

export async function answerLatency(calls = 1000): Promise<{ keyTo200: Summary; inviteTo180: Summary }> {
  const canPort = await freePort();
  const bus = await PrivateBus.start();
  const daemon = await Carphoned.start(
    {
      dbus: { bus: bus.address },
      log: { level: 'warn' },
      echoTest: { enabled: false },
      accounts: [{ id: 'sip0', user: '1000', domain: '127.0.0.1' }],
    },
    ['--can', `udp:${canPort}`],
  );
  const reference = loadBindings(join(REPO, 'can/bindings/carphone-reference.yaml'));
  const can = createSocket('udp4');
  let canSeq = 0;
  const key = (pressed: number): void => {
    can.send(
      encodeCannelloni([frameFor(reference, 'CP_SteeringWheel', { PhoneKey: pressed })], canSeq++),
      canPort,
      '127.0.0.1',
    );
  };
  const sipSocket = createSocket('udp4');
  await new Promise<void>((r) => sipSocket.bind(0, '127.0.0.1', () => r()));
  const client = await daemon.client();
  const [host = '', port = '0'] = String(
    (await client.properties('/sip0', 'org.carphone.SipAccount')).LocalAddress,
  ).split(':');
  const uac = new Uac(sipSocket, { address: host, port: Number(port) });
  const keyTo200: number[] = [];
  const inviteTo180: number[] = [];
  // The keys message flows continuously on a real bus; keep it flowing so the E2E state stays VALID.
  let pressing = false;
  const idle = setInterval(() => {
    if (!pressing) {
      key(0);
    }
  }, 100);
  await new Promise((r) => setTimeout(r, 350));
  try {
    for (let i = 0; i < calls; i++) {
      const callId = `bench-${i}-${Date.now()}`;
      const ringing = uac.expect(new RegExp(`^SIP/2\\.0 180 [^]*Call-ID: ${callId}`));
      const t0 = performance.now();
      const { tag, ruri } = uac.invite(callId);
      await ringing;
      inviteTo180.push((performance.now() - t0) * 1000);
      // The idle frames pause while the key is held, so that the release is the frame we time.
      pressing = true;
      const ok = uac.expect(new RegExp(`^SIP/2\\.0 200 [^]*Call-ID: ${callId}[^]*CSeq: 1 INVITE`));
      key(1);
      await new Promise((r) => setTimeout(r, 5));
      const t1 = performance.now();
      key(0);
      const answer = await ok;
      keyTo200.push((performance.now() - t1) * 1000);
      pressing = false;
      const byeOk = uac.expect(new RegExp(`^SIP/2\\.0 200 [^]*CSeq: 2 BYE`));
      uac.finish(callId, tag, ruri, answer);
      await byeOk;
    }
  } finally {
    clearInterval(idle);
    client.disconnect();
    can.close();
    sipSocket.close();
    await daemon.stop();
    await bus.stop();
  }
  return { keyTo200: summarize(keyTo200), inviteTo180: summarize(inviteTo180) };
}
