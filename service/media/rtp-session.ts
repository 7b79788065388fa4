import type { Socket } from 'node:dgram';
import { randomBytes, randomInt } from 'node:crypto';
import type { Logger } from '../log/logger.js';
import type { MediaMode } from '../calls/call-machine.js';
import { DEFAULT_CODECS, type CodecName, type NegotiatedAudio } from '../sdp/offer-answer.js';
import type { AudioCodecSession } from './codecs/codec.js';
import { G711Codec } from './codecs/g711-codec.js';
import { OpusCodec } from './codecs/opus-codec.js';
import { Expansion } from './jitter/expansion.js';
import { JitterBuffer, JitterBufferError, type JitterStats, type Playout } from './jitter/jitter-buffer.js';
import { compressTwoFrames } from './jitter/time-scale.js';
import { PcmQueue } from './pcm-queue.js';
import { looksLikeRtcp, RTP_HEADER_BYTES, RtpHeaderReader, writeRtpHeader } from './rtp-header.js';
import { SrtpContext, SrtpError } from './srtp/srtp-context.js';
import { silent, type AudioDevice, type CallAudio } from './devices/audio-device.js';
import type { MediaFactory, MediaSession, MediaStats } from './media-session.js';
import { RtcpState, type CallQuality } from './rtcp/rtcp-state.js';
import { defaultTiming, DTMF_KEYS, dtmfFrames, type DtmfFrame } from './rfc4733.js';
import { openRtpSocket, type DatagramHandler, type RtpSocket } from './transport/rtp-socket.js';
import { openFrameClock, type FrameClock } from './clock/frame-clock.js';
import { bindDgram } from './transport/dgram-rtp-socket.js';
import { PortInUseError } from './transport/port-in-use-error.js';
import type { ConferenceRoom, ConferenceSeat } from './conference.js';
import { soundSource, TONE_PLANS, type LocalTone, type SoundSource, type TonePlan } from './tones.js';

const DTMF_EVENTS = DTMF_KEYS;

/** Audio devices run at 8 kHz (devices/audio-device.ts). */
const DEVICE_SAMPLES_PER_MS = 8;

/**
 * The payload type of our RTP keep-alives (RFC 6263 §4.6: a packet whose payload type was not
 * negotiated, which receivers ignore, RFC 3550 §5.1). 20 is a static type RFC 3551 left unassigned, so
 * no SDP can have given it a meaning.
 */
export const KEEP_ALIVE_PAYLOAD_TYPE = 20;

/** RFC 6263's default keep-alive interval (Tr). */
const DEFAULT_KEEP_ALIVE_MS = 15_000;

/** Packet lengths senders use (RFC 3551 §4.2: multiples of 10 ms; Opus's up to 120 ms). */
const PACKET_LENGTHS_MS = [10, 20, 30, 40, 50, 60, 80, 100, 120];

/** Undefined where the port is taken. */
async function unlessTaken<T>(bind: Promise<T>): Promise<T | undefined> {
  try {
    return await bind;
  } catch (e) {
    if (e instanceof PortInUseError) {
      return undefined;
    }
    throw e;
  }
}

/** An even RTP port and the odd RTCP port above it (RFC 3550 §11), both free, from the range. */
async function bindPair(
  address: string,
  min: number,
  max: number,
  openRtp: (address: string, port: number) => Promise<RtpSocket>,
): Promise<{ rtp: RtpSocket; rtcp: Socket }> {
  const first = min + (min % 2);
  const span = Math.floor((max - first - 1) / 2) + 1;
  const start = randomInt(Math.max(1, span));
  for (let i = 0; i < span; i++) {
    const port = first + 2 * ((start + i) % span);
    const rtp = await unlessTaken(openRtp(address, port));
    if (!rtp) {
      continue;
    }
    const rtcp = await unlessTaken(bindDgram(address, port + 1));
    if (rtcp) {
      return { rtp, rtcp };
    }
    rtp.close();
  }
  throw new Error(`no free RTP/RTCP port pair in ${min}-${max} on ${address}`);
}

export interface RtpSessionOptions {
  /** Mean RTCP report interval (RFC 3550 §6.2 recommends 5 s); each is randomised by 0.5-1.5. */
  rtcpIntervalMs: number;
  /**
   * While the call sends no audio (on hold either side, early media), an RTP keep-alive this long
   * after the last packet sent, and at once when none has been (RFC 6263); 0 sends none. 15 s unless
   * given.
   */
  keepAliveMs?: number;
  cname: string;
  /** The codecs the account allows; the session prepares Opus only where it may be negotiated. */
  codecs?: readonly CodecName[];
  /** How RTP ports are opened: native/udp where it is built (transport/rtp-socket.ts). */
  openRtpSocket?: (address: string, port: number) => Promise<RtpSocket>;
  /** What paces a call's frames: the kernel's timer where native/udp is built (clock/frame-clock.ts). */
  openFrameClock?: (onTick: () => void) => FrameClock;
  /** The tones the session plays itself (tones.ts); Europe's, with the ringtone, unless given. */
  tones?: TonePlan;
}

