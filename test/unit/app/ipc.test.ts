import { describe, expect, it } from 'vitest';
import { registerIpc, type IpcMainLike } from '../../../app/main/ipc.js';
import type { PhoneBridge } from '../../../app/main/bridge.js';
import { IPC, validDialString, validTones } from '../../../app/shared/api.js';

type Handler = Parameters<IpcMainLike['handle']>[1];

/** ipcMain as Electron would drive it, without Electron: the registered handlers, called directly. */
function setup(): { handlers: Map<string, Handler>; calls: string[] } {
  const handlers = new Map<string, Handler>();
  const calls: string[] = [];
  const bridge = new Proxy({} as PhoneBridge, {
    get:
      (_t, name) =>
      (...args: unknown[]) => {
        calls.push(`${String(name)}(${args.map((a) => JSON.stringify(a)).join(',')})`);
        return Promise.resolve();
      },
  });
  registerIpc(
    { handle: (channel, listener) => handlers.set(channel, listener) },
    bridge,
    (id, url) => id === 7 && url.startsWith('file://'),
  );
  return { handlers, calls };
}

const ours = { sender: { id: 7 }, senderFrame: { url: 'file:///opt/carphone/app/renderer/index.html' } };

describe('the HMI main process IPC', () => {
  it('registers one handler per action of the API', () => {
    const { handlers } = setup();
    expect([...handlers.keys()].sort()).toEqual(
      Object.values(IPC)
        .filter((c) => c !== IPC.state)
        .sort(),
    );
  });

  it("passes our window's requests to the bridge", async () => {
    const { handlers, calls } = setup();
    await handlers.get(IPC.dial)?.(ours, '+4930123');
    await handlers.get(IPC.setMuted)?.(ours, true);
    expect(calls).toEqual(['dial("+4930123")', 'setMuted(true)']);
  });

  it('refuses requests from another window or from a page that is not ours', () => {
    const { handlers, calls } = setup();
    expect(() => handlers.get(IPC.dial)?.({ sender: { id: 8 }, senderFrame: ours.senderFrame }, '1')).toThrow(
      /unknown sender/,
    );
    expect(() =>
      handlers.get(IPC.dial)?.({ sender: { id: 7 }, senderFrame: { url: 'https://evil.example/' } }, '1'),
    ).toThrow(/unknown sender/);
    expect(calls).toEqual([]);
  });

  it("checks dial strings and tones before they leave the renderer's world", () => {
    expect(validDialString('+49301234')).toBe(true);
    expect(validDialString('*43')).toBe(true);
    expect(validDialString('sip:alice@192.0.2.1')).toBe(true);
    expect(validDialString('1; rm -rf')).toBe(false);
    expect(validDialString(42)).toBe(false);
    expect(validTones('12#*AD')).toBe(true);
    expect(validTones('12x')).toBe(false);
  });
});
