import { createSocket, type Socket } from 'node:dgram';
import { isRtp, RtpPacket } from 'rtp.js/packets';
import { randomInt } from 'node:crypto';
import type { Logger } from '../log/logger.js';
import type { MediaMode } from '../calls/call-machine.js';
import type { NegotiatedAudio } from '../sdp/offer-answer.js';
import { decodeG711, encodeG711 } from './g711.js';
import type { AudioDevice, CallAudio } from './devices/audio-device.js';
import type { MediaFactory, MediaSession, MediaStats } from './media-session.js';
import { defaultTiming, DTMF_KEYS, dtmfFrames, type DtmfFrame } from './rfc4733.js';

const DTMF_EVENTS = DTMF_KEYS;

async function bindInRange(address: string, min: number, max: number): Promise<Socket> {
  const span = Math.floor((max - min) / 2) + 1;
  const start = randomInt(span);
  for (let i = 0; i < span; i++) {
    const port = min + 2 * ((start + i) % span);
    const socket = createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      socket.once('error', () => resolve(false));
      socket.bind(port, address, () => resolve(true));
    });
    if (ok) {
      return socket;
    }
    socket.close();
  }
  throw new Error(`no free RTP port in ${min}-${max} on ${address}`);
}

/**
 * G.711 over RTP (RFC 3550 / RFC 3551) between one call and an audio device: 20 ms frames paced by a
 * drift-corrected timer, symmetric RTP (we send to where the peer's packets come from once they do).
 */