/**
 * One call's audio over RTP (RFC 3550): Opus or G.711 between the call and an audio device, frames paced
 * by a clock that keeps to its schedule (clock/frame-clock.ts), symmetric RTP (we send to where the
 * peer's packets come from once they do), RTCP reports and the call's quality beside it. Received RTP
 * is taken at each tick, with the times it arrived (transport/rtp-socket.ts), so a call wakes the
 * process once per frame.
 */
export class RtpAudioSession implements MediaSession {
  private codec: AudioCodecSession | undefined;
  private negotiated: NegotiatedAudio | undefined;
  private mode: Exclude<MediaMode, 'stop'> = { send: false, receive: false };
  private readonly ssrc = randomInt(1, 2 ** 32 - 1);
  private seq = randomInt(0, 0xffff);
  private timestamp = randomInt(0, 2 ** 32 - 1);
  /** When the last frame was sent: the timestamp runs on through a pause from there. */
  private lastFrameAt: number | undefined;
  /**
   * When the last RTP packet (a frame or a keep-alive) left, and the timestamp it carried: a NAT
   * forgets the media port's mapping once nothing has gone out through it for a while.
   */
  private lastRtpSentAt: number | undefined;
  private lastSentTimestamp = this.timestamp;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  /** No keep-alive before the call's media has a mode (a ringing incoming call sends nothing). */
  private modeSet = false;
  /** The next audio packet starts a talkspurt (RFC 3551 §4.1): the first, and the first after a pause. */
  private markNextAudio = true;
  private readonly clock: FrameClock;
  private clockRunning = false;
  /** The period the clock was started with: a re-INVITE may change the ptime. */
  private clockPeriodMs = 0;
  /** When the tick running now, or the next one, is due (performance.now()'s ms). */
  private nextTickAt = 0;
  private readonly counters: MediaStats = {
    packetsSent: 0,
    packetsReceived: 0,
    packetsDiscarded: 0,
    framesFailed: 0,
    keepAlivesSent: 0,
  };
  private latchedRemote: { address: string; port: number } | undefined;
  private latchedRtcp: { address: string; port: number } | undefined;
  private lastDtmfTimestamp: number | undefined;
  private dtmfListener: (digit: string) => void = () => undefined;
  private muted = false;
  private gain = 1;
  /** This call's place in the line's multiparty call, while it is joined in one. */
  private seat: ConferenceSeat | undefined;
  private lastRxAt = performance.now();
  /** The far end's own audio has arrived (early media, say): ringback gives way to it for good. */
  private farEndHeard = false;
  private tone: { kind: LocalTone; generator: SoundSource } | undefined;
  /** What a frame of the far end and a tone are mixed into. */
  private mixBuffer = new Int16Array(160);
  private dtmfQueue: DtmfFrame[] = [];
  private dtmfTimestamp = 0;
  private dtmfDone: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private watchdog: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly rtcp: RtcpState;
  private rtcpTimer: NodeJS.Timeout | undefined;
  private qualityListener: (q: CallQuality) => void = () => undefined;
  private jitter: JitterBuffer | undefined;
  readonly srtpInline = `inline:${randomBytes(30).toString('base64')}`;
  private srtp: { out: SrtpContext; in: SrtpContext; remoteInline: string } | undefined;
  /** The jitter buffer's frame: the far end's packet length, which our ptime is only a wish for. */
  private jitterFrameMs = 20;
  /** The RTP clock it was made for (0: none made yet). */
  private jitterClockRate = 0;
  private receivedPacketMs: number | undefined;
  /** The last packet's numbers, kept as two fields: this runs for every packet. (-2: none yet.) */
  private lastReceivedSeq = -2;
  private lastReceivedTimestamp = 0;
  private packetLengthCandidate = 0;
  private packetLengthVotes = 0;
  private readonly playout = new PcmQueue();
  private readonly expansion = new Expansion();
  private remoteSsrc: number | undefined;
  /**
   * What every frame we send is written into when the socket copies on send (SRTP makes a copy of its
   * own), and the view of it last sent: a call's frames are mostly of one length.
   */
  private readonly sendBuffer = new Uint8Array(RTP_HEADER_BYTES + 1920);
  private sendView = this.sendBuffer.subarray(0, 0);
  /** And one header reader for every packet we receive (rtp-header.ts says why not rtp.js). */
  private readonly incoming = new RtpHeaderReader();

  constructor(
    private socket: RtpSocket,
    private rtcpSocket: Socket,
    /** A free RTP/RTCP port pair on an address, for moveTo. */
    private readonly bindPairOn: (address: string) => Promise<{ rtp: RtpSocket; rtcp: Socket }>,
    private readonly audio: CallAudio,
    private readonly logger: Logger,
    private readonly options: RtpSessionOptions,
    private readonly opus: OpusCodec | undefined,
  ) {
    this.clock = (options.openFrameClock ?? openFrameClock)(this.onTick);
    this.listenForRtcp(rtcpSocket);
    this.rtcp = new RtcpState(
      this.ssrc,
      8000,
      options.cname,
      { monotonicMs: () => performance.now(), wallMs: () => Date.now() },
      {
        localDelayMs: () => (this.negotiated?.ptime ?? 20) + (this.jitterBufferMs() ?? 0),
        lateFrames: () => this.jitter?.stats().late ?? 0,
      },
    );
  }

