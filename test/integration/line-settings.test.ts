import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OfonoClient } from '../../service/client/ofono-client.js';
import { Carphoned } from '../harness/carphoned.js';
import { ctl } from '../harness/carphonectl.js';
import { PrivateBus } from '../harness/dbus-daemon.js';

const CS = 'org.ofono.CallSettings';
const MW = 'org.ofono.MessageWaiting';

let bus: PrivateBus;
let daemon: Carphoned | undefined;
let client: OfonoClient | undefined;

beforeAll(async () => {
  bus = await PrivateBus.start();
});

afterEach(async () => {
  client?.disconnect();
  await daemon?.stop();
  client = daemon = undefined;
});

afterAll(async () => {
  await bus?.stop();
});

/** carphoned keeping its state in `stateHome`/carphone, as XDG_STATE_HOME says. */
async function start(stateHome: string): Promise<OfonoClient> {
  daemon = await Carphoned.start(
    {
      dbus: { bus: bus.address },
      echoTest: { enabled: false },
      accounts: [{ id: 'sip0', user: '1000', domain: '127.0.0.1', voicemail: { number: '*86' } }],
    },
    [],
    { XDG_STATE_HOME: stateHome },
  );
  client = await daemon.client();
  return client;
}

async function restart(stateHome: string): Promise<OfonoClient> {
  client?.disconnect();
  await daemon?.stop();
  return start(stateHome);
}

