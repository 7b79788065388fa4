/**
 * The texts an HMI may send with one touch, per HMI language (ISO 639-1): a reply to a text, or to a
 * call declined. Nothing is typed, so they are offered while driving too (NHTSA's per-se lock-out is on
 * manual text entry). The carmaker sets them in carphoned's config (messages.quickReplies); a language
 * without a list offers none, and an empty map turns texting from the HMI off.
 */
export type QuickReplies = Record<string, string[]>;

export const DEFAULT_QUICK_REPLIES: QuickReplies = {
  en: ["I'm driving. I'll call you back.", 'On my way.', 'Running late.'],
  de: ['Ich fahre gerade. Ich rufe zurück.', 'Bin unterwegs.', 'Ich verspäte mich.'],
};