  private listenForRtcp(rtcpSocket: Socket): void {
    rtcpSocket.on('message', (msg, rinfo) => this.onRtcp(msg, { address: rinfo.address, port: rinfo.port }));
    rtcpSocket.on('error', (e) => this.logger.warn({ err: e.message }, 'rtcp socket error'));
  }

  async moveTo(address: string): Promise<void> {
    const { rtp, rtcp } = await this.bindPairOn(address);
    if (this.closed) {
      rtp.close();
      rtcp.close();
      return;
    }
    const [oldRtp, oldRtcp] = [this.socket, this.rtcpSocket];
    this.socket = rtp;
    this.rtcpSocket = rtcp;
    this.listenForRtcp(rtcp);
    oldRtp.close();
    closeQuietly(oldRtcp, this.logger);
    // The far end sends to the new address only once our re-INVITE reached it: no timeout before.
    this.lastRxAt = performance.now();
    this.logger.info({ address, port: rtp.port }, 'media moved to a new address');
  }

  get localAddress(): string {
    return this.socket.address;
  }

  get localPort(): number {
    return this.socket.port;
  }

  configure(negotiated: NegotiatedAudio): void {
    this.negotiated = negotiated;
    this.latchedRemote = undefined;
    if (this.codec?.name !== negotiated.codec.name) {
      if (this.codec !== this.opus) {
        this.codec?.close();
      }
      if (negotiated.codec.name === 'OPUS') {
        if (!this.opus) {
          throw new Error('Opus was negotiated but this session has no Opus codec');
        }
        this.codec = this.opus;
      } else {
        this.codec = new G711Codec(negotiated.codec.name);
      }
      this.rtcp.setClockRate(this.codec.clockRate);
      this.receivedPacketMs = undefined;
    }
    this.opus?.sendInbandFec(negotiated.opusInbandFec === true);
    // A re-INVITE (hold, resume) does not make the far end's packets change length.
    this.prepareJitterBuffer(this.receivedPacketMs ?? negotiated.ptime, this.codec.clockRate);
    // A re-INVITE that keeps the keys keeps the contexts (and their rollover counters).
    if (negotiated.srtpRemoteInline === undefined) {
      this.srtp = undefined;
    } else if (this.srtp?.remoteInline !== negotiated.srtpRemoteInline) {
      this.srtp = {
        out: SrtpContext.fromInline(this.srtpInline),
        in: SrtpContext.fromInline(negotiated.srtpRemoteInline),
        remoteInline: negotiated.srtpRemoteInline,
      };
    }
    if (!this.rtcpTimer && !this.closed) {
      this.scheduleRtcp(this.options.rtcpIntervalMs / 2);
    }
    this.armKeepAlive();
  }

  quality(): CallQuality {
    const q = this.rtcp.quality();
    const stats = this.jitter?.stats();
    if (!stats) {
      return q;
    }
    const { targetMs, late, concealed, accelerated, expanded } = stats;
    return {
      ...q,
      jitterBufferMs: this.heldMs(stats),
      jitterBuffer: { targetMs, late, concealed, accelerated, expanded },
    };
  }

  /** What the jitter buffer holds back, with the received audio waiting for the device's next frame. */
  private jitterBufferMs(): number | undefined {
    const stats = this.jitter?.stats();
    return stats ? this.heldMs(stats) : undefined;
  }

  private heldMs(stats: JitterStats): number {
    return stats.delayMs + this.playout.length / DEVICE_SAMPLES_PER_MS;
  }

  /**
   * One jitter buffer per call (native/jitter, WebAssembly), shaped by frame length and RTP clock.
   * Should none be free (the module holds eight), audio is played as it arrives, as before.
   */
  private prepareJitterBuffer(ptime: number, clockRate: number): void {
    if (ptime === this.jitterFrameMs && clockRate === this.jitterClockRate) {
      return;
    }
    this.jitter?.destroy();
    this.jitter = undefined;
    this.jitterFrameMs = ptime;
    this.jitterClockRate = clockRate;
    this.playout.clear();
    this.expansion.clear();
    try {
      this.jitter = JitterBuffer.create(ptime, clockRate);
    } catch (e) {
      if (!(e instanceof JitterBufferError)) {
        throw e;
      }
      this.logger.warn({ err: e.message }, 'no jitter buffer for this call: audio plays as it arrives');
    }
  }

