import type { NegotiatedAudio } from '../sdp/offer-answer.js';
import type { MediaMode } from '../calls/call-machine.js';
import type { CallQuality } from './rtcp/rtcp-state.js';
import type { JitterStats } from './jitter/jitter-buffer.js';
import type { ConferenceRoom } from './conference.js';
import type { LocalTone } from './tones.js';

/**
 * The media side of one call, as the SIP user agent sees it. The G.711 RTP session implements it now;
 * the real-time media engine (Opus, jitter buffer, RTCP quality) replaces it behind the same interface.
 */
export interface MediaStats {
  packetsSent: number;
  packetsReceived: number;
  /** Datagrams on the RTP port that were not RTP for this call (garbage, wrong payload type). */
  packetsDiscarded: number;
  /** Frame ticks whose send or playout threw (the frame is lost; the call's clock goes on). */
  framesFailed: number;
  /** RTP keep-alives sent while the call sent no audio (on hold, early media): RFC 6263. */
  keepAlivesSent: number;
  /** The jitter buffer's counters, where the call has one. */
  jitter?: JitterStats;
}

export interface MediaSession {
  readonly localAddress: string;
  readonly localPort: number;
  /** This side's SDES key for the SDP (RFC 4568 "inline:…"), fresh for every call. */
  readonly srtpInline: string;
  /** Sets or updates the far end and codec after an offer/answer exchange. */
  configure(negotiated: NegotiatedAudio): void;
  setMode(mode: MediaMode): void;
  stats(): MediaStats;
  onDtmf(listener: (digit: string) => void): void;
  /** Sends DTMF keys as RFC 4733 telephone-events; resolves once they are on the wire. */
  sendDtmf(keys: string): Promise<void>;
  /**
   * Joins the call to a multiparty call mixed here (its far end hears the cabin and the other members),
   * or, with undefined, takes it out of one.
   */
  setConference(room: ConferenceRoom | undefined): void;
  /** Microphone mute: silence is sent instead of the cabin's audio, the stream keeps running. */
  setMuted(muted: boolean): void;
  /** Playback volume, 0-100 %. */
  setVolume(percent: number): void;
  /**
   * A tone of our own in the cabin (tones.ts), or none: ringback until the far end's own audio
   * arrives, the call-waiting tone over the far end, the ringtone of a call not yet answered.
   */
  setLocalTone(tone: LocalTone | undefined): void;
  /**
   * Called once when no RTP has arrived for `ms` while the session expects to receive: the far end
   * or the network is gone (a dropped call sends no BYE).
   */
  onSilence(ms: number, listener: () => void): void;
  /**
   * The head unit's address changed: RTP and RTCP from now on from a new port pair on `address`, the
   * old one closed. The stream goes on as it was (codec, SSRC, sequence, keys, jitter buffer); the far
   * end learns the new address from the re-INVITE that follows.
   */
  moveTo(address: string): Promise<void>;
  /** The call's quality as RTCP and the received stream tell it (service/media/rtcp/rtcp-state.ts). */
  quality(): CallQuality;
  /** Called after each RTCP report interval with the quality then. */
  onQuality(listener: (q: CallQuality) => void): void;
  close(): void;
}

export interface MediaFactory {
  create(callTag: string): Promise<MediaSession>;
}
