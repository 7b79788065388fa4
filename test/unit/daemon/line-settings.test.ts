import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { SettingsStore } from '../../../service/daemon/line-settings.js';
import { silentLogger } from '../../../service/log/logger.js';

const logger = silentLogger;

describe("the lines' settings file", () => {
  it('keeps what was set for each line across a restart, merged change by change', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'carphone-settings-')), 'settings.json');
    const before = new SettingsStore(path, logger);
    before.set('sip0', { voicemailNumber: '*86' });
    before.set('sip0', { hideCallerId: 'enabled' });
    before.set('work', { voiceCallWaiting: 'disabled' });
    const after = new SettingsStore(path, logger);
    expect(after.get('sip0')).toEqual({ voicemailNumber: '*86', hideCallerId: 'enabled' });
    expect(after.get('work')).toEqual({ voiceCallWaiting: 'disabled' });
    expect(after.get('other')).toEqual({});
  });

  it('writes changes made soon once, after the last of a run, and what is left on close', () => {
    vi.useFakeTimers();
    try {
      const path = join(mkdtempSync(join(tmpdir(), 'carphone-settings-')), 'settings.json');
      const store = new SettingsStore(path, logger, 2000);
      const saved = (): unknown => (existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined);
      for (let v = 80; v >= 40; v -= 10) {
        store.set('sip0', { speakerVolume: v }, 'soon');
        vi.advanceTimersByTime(100);
      }
      expect(saved()).toBeUndefined();
      vi.advanceTimersByTime(2000);
      expect(saved()).toEqual({ lines: { sip0: { speakerVolume: 40 } } });
      store.set('sip0', { microphoneVolume: 70 }, 'soon');
      // A setting chosen on a screen is written at once, with whatever waited.
      store.set('work', { hideCallerId: 'enabled' });
      expect(saved()).toEqual({
        lines: { sip0: { speakerVolume: 40, microphoneVolume: 70 }, work: { hideCallerId: 'enabled' } },
      });
      store.set('sip0', { speakerVolume: 55 }, 'soon');
      store.close();
      expect(new SettingsStore(path, logger).get('sip0')).toEqual({
        speakerVolume: 55,
        microphoneVolume: 70,
      });
    } finally {
      vi.useRealTimers();
    }
  });

  it.each([
    ['torn', '{"lines": {"sip0": {"hideCaller'],
    ['not settings', '{"lines": {"sip0": {"hideCallerId": "sometimes"}}}'],
    ['empty', ''],
  ])('starts from the defaults when the file is %s, and writes a good one at the next change', (_, text) => {
    const path = join(mkdtempSync(join(tmpdir(), 'carphone-settings-')), 'settings.json');
    writeFileSync(path, text);
    const store = new SettingsStore(path, logger);
    expect(store.get('sip0')).toEqual({});
    store.set('sip0', { voiceCallWaiting: 'disabled' });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({
      lines: { sip0: { voiceCallWaiting: 'disabled' } },
    });
  });
});