describe("a line's settings (oFono CallSettings, the voicemail number)", () => {
  it('start as oFono and the configuration say, and are kept across a restart once changed', async () => {
    const home = mkdtempSync(join(tmpdir(), 'carphone-state-'));
    let c = await start(home);
    expect(await c.properties('/sip0', CS)).toEqual({
      CallingLinePresentation: 'enabled',
      CallingNamePresentation: 'enabled',
      CalledLinePresentation: 'unknown',
      ConnectedLinePresentation: 'unknown',
      ConnectedLineRestriction: 'unknown',
      CallingLineRestriction: 'off',
      HideCallerId: 'default',
      VoiceCallWaiting: 'enabled',
    });
    expect((await c.properties('/sip0', MW)).VoicemailMailboxNumber).toBe('*86');
    await c.setProperty('/sip0', CS, 'HideCallerId', 's', 'enabled');
    await c.setProperty('/sip0', CS, 'VoiceCallWaiting', 's', 'disabled');
    await c.setProperty('/sip0', MW, 'VoicemailMailboxNumber', 's', '+4917655512');
    const changed = c.signals
      .filter((s) => s.member === 'PropertyChanged')
      .map((s) => `${String(s.args[0])}=${String(s.args[1])}`);
    expect(changed).toEqual([
      'HideCallerId=enabled',
      'VoiceCallWaiting=disabled',
      'VoicemailMailboxNumber=+4917655512',
    ]);
    const CV = 'org.ofono.CallVolume';
    expect(await c.properties('/sip0', CV)).toEqual({
      Muted: false,
      SpeakerVolume: 80,
      MicrophoneVolume: 100,
    });
    // A volume key held down: one step after another, the last one kept.
    for (let v = 79; v >= 35; v--) {
      await c.setProperty('/sip0', CV, 'SpeakerVolume', 'y', v);
    }
    await c.setProperty('/sip0', CV, 'MicrophoneVolume', 'y', 60);
    await c.setProperty('/sip0', CV, 'Muted', 'b', true);
    const CF = 'org.ofono.CallForwarding';
    await c.setProperty('/sip0', CF, 'VoiceNoReply', 's', '+4917655512');
    await c.setProperty('/sip0', CF, 'VoiceNoReplyTimeout', 'q', 15);
    c = await restart(home);
    expect(await c.properties('/sip0', CF)).toMatchObject({
      VoiceUnconditional: '',
      VoiceNoReply: '+4917655512',
      VoiceNoReplyTimeout: 15,
    });
    const settings = await c.properties('/sip0', CS);
    expect([settings.HideCallerId, settings.VoiceCallWaiting]).toEqual(['enabled', 'disabled']);
    expect((await c.properties('/sip0', MW)).VoicemailMailboxNumber).toBe('+4917655512');
    // The volumes as they were left; the microphone never starts muted.
    expect(await c.properties('/sip0', CV)).toEqual({
      Muted: false,
      SpeakerVolume: 35,
      MicrophoneVolume: 60,
    });
  });

  it('are shown and changed by carphonectl, which names what it refuses and calls the voicemail number', async () => {
    const c = await start(mkdtempSync(join(tmpdir(), 'carphone-state-')));
    expect((await ctl(bus.address, 'settings')).stdout).toBe(
      'hide-caller-id default\ncall-waiting enabled\nvoicemail-number *86\nforward-always \n' +
        'forward-busy \nforward-no-reply \nforward-no-reply-seconds 20\n',
    );
    expect((await ctl(bus.address, 'set', 'call-waiting', 'disabled')).code).toBe(0);
    expect((await c.properties('/sip0', CS)).VoiceCallWaiting).toBe('disabled');
    expect((await ctl(bus.address, 'set', 'forward-busy', '+4917655512')).code).toBe(0);
    expect((await ctl(bus.address, 'set', 'forward-no-reply-seconds', '10')).code).toBe(0);
    expect(await c.properties('/sip0', 'org.ofono.CallForwarding')).toMatchObject({
      VoiceBusy: '+4917655512',
      VoiceNoReplyTimeout: 10,
    });
    const emergency = await ctl(bus.address, 'set', 'forward-always', '112');
    expect([emergency.code, emergency.stderr]).toEqual([
      1,
      expect.stringContaining('org.ofono.Error.InvalidFormat'),
    ]);
    const words = await ctl(bus.address, 'set', 'forward-no-reply-seconds', 'ten');
    expect([words.code, words.stderr]).toEqual([2, expect.stringContaining('whole number of seconds')]);
    const bad = await ctl(bus.address, 'set', 'hide-caller-id', 'sometimes');
    expect([bad.code, bad.stderr]).toEqual([1, expect.stringContaining('org.ofono.Error.InvalidArguments')]);
    const unknown = await ctl(bus.address, 'set', 'ringtone', 'loud');
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining('no setting ringtone')]);
    // The voicemail number is called like any number (here nobody answers at 127.0.0.1: the call is placed).
    const call = await ctl(bus.address, 'voicemail');
    expect(call.stdout).toMatch(/^\/sip0\/voicecall\d\d\n$/);
    expect((await c.calls('/sip0'))[0]?.[1].LineIdentification).toBe('*86');
    await c.manager('/sip0', 'HangupAll');
    expect((await ctl(bus.address, 'set', 'voicemail-number', '')).code).toBe(0);
    const none = await ctl(bus.address, 'voicemail');
    expect([none.code, none.stderr]).toEqual([4, expect.stringContaining('no voicemail number')]);
  });

  it('starts from the defaults when the settings file is unreadable, saying so, and refuses values oFono does not know', async () => {
    const home = mkdtempSync(join(tmpdir(), 'carphone-state-'));
    const c0 = await start(home);
    await c0.setProperty('/sip0', CS, 'VoiceCallWaiting', 's', 'disabled');
    writeFileSync(join(home, 'carphone', 'settings.json'), '{"lines": {"sip0": {"voiceCallWai');
    const c = await restart(home);
    expect((await c.properties('/sip0', CS)).VoiceCallWaiting).toBe('enabled');
    expect(daemon?.log(100)).toMatch(/settings file unreadable; not used/);
    for (const [name, signature, value] of [
      ['HideCallerId', 's', 'sometimes'],
      ['VoiceCallWaiting', 'b', true],
      ['CallingLinePresentation', 's', 'disabled'],
    ] as const) {
      await expect(c.setProperty('/sip0', CS, name, signature, value)).rejects.toMatchObject({
        type: 'org.ofono.Error.InvalidArguments',
      });
    }
    expect((await c.properties('/sip0', CS)).HideCallerId).toBe('default');
  });
});
