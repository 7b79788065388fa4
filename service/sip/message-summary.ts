/**
 * The body of a message-summary NOTIFY (RFC 3842 §5.2, application/simple-message-summary):
 *
 *   Messages-Waiting: yes
 *   Message-Account: sip:alice@vmail.example.com
 *   Voice-Message: 4/8 (1/2)
 *
 * Only the voice class is kept: a head unit plays voicemail, not fax or e-mail.
 */
export interface MessageSummary {
  waiting: boolean;
  account?: string;
  /** New and old voice messages (and of them the urgent ones), where the server counts them. */
  voice?: { new: number; old: number; newUrgent?: number; oldUrgent?: number };
}

export class MessageSummaryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MessageSummaryError';
  }
}

export const MESSAGE_SUMMARY_TYPE = 'application/simple-message-summary';

const COUNTS = /^(\d{1,9})\s*\/\s*(\d{1,9})(?:\s*\(\s*(\d{1,9})\s*\/\s*(\d{1,9})\s*\))?$/;

/** Parses a message-summary body; throws MessageSummaryError naming what is wrong. */
export function parseMessageSummary(body: string): MessageSummary {
  // The summary ends at the first empty line; message headers (RFC 3842 opt-msg-headers) may follow.
  const lines = body.split(/\r?\n/);
  const end = lines.findIndex((l) => l.trim() === '');
  const fields = new Map<string, string>();
  for (const line of end < 0 ? lines : lines.slice(0, end)) {
    const colon = line.indexOf(':');
    if (colon <= 0) {
      throw new MessageSummaryError(`not a "name: value" line: ${JSON.stringify(line.slice(0, 60))}`);
    }
    fields.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const status = fields.get('messages-waiting')?.toLowerCase();
  if (status !== 'yes' && status !== 'no') {
    throw new MessageSummaryError('Messages-Waiting must be yes or no');
  }
  const summary: MessageSummary = { waiting: status === 'yes' };
  const account = fields.get('message-account');
  if (account !== undefined && account !== '') {
    summary.account = account;
  }
  const voice = fields.get('voice-message');
  if (voice !== undefined) {
    const m = COUNTS.exec(voice);
    if (!m) {
      throw new MessageSummaryError(`Voice-Message must be new/old [(urgent new/urgent old)]: ${voice}`);
    }
    summary.voice = {
      new: Number(m[1]),
      old: Number(m[2]),
      ...(m[3] !== undefined ? { newUrgent: Number(m[3]), oldUrgent: Number(m[4]) } : {}),
    };
  }
  return summary;
}

/**
 * oFono's VoicemailMessageCount for a summary: the new voice messages, 255 meaning 255 or more; 0 with
 * VoicemailWaiting true means the count is not known.
 */
export function voicemailCount(summary: MessageSummary): number {
  return Math.min(255, summary.voice?.new ?? 0);
}
