import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PhoneBridge } from '../../app/main/bridge.js';
import type { PhoneApi } from '../../app/shared/api.js';
import { buildRenderer } from '../../scripts/build-app.js';
import { REPO } from './carphoned.js';

const TYPES: Record<string, string> = { '.html': 'text/html', '.css': 'text/css', '.js': 'text/javascript' };
const METHODS = [
  'snapshot',
  'dial',
  'answer',
  'hangup',
  'holdAndAnswer',
  'swap',
  'merge',
  'hangupMultiparty',
  'privateChat',
  'sendTones',
  'setMuted',
  'recents',
  'callsSeen',
  'contacts',
  'setFavourite',
  'callVoicemail',
  'texts',
  'textsSeen',
  'replyToText',
  'declineWithText',
] as const;

/**
 * The HMI as the driver sees it, without the Electron binary (it cannot be downloaded here): the real
 * renderer in Debian's Chromium, and for the preload API the same PhoneBridge that Electron's main
 * process uses, running in the test and talking D-Bus to the real carphoned.
 */
export class Hmi {
  private constructor(
    readonly page: Page,
    private readonly browser: Browser,
    private readonly server: Server,
    readonly bridge: PhoneBridge,
    readonly url: string,
  ) {}

  static async start(
    busAddress: string,
    size: { width: number; height: number } = { width: 1280, height: 720 },
  ): Promise<Hmi> {
    await buildRenderer();
    const root = join(REPO, 'app/renderer');
    const server = createServer((req, res) => {
      const path = normalize(join(root, decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/')));
      const file = path.endsWith('/') || path === root ? join(root, 'index.html') : path;
      if (!file.startsWith(root)) {
        res.writeHead(403).end();
        return;
      }
      readFile(file)
        .then((body) =>
          res
            .writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' })
            .end(body),
        )
        .catch(() => res.writeHead(404).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const address = server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
    const bridge = await PhoneBridge.connect(busAddress);
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    });
    const page = await browser.newPage({ viewport: size });
    page.on('pageerror', (e) => console.error(`renderer: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') {
        console.error(`renderer console: ${m.text()}`);
      }
    });
    for (const m of METHODS) {
      await page.exposeFunction(`__phone_${m}`, (...args: unknown[]) =>
        (bridge[m] as (...a: unknown[]) => Promise<unknown>)(...args),
      );
    }
    await page.addInitScript((methods: readonly string[]) => {
      const listeners: ((s: unknown) => void)[] = [];
      const w = window as unknown as Record<string, unknown>;
      const api: Record<string, unknown> = {
        onState: (l: (s: unknown) => void) => {
          listeners.push(l);
          return () => listeners.splice(listeners.indexOf(l), 1);
        },
      };
      for (const m of methods) {
        api[m] = (...args: unknown[]) =>
          (w[`__phone_${m}`] as (...a: unknown[]) => Promise<unknown>)(...args);
      }
      w.carphone = api;
      w.__phoneState = (s: unknown) => listeners.forEach((l) => l(s));
    }, METHODS);
    bridge.onState((s) => {
      void page
        .evaluate(
          (state) => (window as unknown as { __phoneState: (x: unknown) => void }).__phoneState(state),
          s,
        )
        .catch(() => undefined);
    });
    return new Hmi(page, browser, server, bridge, url);
  }

  async open(query = ''): Promise<void> {
    await this.page.goto(`${this.url}${query ? `?${query}` : ''}`);
    await this.page.waitForSelector('[data-testid=registration]');
  }

  /**
   * Every button or input field that a finger cannot hit properly: smaller than `min` CSS pixels either way, or not
   * entirely on screen and on top (clipped, off the viewport, or covered).
   */
  async smallTargets(min = 76): Promise<string[]> {
    return this.page.$$eval(
      'button, input',
      (buttons, m) =>
        buttons
          .map((b) => {
            const r = b.getBoundingClientRect();
            const id = b.getAttribute('data-testid') ?? b.textContent ?? '';
            // Edge midpoints, not corners: hit testing follows the rounded corners.
            const cx = (r.left + r.right) / 2;
            const cy = (r.top + r.bottom) / 2;
            const points = [
              [r.left + 3, cy],
              [r.right - 3, cy],
              [cx, r.top + 3],
              [cx, r.bottom - 3],
              [cx, cy],
            ];
            const hidden = points.some(([x, y]) => {
              const hit = document.elementFromPoint(x ?? 0, y ?? 0);
              return !hit || !(hit === b || b.contains(hit));
            });
            return { id, r, hidden };
          })
          .filter((x) => x.r.width > 0 && (x.r.width < m || x.r.height < m || x.hidden))
          .map(
            (x) =>
              `${x.id} ${Math.round(x.r.width)}×${Math.round(x.r.height)}${x.hidden ? ' not fully visible' : ''}`,
          ),
      min,
    );
  }

  async screenshot(name: string): Promise<void> {
    await this.page.screenshot({ path: join(REPO, 'docs/screenshots', `${name}.png`) });
  }

  async close(): Promise<void> {
    await this.browser.close();
    this.bridge.close();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

export type { PhoneApi };
