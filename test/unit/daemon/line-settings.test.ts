import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
