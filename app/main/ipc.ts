import type { PhoneBridge } from './bridge.js';
import { IPC } from '../shared/api.js';

/** The part of Electron's ipcMain the HMI uses: kept behind this boundary so it can be tested in Node. */
export interface IpcMainLike {
  handle(
    channel: string,
    listener: (
      event: { senderFrame?: { url: string } | null; sender: { id: number } },
      ...args: unknown[]
    ) => unknown,
  ): void;
}

/**
 * Registers the renderer's actions. Every call is checked: it must come from one of our own windows
 * (sender id) showing our own page (file: URL), and its arguments are validated by the bridge.
 */
export function registerIpc(
  ipc: IpcMainLike,
  bridge: PhoneBridge,
  isOurSender: (id: number, url: string) => boolean,
): void {
  const guard =
    (fn: (...args: unknown[]) => unknown) =>
    (
      event: { senderFrame?: { url: string } | null; sender: { id: number } },
      ...args: unknown[]
    ): unknown => {
      if (!isOurSender(event.sender.id, event.senderFrame?.url ?? '')) {
        throw new Error('request from an unknown sender');
      }
      return fn(...args);
    };
  ipc.handle(
    IPC.snapshot,
    guard(() => bridge.snapshot()),
  );
  ipc.handle(
    IPC.dial,
    guard((n) => bridge.dial(n)),
  );
  ipc.handle(
    IPC.answer,
    guard(() => bridge.answer()),
  );
  ipc.handle(
    IPC.hangup,
    guard((p) => bridge.hangup(p)),
  );
  ipc.handle(
    IPC.holdAndAnswer,
    guard(() => bridge.holdAndAnswer()),
  );
  ipc.handle(
    IPC.swap,
    guard(() => bridge.swap()),
  );
  ipc.handle(
    IPC.merge,
    guard(() => bridge.merge()),
  );
  ipc.handle(
    IPC.hangupMultiparty,
    guard(() => bridge.hangupMultiparty()),
  );
  ipc.handle(
    IPC.privateChat,
    guard((p) => bridge.privateChat(p)),
  );
  ipc.handle(
    IPC.sendTones,
    guard((t) => bridge.sendTones(t)),
  );
  ipc.handle(
    IPC.setMuted,
    guard((m) => bridge.setMuted(m)),
  );
  ipc.handle(
    IPC.recents,
    guard((n) => bridge.recents(n)),
  );
  ipc.handle(
    IPC.contacts,
    guard((q) => bridge.contacts(q)),
  );
  ipc.handle(
    IPC.setFavourite,
    guard((id, f) => bridge.setFavourite(id, f)),
  );
  ipc.handle(
    IPC.callVoicemail,
    guard(() => bridge.callVoicemail()),
  );
  ipc.handle(
    IPC.texts,
    guard((n) => bridge.texts(n)),
  );
  ipc.handle(
    IPC.callsSeen,
    guard(() => bridge.callsSeen()),
  );
  ipc.handle(
    IPC.textsSeen,
    guard(() => bridge.textsSeen()),
  );
  ipc.handle(
    IPC.replyToText,
    guard((id, reply) => bridge.replyToText(id, reply)),
  );
  ipc.handle(
    IPC.declineWithText,
    guard((path, reply) => bridge.declineWithText(path, reply)),
  );
}