  /**
   * Once per tick: one of our frames to the device, from as many of the jitter buffer's decisions as it
   * takes (one, when the far end's packets are as long as ours).
   */
  private playFrame(): void {
    const jb = this.jitter;
    const codec = this.codec;
    if (!jb || !codec) {
      return;
    }
    const need = this.frameSamples();
    const now = performance.now();
    if (this.playout.length === 0) {
      const pcm = this.nextPlayout(jb, codec, now);
      if (pcm.length === need) {
        this.writeToDevice(pcm);
        return;
      }
      this.playout.push(pcm);
    }
    while (this.playout.length < need) {
      this.playout.push(this.nextPlayout(jb, codec, now));
    }
    this.writeToDevice(this.playout.take(need));
  }

  /** One decision of the jitter buffer as audio: a packet's worth (an acceleration's: one to 1.5), never empty. */
  private nextPlayout(jb: JitterBuffer, codec: AudioCodecSession, now: number): Int16Array {
    const samples = this.jitterFrameMs * DEVICE_SAMPLES_PER_MS;
    const out = jb.get(now);
    if (out.kind === 'expand') {
      return this.expansion.next(samples);
    }
    const pcm = this.farEndAudio(out, codec, samples);
    this.expansion.played(pcm);
    return pcm;
  }

  private farEndAudio(
    out: Exclude<Playout, { kind: 'expand' }>,
    codec: AudioCodecSession,
    samples: number,
  ): Int16Array {
    switch (out.kind) {
      case 'normal':
        return this.decodeOrConceal(codec, out.frames[0].payload, samples);
      case 'accelerate':
        return compressTwoFrames(
          this.decodeOrConceal(codec, out.frames[0].payload, samples),
          this.decodeOrConceal(codec, out.frames[1].payload, samples),
        );
      case 'conceal':
        return codec.conceal(samples);
      case 'silence':
        return new Int16Array(samples);
    }
  }

  /** A payload decoded, or, where it cannot be (or decodes to nothing), concealed like a lost one. */
  private decodeOrConceal(codec: AudioCodecSession, payload: Uint8Array, samples: number): Int16Array {
    try {
      const pcm = codec.decode(payload);
      if (pcm.length > 0) {
        return pcm;
      }
    } catch {
      // counted below
    }
    this.counters.packetsDiscarded++;
    return codec.conceal(samples);
  }

  /**
   * When a packet can be played: at the tick that took it in, the first time playout can reach it. A
   * packet that arrives just after a tick waits for the next; told its arrival instead, the buffer would
   * think it could have been played a whole frame earlier, and a far end whose packets arrive around
   * our ticks would leave gaps. So the buffer learns the wait for the tick as delay, and holds enough to
   * cover it. (RTCP's jitter is measured from the true arrival.)
   */
  private usableFrom(arrivedAt: number): number {
    return Math.max(arrivedAt, this.nextTickAt);
  }

  /**
   * The far end may send packets of another length than the ptime we asked for: three in a row whose
   * timestamps step by another standard length reshape the jitter buffer to it (what it holds is lost,
   * once, at the start of such a call).
   */
  private learnPacketLength(seq: number, timestamp: number, clockRate: number): void {
    const follows = ((this.lastReceivedSeq + 1) & 0xffff) === seq;
    const step = (timestamp - this.lastReceivedTimestamp) >>> 0;
    this.lastReceivedSeq = seq;
    this.lastReceivedTimestamp = timestamp;
    if (!follows) {
      return;
    }
    const ms = (step * 1000) / clockRate;
    if (ms === this.jitterFrameMs || !PACKET_LENGTHS_MS.includes(ms)) {
      this.packetLengthVotes = 0;
      return;
    }
    this.packetLengthVotes = ms === this.packetLengthCandidate ? this.packetLengthVotes + 1 : 1;
    this.packetLengthCandidate = ms;
    if (this.packetLengthVotes >= 3) {
      this.logger.info({ from: this.jitterFrameMs, to: ms }, 'the far end sends packets of another length');
      this.receivedPacketMs = ms;
      this.prepareJitterBuffer(ms, clockRate);
      this.packetLengthVotes = 0;
    }
  }

  private writeToDevice(heard: Int16Array): void {
    // The other members hear this far end as it spoke, whatever the cabin's volume and tones.
    this.seat?.heard(heard);
    if (this.mode.cabin === false) {
      return;
    }
    const pcm = this.withTone(heard);
    if (this.gain !== 1) {
      for (let i = 0; i < pcm.length; i++) {
        pcm[i] = Math.round((pcm[i] ?? 0) * this.gain);
      }
    }
    this.audio.sink.write(pcm);
  }

  /** The frame with the local tone added, in a buffer of the session's own; the frame itself without one. */
  private withTone(pcm: Int16Array): Int16Array {
    const tone = this.tone;
    if (!tone || (tone.kind === 'ringback' && this.farEndHeard)) {
      return pcm;
    }
    if (this.mixBuffer.length < pcm.length) {
      this.mixBuffer = new Int16Array(pcm.length);
    }
    const mixed = this.mixBuffer.subarray(0, pcm.length);
    const added = tone.generator.next(pcm.length);
    for (let i = 0; i < pcm.length; i++) {
      mixed[i] = Math.max(-32768, Math.min(32767, (pcm[i] ?? 0) + (added[i] ?? 0)));
    }
    return mixed;
  }

