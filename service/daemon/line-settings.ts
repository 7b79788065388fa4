import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { writeFileAtomically } from '../core/atomic-file.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../log/logger.js';
import { isPhoneNumber } from '../sip/dial-string.js';

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

/**
 * What the driver or a settings screen chose for a line, kept across restarts (oFono keeps them on the
 * SIM or in its storage): the voicemail number, and oFono's CallSettings HideCallerId and
 * VoiceCallWaiting. Unset means the configuration's value, or oFono's default.
 */
const lineSettings = z.object({
  voicemailNumber: z
    .string()
    .refine((n) => n === '' || isPhoneNumber(n))
    .optional(),
  hideCallerId: z.enum(HIDE_CALLER_ID).optional(),
  voiceCallWaiting: z.enum(VOICE_CALL_WAITING).optional(),
});

export type LineSettings = z.infer<typeof lineSettings>;

const settingsFile = z.object({ lines: z.record(z.string(), lineSettings) });

/** One JSON file for every line's settings, written atomically at each change. */
export class SettingsStore {
  private lines: Record<string, LineSettings> = {};

  constructor(
    private readonly path: string | undefined,
    private readonly logger: Logger,
  ) {
    if (!path || !existsSync(path)) {
      return;
    }
    try {
      this.lines = settingsFile.parse(JSON.parse(readFileSync(path, 'utf8'))).lines;
    } catch (e) {
      // A torn or hand-edited file must not keep the phone from starting: defaults, and say so.
      this.logger.error({ err: errorMessage(e), path }, 'settings file unreadable; using defaults');
    }
  }

  get(line: string): LineSettings {
    return { ...this.lines[line] };
  }

  set(line: string, change: LineSettings): void {
    this.lines = { ...this.lines, [line]: { ...this.lines[line], ...change } };
    if (!this.path) {
      return;
    }
    try {
      writeFileAtomically(this.path, `${JSON.stringify({ lines: this.lines }, null, 2)}\n`);
    } catch (e) {
      this.logger.error({ err: errorMessage(e), path: this.path }, 'settings not saved');
    }
  }
}
