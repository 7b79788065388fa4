import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OfonoClient } from '../../service/client/ofono-client.js';
import { Carphoned } from '../harness/carphoned.js';
import { PrivateBus } from '../harness/dbus-daemon.js';
import { Hmi } from '../harness/hmi.js';
import { waitFor } from '../harness/process.js';
import { RawSipPeer, sipRequest } from '../harness/sip-fuzz.js';
import { seeded } from '../../bench/jitter/traces.js';

/** A carmaker's own replies, in English only: four, the most a screen shows without scrolling. */
const REPLIES = {
  en: [
    'Parking now, I will call you in five minutes.',
    "Can't talk, I'm driving on the motorway and will call you back as soon as I have stopped somewhere.",
    'Yes.',
    'No.',
  ],
};

describe("the carmaker's quick replies (messages.quickReplies)", () => {
  let bus: PrivateBus;
  let daemon: Carphoned;
  let client: OfonoClient;
  let hmi: Hmi;
  let peer: RawSipPeer;

  beforeAll(async () => {
    bus = await PrivateBus.start();
    daemon = await Carphoned.start({
      dbus: { bus: bus.address },
      history: { path: join(mkdtempSync(join(tmpdir(), 'carphone-replies-')), 'history.sqlite') },
      accounts: [{ id: 'sip0', user: '1000', domain: '127.0.0.1' }],
      messages: { quickReplies: REPLIES },
    });
    client = await daemon.client();
    const local = String((await client.properties('/sip0', 'org.carphone.SipAccount')).LocalAddress);
    const [host = '', port = ''] = local.split(':');
    peer = await RawSipPeer.open({ host, port: Number(port) });
    hmi = await Hmi.start(bus.address);
    await hmi.open();
  }, 60_000);

  afterAll(async () => {
    await hmi?.close();
    peer?.close();
    client?.disconnect();
    await daemon?.stop();
    await bus?.stop();
  });

  it("offers the carmaker's quick replies in their language and none in a language without them", async () => {
    expect((await client.properties('/history', 'org.carphone.MessageHistory')).QuickReplies).toEqual(
      REPLIES,
    );
    const since = client.signals.length;
    peer.send(sipRequest(peer, seeded(11), 'MESSAGE', { body: 'Where are you?', contentType: 'text/plain' }));
    await client.waitForSignal((s) => s.member === 'IncomingMessage', 5000, since);
    const [text] = await hmi.bridge.texts(1);
    expect(text).toMatchObject({ direction: 'incoming', number: '2001', text: 'Where are you?' });

    await hmi.page.locator('[data-testid=tab-messages]').click();
    await hmi.page.locator(`[data-testid=reply-${text?.id}]`).click();
    await hmi.page.waitForSelector('[data-testid=reply-panel]');
    expect(await hmi.page.locator('[data-testid=reply-panel] .canned').allInnerTexts()).toEqual(REPLIES.en);
    expect(await hmi.smallTargets()).toEqual([]);
    await hmi.screenshot('messages-quick-replies-1280x720-day');
    // The defaults are not among them: the main process sends only what the carmaker set.
    await expect(hmi.bridge.replyToText(text?.id, "I'm driving. I'll call you back.")).rejects.toThrow(
      /quick replies/,
    );

    // German has no list here: no Reply beside the text, nothing to choose.
    await hmi.open('lang=de');
    await hmi.page.locator('[data-testid=tab-messages]').click();
    await waitFor(
      'the text listed',
      async () => (await hmi.page.locator('[data-testid^=text-]').count()) > 0,
    );
    expect(await hmi.page.locator('[data-testid^=reply-]').count()).toBe(0);
  });
});
