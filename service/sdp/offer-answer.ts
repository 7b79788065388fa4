import * as sdpTransform from 'sdp-transform';
import { SRTP_SUITE } from '../media/srtp/srtp-context.js';
import { ipFamily } from '../core/ip-address.js';

/**
 * SDP offer/answer (RFC 3264) for one audio stream, on top of sdp-transform's parser. carphone offers
 * Opus (RFC 7587), PCMU, PCMA and telephone-event at both clock rates, in the account's order of
 * preference, and prefers Opus when a peer offers it.
 */
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export type CodecName = 'OPUS' | 'PCMU' | 'PCMA';

export interface AudioCodec {
  name: CodecName;
  payloadType: number;
  clockRate: 8000 | 48000;
}

export interface LocalMedia {
  address: string;
  port: number;
  sessionId: number;
  version: number;
  /** The codecs this side takes, most wanted first; all three by default. */
  codecs?: readonly CodecName[];
  /**
   * SRTP with an SDES key (RFC 4568): "mandatory" offers RTP/SAVP and takes nothing else; "optional"
   * offers the key on RTP/AVP (best effort, as baresip's "srtp" does) and takes either.
   */
  srtp?: { mode: 'optional' | 'mandatory'; inline: string };
}

export const DEFAULT_CODECS: readonly CodecName[] = ['OPUS', 'PCMU', 'PCMA'];

/** The config's codec names (opus, pcmu, pcma) as SDP encoding names. */
export function codecNames(config: readonly ('opus' | 'pcmu' | 'pcma')[]): CodecName[] {
  return config.map((c) => c.toUpperCase() as CodecName);
}

export interface NegotiatedAudio {
  remoteAddress: string;
  remotePort: number;
  /** Where the peer takes RTCP: its a=rtcp attribute (RFC 3605), else the RTP port + 1. */
  remoteRtcpPort: number;
  codec: AudioCodec;
  /** Payload type the peer uses for RFC 4733 telephone-event, if it offered/accepted it. */
  telephoneEventPt?: number;
  /** Its clock rate: the audio codec's where the peer has that, else 8000. */
  telephoneEventRate?: number;
  /** The peer's SDES key when the call is on SRTP: "inline:…" of its a=crypto line. */
  srtpRemoteInline?: string;
  /** The direction attribute as the peer wrote it (its own point of view). */
  remoteDirection: Direction;
  ptime: number;
  /**
   * The peer's Opus decoder makes use of in-band FEC (its fmtp says useinbandfec=1, RFC 7587 §6.1), so
   * our encoder adds it. carphone's own decoder cannot, and does not say so.
   */
  opusInbandFec?: boolean;
}

export class SdpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SdpError';
  }
}

const SUPPORTED: readonly AudioCodec[] = [
  { name: 'OPUS', payloadType: 96, clockRate: 48000 },
  { name: 'PCMU', payloadType: 0, clockRate: 8000 },
  { name: 'PCMA', payloadType: 8, clockRate: 8000 },
];
/** telephone-event at each audio clock rate: RFC 4733 events share the clock of the audio they go with. */
const TELEPHONE_EVENT_PTS: Readonly<Record<number, number>> = { 48000: 102, 8000: 101 };
/**
 * We send and take narrowband Opus (the devices run at 8 kHz): no point in the peer sending more. No
 * useinbandfec=1: opus-decoder cannot decode the in-band FEC, and the peer would spend bits on it.
 */
const OPUS_FMTP = 'maxplaybackrate=8000;sprop-maxcapturerate=8000';

/** The peer's formats that carphone takes (and the account allows), in the peer's order, with its payload types. */
function commonCodecs(
  remote: { codecs: { pt: number; name: string; rate: number }[] },
  allowed: readonly CodecName[],
): AudioCodec[] {
  return remote.codecs.flatMap((c) => {
    const s = SUPPORTED.find((x) => x.name === c.name && x.clockRate === c.rate && allowed.includes(x.name));
    return s ? [{ ...s, payloadType: c.pt }] : [];
  });
}

export function reverseDirection(d: Direction): Direction {
  return d === 'sendonly' ? 'recvonly' : d === 'recvonly' ? 'sendonly' : d;
}

