import * as sdpTransform from 'sdp-transform';

/**
 * SDP offer/answer (RFC 3264) for one audio stream, on top of sdp-transform's parser. carphone offers
 * PCMU, PCMA and telephone-event; the media engine issue adds Opus here.
 */
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export type CodecName = 'PCMU' | 'PCMA';

export interface AudioCodec {
  name: CodecName;
  payloadType: number;
  clockRate: 8000;
}

export interface LocalMedia {
  address: string;
  port: number;
  sessionId: number;
  version: number;
}

export interface NegotiatedAudio {
  remoteAddress: string;
  remotePort: number;
  /** Where the peer takes RTCP: its a=rtcp attribute (RFC 3605), else the RTP port + 1. */
  remoteRtcpPort: number;
  codec: AudioCodec;
  /** Payload type the peer uses for RFC 4733 telephone-event, if it offered/accepted it. */
  telephoneEventPt?: number;
  /** The direction attribute as the peer wrote it (its own point of view). */
  remoteDirection: Direction;
  ptime: number;
}

export class SdpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SdpError';
  }
}

const SUPPORTED: readonly AudioCodec[] = [
  { name: 'PCMU', payloadType: 0, clockRate: 8000 },
  { name: 'PCMA', payloadType: 8, clockRate: 8000 },
];
const TELEPHONE_EVENT_PT = 101;

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
  telephoneEventPt: number | undefined,
  direction: Direction,
  ptime: number,
): string {
  const payloads = [
    ...codecs.map((c) => c.payloadType),
    ...(telephoneEventPt !== undefined ? [telephoneEventPt] : []),
  ];
  const description: sdpTransform.SessionDescription = {
    version: 0,
    origin: {
      username: 'carphone',
      sessionId: local.sessionId,
      sessionVersion: local.version,
      netType: 'IN',
      ipVer: 4,
      address: local.address,
    },
    name: 'carphone',
    connection: { version: 4, ip: local.address },
    timing: { start: 0, stop: 0 },
    media: [
      {
        type: 'audio',
        port: local.port,
        protocol: 'RTP/AVP',
        payloads: payloads.join(' '),
        rtp: [
          ...codecs.map((c) => ({ payload: c.payloadType, codec: c.name, rate: c.clockRate })),
          ...(telephoneEventPt !== undefined
            ? [{ payload: telephoneEventPt, codec: 'telephone-event', rate: 8000 }]
            : []),
        ],
        fmtp: telephoneEventPt !== undefined ? [{ payload: telephoneEventPt, config: '0-16' }] : [],
        ptime,
        direction,
      },
    ],
  };
  return sdpTransform.write(description);
}

export function createOffer(local: LocalMedia, direction: Direction = 'sendrecv'): string {
  return render(local, SUPPORTED, TELEPHONE_EVENT_PT, direction, 20);
}

interface ParsedAudio {
  address: string;
  port: number;
  rtcpPort: number;
  codecs: { pt: number; name: string; rate: number }[];
  direction: Direction;
  ptime: number;
}

function parseAudio(text: string): ParsedAudio {
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
  if (!/^RTP\/AVP$/i.test(audio.protocol)) {
    throw new SdpError(`unsupported media protocol ${audio.protocol}`);
  }
  const address = audio.connection?.ip ?? parsed.connection?.ip;
  if (!address || !/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) {
    throw new SdpError('SDP has no IPv4 connection address');
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
    const stat = SUPPORTED.find((c) => c.payloadType === pt);
    return { pt, name: stat?.name ?? `PT${pt}`, rate: 8000 };
  });
  const sessionDirection = (parsed as { direction?: Direction }).direction;
  const direction: Direction = audio.direction ?? sessionDirection ?? 'sendrecv';
  // A connection address of 0.0.0.0 is the RFC 2543 way of saying hold.
  const held = address === '0.0.0.0';
  const rtcpPort = audio.rtcp?.port;
  return {
    address,
    port: audio.port,
    rtcpPort:
      typeof rtcpPort === 'number' && Number.isInteger(rtcpPort) && rtcpPort >= 1 && rtcpPort <= 65535
        ? rtcpPort
        : Math.min(65535, audio.port + 1),
    codecs,
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

function pickTelephoneEvent(codecs: ParsedAudio['codecs']): number | undefined {
  return codecs.find((c) => c.name === 'TELEPHONE-EVENT' && c.rate === 8000)?.pt;
}

/**
 * Answers a remote offer: the first of the peer's codecs that carphone supports, in the peer's order.
 * Throws SdpError (→ 488 Not Acceptable Here) when nothing matches.
 */
export function answerOffer(
  offer: string,
  local: LocalMedia,
  wanted: Direction,
): { answer: string; negotiated: NegotiatedAudio } {
  const remote = parseAudio(offer);
  const pick = remote.codecs.find((c) => SUPPORTED.some((s) => s.name === c.name) && c.rate === 8000);
  if (!pick) {
    throw new SdpError('no common audio codec (carphone supports PCMU, PCMA)');
  }
  const codec: AudioCodec = { name: pick.name as CodecName, payloadType: pick.pt, clockRate: 8000 };
  const te = pickTelephoneEvent(remote.codecs);
  const direction = answerDirection(remote.direction, wanted);
  return {
    answer: render(local, [codec], te, direction, remote.ptime),
    negotiated: {
      remoteAddress: remote.address,
      remotePort: remote.port,
      remoteRtcpPort: remote.rtcpPort,
      codec,
      ...(te !== undefined ? { telephoneEventPt: te } : {}),
      remoteDirection: remote.direction,
      ptime: remote.ptime,
    },
  };
}

/** Reads the peer's answer to our offer. */
export function readAnswer(answer: string): NegotiatedAudio {
  const remote = parseAudio(answer);
  const pick = remote.codecs.find((c) => SUPPORTED.some((s) => s.name === c.name));
  if (!pick) {
    throw new SdpError('answer selected no codec that was offered');
  }
  const te = pickTelephoneEvent(remote.codecs);
  return {
    remoteAddress: remote.address,
    remotePort: remote.port,
    remoteRtcpPort: remote.rtcpPort,
    codec: { name: pick.name as CodecName, payloadType: pick.pt, clockRate: 8000 },
    ...(te !== undefined ? { telephoneEventPt: te } : {}),
    remoteDirection: remote.direction,
    ptime: remote.ptime,
  };
}

/** The direction the peer asks for in a (re-)offer, without negotiating codecs. */
export function offeredDirection(offer: string): Direction {
  return parseAudio(offer).direction;
}
