import { contextBridge, ipcRenderer } from 'electron';
import { IPC, type PhoneApi, type PhoneSnapshot } from '../shared/api.js';

/** Exposes exactly the phone API to the sandboxed renderer: one method per action, no raw IPC. */
const api: PhoneApi = {
  snapshot: () => ipcRenderer.invoke(IPC.snapshot) as Promise<PhoneSnapshot>,
  dial: (n) => ipcRenderer.invoke(IPC.dial, n) as Promise<void>,
  answer: () => ipcRenderer.invoke(IPC.answer) as Promise<void>,
  hangup: (p) => ipcRenderer.invoke(IPC.hangup, p) as Promise<void>,
  holdAndAnswer: () => ipcRenderer.invoke(IPC.holdAndAnswer) as Promise<void>,
  swap: () => ipcRenderer.invoke(IPC.swap) as Promise<void>,
  merge: () => ipcRenderer.invoke(IPC.merge) as Promise<void>,
  hangupMultiparty: () => ipcRenderer.invoke(IPC.hangupMultiparty) as Promise<void>,
  privateChat: (p) => ipcRenderer.invoke(IPC.privateChat, p) as Promise<void>,
  sendTones: (t) => ipcRenderer.invoke(IPC.sendTones, t) as Promise<void>,
  setMuted: (m) => ipcRenderer.invoke(IPC.setMuted, m) as Promise<void>,
  recents: (n) => ipcRenderer.invoke(IPC.recents, n) as ReturnType<PhoneApi['recents']>,
  contacts: (q) => ipcRenderer.invoke(IPC.contacts, q) as ReturnType<PhoneApi['contacts']>,
  setFavourite: (id, f) => ipcRenderer.invoke(IPC.setFavourite, id, f) as Promise<void>,
  callVoicemail: () => ipcRenderer.invoke(IPC.callVoicemail) as Promise<void>,
  texts: (n) => ipcRenderer.invoke(IPC.texts, n) as ReturnType<PhoneApi['texts']>,
  callsSeen: () => ipcRenderer.invoke(IPC.callsSeen) as Promise<void>,
  textsSeen: () => ipcRenderer.invoke(IPC.textsSeen) as Promise<void>,
  replyToText: (id, reply) => ipcRenderer.invoke(IPC.replyToText, id, reply) as Promise<void>,
  declineWithText: (path, reply) => ipcRenderer.invoke(IPC.declineWithText, path, reply) as Promise<void>,
  onState: (listener) => {
    const handler = (_e: unknown, s: PhoneSnapshot): void => listener(s);
    ipcRenderer.on(IPC.state, handler);
    return () => {
      ipcRenderer.off(IPC.state, handler);
    };
  },
};

contextBridge.exposeInMainWorld('carphone', api);