/** Combines what we want (our point of view) with what the peer offered (its point of view). */
export function answerDirection(offered: Direction, wanted: Direction): Direction {
  const peerSends = offered === 'sendrecv' || offered === 'sendonly';
  const peerReceives = offered === 'sendrecv' || offered === 'recvonly';
  const weSend = (wanted === 'sendrecv' || wanted === 'sendonly') && peerReceives;
  const weReceive = (wanted === 'sendrecv' || wanted === 'recvonly') && peerSends;
  return weSend && weReceive ? 'sendrecv' : weSend ? 'sendonly' : weReceive ? 'recvonly' : 'inactive';
}

function render(
  local: LocalMedia,
  codecs: readonly AudioCodec[],
  telephoneEvents: readonly { pt: number; rate: number }[],
  direction: Direction,
  ptime: number,
  crypto?: { tag: number; savp: boolean },
): string {
  const payloads = [...codecs.map((c) => c.payloadType), ...telephoneEvents.map((t) => t.pt)];
  const description: sdpTransform.SessionDescription = {
    version: 0,
    origin: {
      username: 'carphone',
      sessionId: local.sessionId,
      sessionVersion: local.version,
      netType: 'IN',
      ipVer: ipFamily(local.address) ?? 4,
      address: local.address,
    },
    name: 'carphone',
    connection: { version: ipFamily(local.address) ?? 4, ip: local.address },
    timing: { start: 0, stop: 0 },
    media: [
      {
        type: 'audio',
        port: local.port,
        protocol: crypto?.savp ? 'RTP/SAVP' : 'RTP/AVP',
        ...(crypto && local.srtp
          ? { crypto: [{ id: crypto.tag, suite: SRTP_SUITE, config: local.srtp.inline }] }
          : {}),
        payloads: payloads.join(' '),
        rtp: [
          ...codecs.map((c) =>
            c.name === 'OPUS'
              ? { payload: c.payloadType, codec: 'opus', rate: 48000, encoding: 2 }
              : { payload: c.payloadType, codec: c.name, rate: c.clockRate },
          ),
          ...telephoneEvents.map((t) => ({ payload: t.pt, codec: 'telephone-event', rate: t.rate })),
        ],
        fmtp: [
          ...codecs
            .filter((c) => c.name === 'OPUS')
            .map((c) => ({ payload: c.payloadType, config: OPUS_FMTP })),
          ...telephoneEvents.map((t) => ({ payload: t.pt, config: '0-16' })),
        ],
        ptime,
        direction,
      },
    ],
  };
  return sdpTransform.write(description);
}

export function createOffer(local: LocalMedia, direction: Direction = 'sendrecv'): string {
  const allowed = local.codecs ?? DEFAULT_CODECS;
  const codecs = allowed.flatMap((name) => SUPPORTED.filter((c) => c.name === name));
  const rates = [...new Set(codecs.map((c) => c.clockRate))];
  const events = rates.map((rate) => ({ pt: TELEPHONE_EVENT_PTS[rate] ?? 101, rate }));
  const crypto = local.srtp ? { tag: 1, savp: local.srtp.mode === 'mandatory' } : undefined;
  return render(local, codecs, events, direction, 20, crypto);
}

interface ParsedAudio {
  savp: boolean;
  /** The a=crypto lines with the suite carphone speaks. */
  crypto: { tag: number; inline: string }[];
  address: string;
  port: number;
  rtcpPort: number;
  codecs: { pt: number; name: string; rate: number }[];
  /** The peer's a=fmtp parameters by payload type. */
  fmtp: Map<number, sdpTransform.ParamMap>;
  direction: Direction;
  ptime: number;
}