export class G711RtpSession implements MediaSession {
  private negotiated: NegotiatedAudio | undefined;
  private mode: Exclude<MediaMode, 'stop'> = { send: false, receive: false };
  private readonly ssrc = randomInt(1, 2 ** 32 - 1);
  private seq = randomInt(0, 0xffff);
  private timestamp = randomInt(0, 2 ** 32 - 1);
  private timer: NodeJS.Timeout | undefined;
  private nextTickAt = 0;
  private readonly counters: MediaStats = { packetsSent: 0, packetsReceived: 0, packetsDiscarded: 0 };
  private latchedRemote: { address: string; port: number } | undefined;
  private lastDtmfTimestamp: number | undefined;
  private dtmfListener: (digit: string) => void = () => undefined;
  private muted = false;
  private gain = 1;
  private lastRxAt = performance.now();
  private dtmfQueue: DtmfFrame[] = [];
  private dtmfTimestamp = 0;
  private dtmfDone: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private watchdog: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly audio: CallAudio,
    private readonly logger: Logger,
  ) {
    socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo.address, rinfo.port));
    socket.on('error', (e) => logger.warn({ err: e.message }, 'rtp socket error'));
  }

  get localAddress(): string {
    return this.socket.address().address;
  }

  get localPort(): number {
    return this.socket.address().port;
  }

  configure(negotiated: NegotiatedAudio): void {
    this.negotiated = negotiated;
    this.latchedRemote = undefined;
  }

  setMode(mode: MediaMode): void {
    if (mode === 'stop') {
      this.close();
      return;
    }
    if (mode.receive && !this.mode.receive) {
      this.lastRxAt = performance.now();
    }
    this.mode = mode;
    if (mode.send && !this.timer) {
      this.nextTickAt = performance.now();
      this.tick();
    } else if (!mode.send && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.dtmfQueue = [];
      this.dtmfDone
        .splice(0)
        .forEach((d) => d.reject(new Error('the call went on hold before the tones were sent')));
    }
  }

  stats(): MediaStats {
    return { ...this.counters };
  }

  onDtmf(listener: (digit: string) => void): void {
    this.dtmfListener = listener;
  }

  onSilence(ms: number, listener: () => void): void {
    clearInterval(this.watchdog);
    this.watchdog = setInterval(
      () => {
        // Only a session that should be hearing RTP can miss it (not on hold, not before answer).
        if (this.mode.receive && this.mode.send && performance.now() - this.lastRxAt > ms) {
          clearInterval(this.watchdog);
          listener();
        }
      },
      Math.min(1000, ms / 4),
    );
  }

  setMuted(muted: boolean): void {
    this.muted = muted;
  }

  setVolume(percent: number): void {
    this.gain = Math.max(0, Math.min(100, percent)) / 100;
  }

  private frameSamples(): number {
    return ((this.negotiated?.ptime ?? 20) * 8000) / 1000;
  }

  private tick(): void {
    if (this.closed || !this.mode.send) {
      return;
    }
    this.sendFrame();
    this.nextTickAt += this.negotiated?.ptime ?? 20;
    const delay = Math.max(0, this.nextTickAt - performance.now());
    this.timer = setTimeout(() => this.tick(), delay);
  }

  /** Queues DTMF keys as RFC 4733 events; resolves when the last one has been sent. */
  sendDtmf(keys: string): Promise<void> {
    const te = this.negotiated?.telephoneEventPt;
    if (te === undefined) {
      return Promise.reject(new Error('the far end did not negotiate telephone-event'));
    }
    this.dtmfQueue.push(...dtmfFrames(keys, { ...defaultTiming, samplesPerFrame: this.frameSamples() }));
    if (this.closed || !this.mode.send) {
      this.dtmfQueue = [];
      return Promise.reject(new Error('the call is not sending audio (ended or on hold)'));
    }
    return new Promise((resolve, reject) => this.dtmfDone.push({ resolve, reject }));
  }

  private sendFrame(): void {
    const n = this.negotiated;
    if (!n) {
      return;
    }
    const samples = this.frameSamples();
    const dtmf = this.dtmfQueue.shift();
    if (this.dtmfQueue.length === 0 && dtmf) {
      const done = this.dtmfDone;
      this.dtmfDone = [];
      queueMicrotask(() => done.forEach((d) => d.resolve()));
    }
    let payload: Uint8Array;
    let payloadType = n.codec.payloadType;
    let timestamp = this.timestamp;
    let marker = this.counters.packetsSent === 0;
    if (dtmf?.kind === 'event' && n.telephoneEventPt !== undefined) {
      if (dtmf.eventStart) {
        this.dtmfTimestamp = this.timestamp;
      }
      payload = dtmf.payload;
      payloadType = n.telephoneEventPt;
      timestamp = this.dtmfTimestamp;
      marker = dtmf.first;
    } else {
      const pcm = this.muted ? new Int16Array(samples) : this.audio.source.read(samples);
      payload = encodeG711(n.codec.name, pcm);
    }
    const packet = new RtpPacket();
    packet.setPayloadType(payloadType);
    packet.setSequenceNumber(this.seq);
    packet.setTimestamp(timestamp >>> 0);
    packet.setSsrc(this.ssrc);
    packet.setMarker(marker);
    packet.setPayload(new DataView(payload.buffer, payload.byteOffset, payload.byteLength));
    const view = packet.getView();
    const target = this.latchedRemote ?? { address: n.remoteAddress, port: n.remotePort };
    this.socket.send(
      new Uint8Array(view.buffer, view.byteOffset, view.byteLength),
      target.port,
      target.address,
    );
    this.seq = (this.seq + 1) & 0xffff;
    this.timestamp = (this.timestamp + samples) >>> 0;
    this.counters.packetsSent++;
  }

  private onDatagram(msg: Buffer, address: string, port: number): void {
    const n = this.negotiated;
    const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
    if (!n || !isRtp(view)) {
      this.counters.packetsDiscarded++;
      return;
    }
    let packet: RtpPacket;
    try {
      packet = new RtpPacket(view);
    } catch {
      this.counters.packetsDiscarded++;
      return;
    }
    const pt = packet.getPayloadType();
    const payloadView = packet.getPayload();
    const payload = new Uint8Array(payloadView.buffer, payloadView.byteOffset, payloadView.byteLength);
    if (pt === n.telephoneEventPt) {
      this.counters.packetsReceived++;
      this.onTelephoneEvent(payload, packet.getTimestamp());
      return;
    }
    if (pt !== n.codec.payloadType || payload.length === 0 || payload.length > 1920) {
      this.counters.packetsDiscarded++;
      return;
    }
    this.counters.packetsReceived++;
    this.lastRxAt = performance.now();
    if (address !== n.remoteAddress || port !== n.remotePort) {
      this.latchedRemote = { address, port };
    }
    if (this.mode.receive) {
      const pcm = decodeG711(n.codec.name, payload);
      if (this.gain !== 1) {
        for (let i = 0; i < pcm.length; i++) {
          pcm[i] = Math.round((pcm[i] ?? 0) * this.gain);
        }
      }
      this.audio.sink.write(pcm);
    }
  }

  /** RFC 4733 §2.3: one event per RTP timestamp; report it once, at its first packet. */
  private onTelephoneEvent(payload: Uint8Array, timestamp: number): void {
    if (payload.length < 4 || timestamp === this.lastDtmfTimestamp) {
      return;
    }
    const digit = DTMF_EVENTS[payload[0] ?? 255];
    if (digit === undefined) {
      return;
    }
    this.lastDtmfTimestamp = timestamp;
    this.dtmfListener(digit);
  }

  close(): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    clearInterval(this.watchdog);
    // Tones still queued will never go out: their SendTones must not wait forever.
    this.dtmfQueue = [];
    this.dtmfDone.splice(0).forEach((d) => d.reject(new Error('the call ended before the tones were sent')));
    if (this.timer) {
      clearTimeout(this.timer);
    }
    this.audio.sink.close();
    try {
      this.socket.close();
    } catch (e) {
      this.logger.debug({ err: String(e) }, 'rtp socket close');
    }
  }
}

export class G711MediaFactory implements MediaFactory {
  constructor(
    private readonly address: string,
    private readonly ports: { min: number; max: number },
    private readonly device: AudioDevice,
    private readonly logger: Logger,
  ) {}

  async create(callTag: string): Promise<MediaSession> {
    const socket = await bindInRange(this.address, this.ports.min, this.ports.max);
    return new G711RtpSession(socket, this.device.openCall(callTag), this.logger);
  }
}
