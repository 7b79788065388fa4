import { z } from 'zod';
import { readStateFile, writeStateFile } from '../core/json-state-file.js';
import type { Logger } from '../log/logger.js';
import { isPhoneNumber } from '../sip/dial-string.js';
import { checkForwardingNumber } from './line-forwarding.js';

/** oFono's values for CallSettings HideCallerId (also Dial's hide_callerid, "" aside) and VoiceCallWaiting. */
export const HIDE_CALLER_ID = ['default', 'enabled', 'disabled'] as const;
export const VOICE_CALL_WAITING = ['enabled', 'disabled'] as const;
export type HideCallerId = (typeof HIDE_CALLER_ID)[number];

/** Whether `s` is one of `values`, typed as such. */
export function isOneOf<T extends string>(values: readonly T[], s: string): s is T {
  return (values as readonly string[]).includes(s);
}

/** oFono's CallSettings that carphone acts on (docs/api/callsettings-api.txt). */
export interface CallSettings {
  /** What Dial does when its hide_callerid is "" or "default". */
  hideCallerId: HideCallerId;
  /** "disabled": a call arriving during another is refused as busy (486) instead of waiting. */
  voiceCallWaiting: (typeof VOICE_CALL_WAITING)[number];
}

const percent = z.number().int().min(0).max(100);
const forwardingNumber = z.string().refine((n) => {
  try {
    checkForwardingNumber(n);
    return true;
  } catch {
    return false;
  }
});

/**
 * What the driver or a settings screen chose for a line, kept across restarts (oFono keeps them on the
 * SIM or in its storage): the voicemail number, oFono's CallSettings HideCallerId and VoiceCallWaiting,
 * its CallForwarding, and CallVolume's two volumes (not Muted: a microphone left muted from the last
 * drive would leave the driver unheard in the next call, an eCall among them). Unset means the
 * configuration's value, or oFono's default.
 */
const lineSettings = z.object({
  voicemailNumber: z
    .string()
    .refine((n) => n === '' || isPhoneNumber(n))
    .optional(),
  hideCallerId: z.enum(HIDE_CALLER_ID).optional(),
  voiceCallWaiting: z.enum(VOICE_CALL_WAITING).optional(),
  /** oFono's MessageManager UseDeliveryReports (docs/api/messagemanager-api.txt says what it does). */
  useDeliveryReports: z.boolean().optional(),
  speakerVolume: percent.optional(),
  microphoneVolume: percent.optional(),
  /** oFono's CallForwarding (line-forwarding.ts): numbers as Dial takes them, "" off. */
  forwarding: z
    .object({
      unconditional: forwardingNumber,
      busy: forwardingNumber,
      noReply: forwardingNumber,
      noReplyTimeoutSeconds: z.number().int().min(1).max(30),
    })
    .optional(),
});

export type LineSettings = z.infer<typeof lineSettings>;

const settingsFile = z.object({ lines: z.record(z.string(), lineSettings) });

/**
 * How long a change made `soon` waits for the next: a volume held on the steering wheel changes ten
 * times a second, and a head unit's flash should see one write for it, not one per step.
 */
export const SOON_MS = 2000;

/**
 * One JSON file for every line's settings, written atomically: at once for a setting the driver chose
 * on a screen, within SOON_MS for one that changes in runs (the volumes), and on close.
 */
export class SettingsStore {
  private lines: Record<string, LineSettings>;
  private pending: NodeJS.Timeout | undefined;

  constructor(
    private readonly path: string | undefined,
    private readonly logger: Logger,
    private readonly soonMs = SOON_MS,
  ) {
    // A torn or hand-edited file must not keep the phone from starting: defaults, and say so.
    this.lines = readStateFile(path, settingsFile, logger, 'settings file')?.lines ?? {};
  }

  get(line: string): LineSettings {
    return { ...this.lines[line] };
  }

  set(line: string, change: LineSettings, when: 'now' | 'soon' = 'now'): void {
    this.lines = { ...this.lines, [line]: { ...this.lines[line], ...change } };
    if (when === 'now') {
      this.write();
    } else {
      this.pending ??= setTimeout(() => this.write(), this.soonMs).unref();
    }
  }

  /** Writes what is not written yet (carphoned stopping). */
  close(): void {
    if (this.pending) {
      this.write();
    }
  }

  private write(): void {
    clearTimeout(this.pending);
    this.pending = undefined;
    writeStateFile(this.path, { lines: this.lines }, this.logger, 'settings');
  }
}