/** The audio stream of an SDP body, whose address must be of `localAddress`'s family (any, where none is given). */
function parseAudio(text: string, localAddress?: string): ParsedAudio {
  if (!/^v=0/m.test(text)) {
    throw new SdpError('not an SDP body (no v=0 line)');
  }
  let parsed: sdpTransform.SessionDescription;
  try {
    parsed = sdpTransform.parse(text);
  } catch (e) {
    throw new SdpError(`unparsable SDP: ${e instanceof Error ? e.message : String(e)}`);
  }
  const audio = parsed.media.find((m) => m.type === 'audio' && m.port > 0);
  if (!audio) {
    throw new SdpError('no active audio stream in SDP');
  }
  if (!/^RTP\/S?AVP$/i.test(audio.protocol)) {
    throw new SdpError(`unsupported media protocol ${audio.protocol}`);
  }
  const savp = /^RTP\/SAVP$/i.test(audio.protocol);
  const crypto = (audio.crypto ?? [])
    .filter((c) => c.suite === SRTP_SUITE && /^inline:[A-Za-z0-9+/=]{40}/.test(c.config))
    .map((c) => ({ tag: c.id, inline: c.config }));
  const address = audio.connection?.ip ?? parsed.connection?.ip;
  const family = address === undefined ? undefined : ipFamily(address);
  if (!address || family === undefined) {
    throw new SdpError('SDP has no IPv4 or IPv6 connection address');
  }
  if (!Number.isInteger(audio.port) || audio.port < 1 || audio.port > 65535) {
    throw new SdpError('SDP audio port out of range');
  }
  const pts = String(audio.payloads ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
  const codecs = pts.map((pt) => {
    const map = audio.rtp.find((r) => r.payload === pt);
    if (map) {
      return { pt, name: map.codec.toUpperCase(), rate: map.rate ?? 8000 };
    }
    // Static payload types need no rtpmap (RFC 3551); only G.711's are of use here.
    const stat = SUPPORTED.find((c) => c.payloadType === pt && c.clockRate === 8000);
    return { pt, name: stat?.name ?? `PT${pt}`, rate: 8000 };
  });
  const fmtp = new Map((audio.fmtp ?? []).map((f) => [f.payload, sdpTransform.parseParams(f.config)]));
  const sessionDirection = (parsed as { direction?: Direction }).direction;
  const direction: Direction = audio.direction ?? sessionDirection ?? 'sendrecv';
  // A connection address of 0.0.0.0 is the RFC 2543 way of saying hold.
  const held = address === '0.0.0.0' || address === '::';
  const ownFamily = localAddress === undefined ? undefined : ipFamily(localAddress);
  if (!held && ownFamily !== undefined && family !== ownFamily) {
    // RTP cannot cross from one family to the other; no ICE here to find another pair.
    throw new SdpError(
      `the peer's media address ${address} is IPv${family} and this line's is IPv${ownFamily}`,
    );
  }
  const rtcpPort = audio.rtcp?.port;
  return {
    savp,
    crypto,
    address,
    port: audio.port,
    rtcpPort:
      typeof rtcpPort === 'number' && Number.isInteger(rtcpPort) && rtcpPort >= 1 && rtcpPort <= 65535
        ? rtcpPort
        : Math.min(65535, audio.port + 1),
    codecs,
    fmtp,
    direction: held
      ? direction === 'sendrecv'
        ? 'sendonly'
        : direction === 'recvonly'
          ? 'inactive'
          : direction
      : direction,
    ptime: typeof audio.ptime === 'number' && audio.ptime >= 10 && audio.ptime <= 120 ? audio.ptime : 20,
  };
}

/** The peer's telephone-event at the audio codec's clock rate, else at 8 kHz (RFC 4733 §2.1). */
function pickTelephoneEvent(
  codecs: ParsedAudio['codecs'],
  rate: number,
): { pt: number; rate: number } | undefined {
  const events = codecs.filter((c) => c.name === 'TELEPHONE-EVENT');
  const te = events.find((c) => c.rate === rate) ?? events.find((c) => c.rate === 8000);
  return te ? { pt: te.pt, rate: te.rate } : undefined;
}

/** Whether the peer's decoder takes Opus in-band FEC on the payload type it uses for Opus. */
function opusInbandFec(remote: ParsedAudio, codec: AudioCodec): { opusInbandFec?: true } {
  const wanted = codec.name === 'OPUS' && String(remote.fmtp.get(codec.payloadType)?.useinbandfec) === '1';
  return wanted ? { opusInbandFec: true } : {};
}

/** Opus when the peer offers it and we allow it, else the first G.711 in the peer's order. */
function pickCodec(remote: ParsedAudio, allowed: readonly CodecName[]): AudioCodec | undefined {
  const ours = commonCodecs(remote, allowed);
  return ours.find((c) => c.name === 'OPUS') ?? ours[0];
}

/**
 * Answers a remote offer: Opus when the peer offers it and the account allows it, else the first of the
 * peer's codecs that carphone supports, in the peer's order. Throws SdpError (→ 488 Not Acceptable Here)
 * when nothing matches.
 */
export function answerOffer(
  offer: string,
  local: LocalMedia,
  wanted: Direction,
): { answer: string; negotiated: NegotiatedAudio } {
  const remote = parseAudio(offer, local.address);
  const allowed = local.codecs ?? DEFAULT_CODECS;
  const codec = pickCodec(remote, allowed);
  if (!codec) {
    throw new SdpError(`no common audio codec (carphone takes ${allowed.join(', ')})`);
  }
  const te = pickTelephoneEvent(remote.codecs, codec.clockRate);
  const direction = answerDirection(remote.direction, wanted);
  const key = remote.crypto[0];
  if (remote.savp && (!local.srtp || !key)) {
    throw new SdpError(
      `SRTP offered but ${local.srtp ? `no ${SRTP_SUITE} key in it` : 'not enabled on this account'}`,
    );
  }
  if (local.srtp?.mode === 'mandatory' && !key) {
    throw new SdpError('this account requires SRTP and the offer has no usable key');
  }
  const crypto = local.srtp && key ? { tag: key.tag, savp: remote.savp } : undefined;
  const ptime = sendPtime(codec, remote.ptime);
  return {
    answer: render(local, [codec], te ? [te] : [], direction, ptime, crypto),
    negotiated: {
      ...(crypto && key ? { srtpRemoteInline: key.inline } : {}),
      remoteAddress: remote.address,
      remotePort: remote.port,
      remoteRtcpPort: remote.rtcpPort,
      codec,
      ...(te !== undefined ? { telephoneEventPt: te.pt, telephoneEventRate: te.rate } : {}),
      remoteDirection: remote.direction,
      ptime,
      ...opusInbandFec(remote, codec),
    },
  };
}

/** Frame lengths libopus encodes (RFC 6716 §2.1.4; 80-120 ms as several frames in one packet). */
const OPUS_PTIMES = [10, 20, 40, 60, 80, 100, 120];

/**
 * The packet length we send: the peer's ptime (a preference, RFC 4566 §6), except that Opus cannot
 * encode every length (30 ms, say): then the longest one it can that is not longer.
 */
function sendPtime(codec: AudioCodec, ptime: number): number {
  if (codec.name !== 'OPUS') {
    return ptime;
  }
  return OPUS_PTIMES.filter((p) => p <= ptime).pop() ?? 20;
}

/** Reads the peer's answer to our offer, made from `localAddress`. */
export function readAnswer(
  answer: string,
  localAddress: string,
  srtp?: 'optional' | 'mandatory',
): NegotiatedAudio {
  const remote = parseAudio(answer, localAddress);
  const key = srtp ? remote.crypto[0] : undefined;
  if (srtp === 'mandatory' && !key) {
    throw new SdpError('the answer accepted no SRTP key and this account requires SRTP');
  }
  // The answer's first format is the one the peer will send (RFC 3264 §6.1).
  const codec = commonCodecs(remote, DEFAULT_CODECS)[0];
  if (!codec) {
    throw new SdpError('answer selected no codec that was offered');
  }
  const te = pickTelephoneEvent(remote.codecs, codec.clockRate);
  return {
    remoteAddress: remote.address,
    remotePort: remote.port,
    remoteRtcpPort: remote.rtcpPort,
    codec,
    ...(key ? { srtpRemoteInline: key.inline } : {}),
    ...(te !== undefined ? { telephoneEventPt: te.pt, telephoneEventRate: te.rate } : {}),
    remoteDirection: remote.direction,
    ptime: sendPtime(codec, remote.ptime),
    ...opusInbandFec(remote, codec),
  };
}

/** The direction the peer asks for in a (re-)offer, without negotiating codecs. */
export function offeredDirection(offer: string): Direction {
  return parseAudio(offer).direction;
}
