import { join } from 'node:path';
import { app, BrowserWindow, ipcMain, session } from 'electron';
import { IPC } from '../shared/api.js';
import { PhoneBridge } from './bridge.js';
import { registerIpc } from './ipc.js';

/**
 * The HMI's Electron main process: one full-screen, sandboxed window showing the renderer, and the
 * bridge to carphoned. The bus comes from CARPHONE_BUS (the daemon's DBUS_ADDRESS) or the system bus.
 */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'";

async function main(): Promise<void> {
  await app.whenReady();
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  const bridge = await PhoneBridge.connect(
    process.env.CARPHONE_BUS ?? 'system',
    process.env.CARPHONE_NAME ?? 'org.carphone',
  );
  const window = new BrowserWindow({
    width: Number(process.env.CARPHONE_WIDTH ?? 1280),
    height: Number(process.env.CARPHONE_HEIGHT ?? 720),
    fullscreen: process.env.CARPHONE_FULLSCREEN !== '0',
    backgroundColor: '#000000',
    webPreferences: {
      preload: join(import.meta.dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  const page = join(import.meta.dirname, '../renderer/index.html');
  window.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  window.webContents.on('will-navigate', (event) => event.preventDefault());
  registerIpc(ipcMain, bridge, (id, url) => id === window.webContents.id && url.startsWith('file://'));
  bridge.onState((s) => window.webContents.send(IPC.state, s));
  await window.loadFile(page);
  app.on('window-all-closed', () => {
    bridge.close();
    app.quit();
  });
}

void main();