  setLocalTone(kind: LocalTone | undefined): void {
    if (this.closed || kind === this.tone?.kind) {
      return;
    }
    const sound = kind === undefined ? undefined : (this.options.tones ?? TONE_PLANS.europe)[kind];
    this.tone = kind && sound ? { kind, generator: soundSource(sound) } : undefined;
    if (this.tone && !this.clockRunning) {
      this.nextTickAt = performance.now();
      this.startClock();
    }
  }

  onQuality(listener: (q: CallQuality) => void): void {
    this.qualityListener = listener;
  }

  /** RFC 3550 §6.3.1: intervals randomised over 0.5-1.5 of the mean, so that senders do not synchronise. */
  private scheduleRtcp(meanMs: number): void {
    this.rtcpTimer = setTimeout(
      () => {
        this.sendRtcp(false);
        this.qualityListener(this.quality());
        this.scheduleRtcp(this.options.rtcpIntervalMs);
      },
      meanMs * (0.5 + Math.random()),
    );
  }

  private sendRtcp(bye: boolean): void {
    const n = this.negotiated;
    if (!n) {
      return;
    }
    const report = this.rtcp.buildReport(this.timestamp, bye);
    const packet = this.srtp ? this.srtp.out.protectRtcp(report) : report;
    const target = this.latchedRtcp ?? { address: n.remoteAddress, port: n.remoteRtcpPort };
    this.rtcpSocket.send(packet, target.port, target.address);
  }

  private onRtcp(data: Uint8Array, from?: { address: string; port: number }): void {
    try {
      this.rtcp.onRtcp(this.srtp ? this.srtp.in.unprotectRtcp(data) : data);
      const loss = this.rtcp.peerReportedLossPct;
      if (this.opus && this.codec === this.opus && loss !== undefined) {
        this.opus.expectLoss(loss);
      }
      if (from) {
        this.latchedRtcp = from;
      }
    } catch (e) {
      this.counters.packetsDiscarded++;
      this.logger.debug({ err: e instanceof Error ? e.message : String(e) }, 'bad RTCP dropped');
    }
  }

  setMode(mode: MediaMode): void {
    if (mode === 'stop') {
      this.close();
      return;
    }
    // What came while the clock may have been stopped is taken as the mode it came in would have.
    this.socket.receive(this.onDatagram);
    if (mode.receive && !this.mode.receive) {
      this.lastRxAt = performance.now();
    }
    const wasSending = this.mode.send;
    // Undefined unless we send again, having sent before (not the answer after early media).
    const lastSentBefore = mode.send && !wasSending ? this.lastFrameAt : undefined;
    // A hold ends: ours (we play again) or the far end's (we send again). Played on from before it,
    // the buffer would take the far end's pause for network delay where its timestamps did not move
    // with the time (as ours did not before).
    const holdEnds = (mode.receive && !this.mode.receive) || lastSentBefore !== undefined;
    if (holdEnds && this.remoteSsrc !== undefined) {
      this.jitter?.reset();
      this.playout.clear();
      this.expansion.clear();
    }
    if (lastSentBefore !== undefined) {
      this.resumeTimestamp(lastSentBefore);
    }
    this.mode = mode;
    this.modeSet = true;
    this.armKeepAlive();
    if (!mode.send && wasSending) {
      this.dtmfQueue = [];
      this.dtmfDone
        .splice(0)
        .forEach((d) => d.reject(new Error('the call went on hold before the tones were sent')));
    }
    if ((mode.send || mode.receive) && !this.clockRunning) {
      // Half a frame from now: a far end that starts sending when the call is answered, as most do,
      // starts when we do, and its packets would reach us just at our ticks, each one either side of
      // a tick by its own timer's jitter, and so either in time or a frame late. Half a frame on, they
      // arrive mid-frame.
      this.nextTickAt = performance.now() + (this.negotiated?.ptime ?? 20) / 2;
      this.startClock();
    } else if (!mode.send && !mode.receive && this.clockRunning) {
      this.stopClock();
    }
  }

  /**
   * RFC 3550 §5.1: the timestamp follows the sampling clock whether or not frames are sent, so after a
   * pause (hold) it has moved on by the time paused. Left where it stopped, the far end's jitter buffer
   * and its RTCP jitter would take the pause for seconds of network delay.
   */
  private resumeTimestamp(lastSentAt: number): void {
    const ptime = this.negotiated?.ptime ?? 20;
    // The timestamp already stands one frame after the last one sent.
    const skipped = Math.round((performance.now() - lastSentAt) / ptime) - 1;
    if (skipped > 0) {
      this.timestamp = (this.timestamp + skipped * this.frameTicks()) >>> 0;
    }
    this.markNextAudio = true;
  }

