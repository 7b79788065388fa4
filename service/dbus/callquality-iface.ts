import type { Logger } from '../log/logger.js';
import type { CallQuality } from '../media/rtcp/rtcp-state.js';
import { defineMembers, OfonoInterface } from './ofono-interface.js';

/** The D-Bus properties of a call's quality (docs/api/callquality-api.txt), rounded for display. */
export function qualityProperties(q: CallQuality | undefined): Record<string, number | string> {
  if (!q) {
    return { Quality: 'unknown' };
  }
  const round1 = (x: number): number => Math.round(x * 10) / 10;
  return {
    Quality: q.level,
    Jitter: round1(q.jitterMs),
    PacketLoss: round1(q.lossPct),
    ...(q.roundTripMs !== undefined ? { RoundTripTime: Math.round(q.roundTripMs) } : {}),
    ...(q.remoteLossPct !== undefined ? { RemotePacketLoss: round1(q.remoteLossPct) } : {}),
    ...(q.remoteJitterMs !== undefined ? { RemoteJitter: round1(q.remoteJitterMs) } : {}),
    ...(q.rFactor !== undefined ? { RFactor: round1(q.rFactor) } : {}),
    ...(q.mos !== undefined ? { MOS: Math.round(q.mos * 100) / 100 } : {}),
    ...(q.jitterBufferMs !== undefined
      ? { JitterBufferDelay: Math.max(0, Math.round(q.jitterBufferMs)) }
      : {}),
    ...(q.jitterBuffer
      ? {
          JitterBufferTarget: Math.max(0, Math.round(q.jitterBuffer.targetMs)),
          LateFrames: q.jitterBuffer.late,
          ConcealedFrames: q.jitterBuffer.concealed,
          AcceleratedFrames: q.jitterBuffer.accelerated,
          ExpandedFrames: q.jitterBuffer.expanded,
        }
      : {}),
  };
}

/** org.carphone.CallQuality on each call's object, beside org.ofono.VoiceCall. */
export class CallQualityInterface extends OfonoInterface {
  private current: Record<string, number | string> = qualityProperties(undefined);

  constructor(logger: Logger) {
    super('org.carphone.CallQuality', logger);
  }

  protected properties(): object {
    return this.current;
  }

  /** Takes a new measurement and signals the properties that changed. */
  update(q: CallQuality): void {
    const next = qualityProperties(q);
    const before = this.current;
    this.current = next;
    for (const [k, v] of Object.entries(next)) {
      if (before[k] !== v) {
        this.emitChanged(k, v);
      }
    }
  }
}

defineMembers(CallQualityInterface, 'org.carphone.CallQuality', {});