  stats(): MediaStats {
    const counters = {
      ...this.counters,
      packetsDiscarded: this.counters.packetsDiscarded + this.socket.dropped,
    };
    return this.jitter ? { ...counters, jitter: this.jitter.stats() } : counters;
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

  setConference(room: ConferenceRoom | undefined): void {
    if (this.seat?.room === room) {
      return;
    }
    this.seat?.leave();
    this.seat = room && !this.closed ? room.join() : undefined;
  }

  setMuted(muted: boolean): void {
    this.muted = muted;
  }

  setVolume(percent: number): void {
    this.gain = Math.max(0, Math.min(100, percent)) / 100;
  }

  /** Samples of 8 kHz audio per frame: what the device gives and takes. */
  private frameSamples(): number {
    return (this.negotiated?.ptime ?? 20) * DEVICE_SAMPLES_PER_MS;
  }

  /** RTP timestamp units per frame, at the codec's clock. */
  private frameTicks(): number {
    return ((this.negotiated?.ptime ?? 20) * (this.codec?.clockRate ?? 8000)) / 1000;
  }

  /**
   * One clock per call for both directions: every wake-up costs, and on a head unit's CPU (or in a
   * virtual machine) the timer, not the codec, is most of a G.711 call's CPU time.
   */
  private tick(): void {
    if (this.closed || (!this.mode.send && !this.mode.receive && !this.tone)) {
      this.stopClock();
      return;
    }
    this.socket.receive(this.onDatagram);
    // A frame that fails (a device that cannot be read, say) is lost; the clock goes on, and the
    // other direction's frame is still played or sent.
    if (this.mode.send) {
      try {
        this.sendFrame();
      } catch (e) {
        this.frameFailed('send', e);
      }
    }
    if (this.mode.receive) {
      try {
        this.playFrame();
      } catch (e) {
        this.frameFailed('play', e);
      }
    }
    // Nothing of the far end to play the tone over (ringing, before any answer): the tone alone.
    if (this.tone && !(this.mode.receive && this.codec)) {
      try {
        this.writeToDevice(silent(this.frameSamples()));
      } catch (e) {
        this.frameFailed('play', e);
      }
    }
    const period = this.negotiated?.ptime ?? 20;
    this.nextTickAt += period;
    if (period !== this.clockPeriodMs) {
      this.startClock();
    }
  }

  /** The clock's one function for every tick: the media path makes nothing per frame it can keep. */
  private readonly onTick = (): void => this.tick();

  /** Ticks from `nextTickAt` on, one frame apart. */
  private startClock(): void {
    this.clockPeriodMs = this.negotiated?.ptime ?? 20;
    this.clock.start(this.nextTickAt, this.clockPeriodMs);
    this.clockRunning = true;
  }

  private stopClock(): void {
    this.clock.stop();
    this.clockRunning = false;
  }

  /** Logged once per call: a fault that hits one frame usually hits every frame after it. */
  private frameFailed(direction: 'send' | 'play', e: unknown): void {
    this.counters.framesFailed++;
    if (this.counters.framesFailed === 1) {
      this.logger.error(
        { direction, err: e instanceof Error ? e.message : String(e) },
        'a media frame failed',
      );
    }
  }

  /** Queues DTMF keys as RFC 4733 events; resolves when the last one has been sent. */
  sendDtmf(keys: string): Promise<void> {
    const te = this.negotiated?.telephoneEventPt;
    if (te === undefined) {
      return Promise.reject(new Error('the far end did not negotiate telephone-event'));
    }
    const teRate = this.negotiated?.telephoneEventRate ?? 8000;
    this.dtmfQueue.push(
      ...dtmfFrames(keys, {
        ...defaultTiming,
        samplesPerFrame: ((this.negotiated?.ptime ?? 20) * teRate) / 1000,
      }),
    );
    if (this.closed || !this.mode.send) {
      this.dtmfQueue = [];
      return Promise.reject(new Error('the call is not sending audio (ended or on hold)'));
    }
    return new Promise((resolve, reject) => this.dtmfDone.push({ resolve, reject }));
  }

  private sendFrame(): void {
    const n = this.negotiated;
    const codec = this.codec;
    if (!n || !codec) {
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
    // The frame's time passes whether or not it gets out: a frame lost to a failing device or encoder
    // leaves a gap in the timestamps (as silence would), not a shift of everything after it.
    this.timestamp = (this.timestamp + this.frameTicks()) >>> 0;
    const now = performance.now();
    this.lastFrameAt = now;
    let marker: boolean;
    if (dtmf?.kind === 'event' && n.telephoneEventPt !== undefined) {
      if (dtmf.eventStart) {
        this.dtmfTimestamp = timestamp;
      }
      payload = dtmf.payload;
      payloadType = n.telephoneEventPt;
      timestamp = this.dtmfTimestamp;
      marker = dtmf.first;
    } else {
      const cabin =
        this.muted || this.mode.cabin === false ? silent(samples) : this.audio.source.read(samples);
      payload = codec.encode(this.seat ? this.seat.mix(cabin) : cabin);
      marker = this.markNextAudio;
      this.markNextAudio = false;
    }
    const plain = this.packetFor(payload.byteLength);
    writeRtpHeader(plain, marker, payloadType, this.seq, timestamp >>> 0, this.ssrc);
    plain.set(payload, RTP_HEADER_BYTES);
    this.sendRtp(n, plain, timestamp, now);
    this.counters.packetsSent++;
    this.rtcp.onRtpSent(payload.byteLength);
  }

  /** An RTP packet (its header written with this.seq) to the far end, where its packets come from once they do. */
  private sendRtp(n: NegotiatedAudio, plain: Uint8Array, timestamp: number, now: number): void {
    const target = this.latchedRemote ?? { address: n.remoteAddress, port: n.remotePort };
    this.socket.send(this.srtp ? this.srtp.out.protectRtp(plain) : plain, target.port, target.address);
    this.seq = (this.seq + 1) & 0xffff;
    this.lastRtpSentAt = now;
    this.lastSentTimestamp = timestamp;
  }

  /**
   * RFC 6263: a call that sends no audio (held by either side, or hearing early media) sends nothing
   * through its RTP port, and the car's NAT forgets the port's mapping within tens of seconds; the far
   * end's audio (music on hold, an announcement, the call once resumed) then no longer reaches the car,
   * and a media relay that latched onto the mapping (symmetric RTP) has nowhere to send it. So while
   * not sending, a keep-alive goes out `keepAliveMs` after the last packet, and at once where none has
   * gone out yet: the first packet is what lets a relay find the car at all.
   */
  private armKeepAlive(): void {
    clearTimeout(this.keepAliveTimer);
    this.keepAliveTimer = undefined;
    const interval = this.options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS;
    if (this.closed || interval <= 0 || !this.negotiated || !this.modeSet || this.mode.send) {
      return;
    }
    const dueIn = this.lastRtpSentAt === undefined ? 0 : this.lastRtpSentAt + interval - performance.now();
    this.keepAliveTimer = setTimeout(
      () => {
        this.keepAliveTimer = undefined;
        if (this.closed || this.mode.send || !this.negotiated) {
          return;
        }
        this.sendKeepAlive(this.negotiated);
        this.armKeepAlive();
      },
      Math.max(0, dueIn),
    );
  }

  /** RFC 6263 §4.6: no payload, a payload type never negotiated, the stream's SSRC and numbering. */
  private sendKeepAlive(n: NegotiatedAudio): void {
    const plain = new Uint8Array(RTP_HEADER_BYTES);
    writeRtpHeader(plain, false, KEEP_ALIVE_PAYLOAD_TYPE, this.seq, this.lastSentTimestamp, this.ssrc);
    try {
      this.sendRtp(n, plain, this.lastSentTimestamp, performance.now());
      this.counters.keepAlivesSent++;
      this.logger.debug({ sent: this.counters.keepAlivesSent }, 'RTP keep-alive sent');
    } catch (e) {
      this.logger.debug({ err: e instanceof Error ? e.message : String(e) }, 'RTP keep-alive not sent');
    }
  }

  /** Room for a packet with `payloadBytes` of payload; a socket that may still hold the last frame gets one of its own. */
  private packetFor(payloadBytes: number): Uint8Array {
    const length = RTP_HEADER_BYTES + payloadBytes;
    if ((!this.socket.copiesOnSend && this.srtp === undefined) || length > this.sendBuffer.length) {
      return new Uint8Array(length);
    }
    if (this.sendView.length !== length) {
      this.sendView = this.sendBuffer.subarray(0, length);
    }
    return this.sendView;
  }

  /**
   * A datagram from the RTP port (its data valid only during the call). Whatever the network sends
   * must not throw out of the tick that reads it: the rest of the tick's datagrams, the tick's frames
   * and the clock itself would be lost with it.
   */
  private readonly onDatagram: DatagramHandler = (datagram, address, port, arrivedAt) => {
    try {
      this.takeDatagram(datagram, address, port, arrivedAt);
    } catch (e) {
      this.counters.packetsDiscarded++;
      this.logger.debug({ err: e instanceof Error ? e.message : String(e) }, 'bad datagram dropped');
    }
  };

  private takeDatagram(datagram: Uint8Array, address: string, port: number, arrivedAt: number): void {
    const n = this.negotiated;
    let msg = datagram;
    if (this.srtp && n && !looksLikeRtcp(msg)) {
      try {
        msg = this.srtp.in.unprotectRtp(msg);
      } catch (e) {
        // Forged, replayed or plain packets on an SRTP call never reach the decoder.
        this.counters.packetsDiscarded++;
        this.logger.debug({ err: e instanceof SrtpError ? e.message : String(e) }, 'SRTP packet dropped');
        return;
      }
    }
    if (n && looksLikeRtcp(msg)) {
      // RTCP multiplexed on the RTP port (RFC 5761), which some peers do even unasked.
      this.onRtcp(msg);
      return;
    }
    const packet = this.incoming;
    if (!n || !packet.read(msg)) {
      this.counters.packetsDiscarded++;
      return;
    }
    const pt = packet.payloadType;
    const payload = msg.subarray(packet.payloadOffset, packet.payloadOffset + packet.payloadLength);
    const isEvent = pt === n.telephoneEventPt;
    if (!isEvent && payload.length === 0 && pt !== n.codec.payloadType) {
      // The far end's keep-alive (RFC 6263 §4.6): nothing to play, but where it now comes from.
      this.latchOnto(n, address, port);
      return;
    }
    if (!isEvent && (pt !== n.codec.payloadType || payload.length === 0 || payload.length > 1920)) {
      this.counters.packetsDiscarded++;
      return;
    }
    this.counters.packetsReceived++;
    this.rtcp.onRtpReceived(packet.ssrc, packet.sequenceNumber, packet.timestamp, arrivedAt);
    if (isEvent) {
      this.onTelephoneEvent(payload, packet.timestamp);
      return;
    }
    this.lastRxAt = arrivedAt;
    this.latchOnto(n, address, port);
    if (!this.mode.receive || !this.codec) {
      return;
    }
    this.farEndHeard = true;
    const ssrc = packet.ssrc;
    if (this.jitter) {
      if (this.remoteSsrc !== undefined && ssrc !== this.remoteSsrc) {
        // A new source (the far end restarted its stream): its numbering starts afresh.
        this.jitter.reset();
      }
      this.remoteSsrc = ssrc;
      this.learnPacketLength(packet.sequenceNumber, packet.timestamp, this.codec.clockRate);
      this.jitter?.put(packet.sequenceNumber, packet.timestamp, this.usableFrom(arrivedAt), payload);
      return;
    }
    let pcm: Int16Array;
    try {
      pcm = this.codec.decode(payload);
    } catch (e) {
      this.counters.packetsDiscarded++;
      this.logger.debug({ err: e instanceof Error ? e.message : String(e) }, 'undecodable audio dropped');
      return;
    }
    this.writeToDevice(pcm);
  }

  /**
   * Symmetric RTP: we send to where the far end's packets last came from, where that is not its SDP's
   * address. Packets from the SDP's address undo an earlier latch: those that came, after a re-INVITE,
   * from where the far end was before it moved must not keep us sending there.
   */
  private latchOnto(n: NegotiatedAudio, address: string, port: number): void {
    const latched = this.latchedRemote;
    if (address === n.remoteAddress && port === n.remotePort) {
      this.latchedRemote = undefined;
    } else if (latched?.address !== address || latched.port !== port) {
      this.latchedRemote = { address, port };
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
    clearTimeout(this.rtcpTimer);
    clearTimeout(this.keepAliveTimer);
    this.jitter?.destroy();
    this.jitter = undefined;
    try {
      this.sendRtcp(true);
    } catch (e) {
      this.logger.debug({ err: String(e) }, 'rtcp bye');
    }
    this.closed = true;
    this.seat?.leave();
    this.seat = undefined;
    clearInterval(this.watchdog);
    // Tones still queued will never go out: their SendTones must not wait forever.
    this.dtmfQueue = [];
    this.dtmfDone.splice(0).forEach((d) => d.reject(new Error('the call ended before the tones were sent')));
    this.clock.close();
    this.clockRunning = false;
    this.audio.sink.close();
    this.codec?.close();
    if (this.opus !== this.codec) {
      this.opus?.close();
    }
    this.socket.close();
    closeQuietly(this.rtcpSocket, this.logger);
  }
}

function closeQuietly(socket: Socket, logger: Logger): void {
  try {
    socket.close();
  } catch (e) {
    logger.debug({ err: String(e) }, 'rtcp socket close');
  }
}

export class RtpMediaFactory implements MediaFactory {
  constructor(
    private readonly address: string,
    private readonly ports: { min: number; max: number },
    private readonly device: AudioDevice,
    private readonly logger: Logger,
    private readonly options: RtpSessionOptions = { rtcpIntervalMs: 5000, cname: 'carphone' },
  ) {
    if (this.negotiatesOpus) {
      OpusCodec.prepareForNextCall();
    }
  }

  private get negotiatesOpus(): boolean {
    return (this.options.codecs ?? DEFAULT_CODECS).includes('OPUS');
  }

  async create(callTag: string): Promise<MediaSession> {
    const opus = this.negotiatesOpus ? await OpusCodec.forNextCall() : undefined;
    const bindPairOn = (address: string): Promise<{ rtp: RtpSocket; rtcp: Socket }> =>
      bindPair(address, this.ports.min, this.ports.max, this.options.openRtpSocket ?? openRtpSocket);
    const { rtp, rtcp } = await bindPairOn(this.address);
    return new RtpAudioSession(
      rtp,
      rtcp,
      bindPairOn,
      this.device.openCall(callTag),
      this.logger,
      this.options,
      opus,
    );
  }
}
