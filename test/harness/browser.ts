import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`); playwright-core drives it, it downloads no browser. */
export const CHROMIUM = '/usr/bin/chromium';
// Without the background-networking flags Chromium tries hosts this closed network refuses.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Where browser tests keep their screenshots (a CI artifact). Each spec prefixes its file names. */
export const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'screenshots');
/** How long a page may take to show what the hub already knows (a bound, not a speed target). */
export const SHOWN_MS = 30_000;

/** A headless Chromium page that records every URL it asks for and every console error. */
export interface BrowserPage {
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Every URL the page asked for, WebSockets included. */
  readonly requested: string[];
  /** Console errors and uncaught exceptions of the page (a CSP violation is reported there). */
  readonly pageErrors: string[];
  /** Saves a full-page screenshot as `<SCREENSHOTS>/<name>.png`, with `mask` (a token on the page, say) painted over. */
  shot(name: string, mask?: Locator[]): Promise<void>;
  /** Waits until the first match is visible (at most {@link SHOWN_MS}). */
  shown(locator: Locator): Promise<void>;
  close(): Promise<void>;
}

export async function openBrowserPage(viewport = { width: 1280, height: 900 }): Promise<BrowserPage> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const requested: string[] = [];
  const pageErrors: string[] = [];
  page.on('request', (request) => requested.push(request.url()));
  page.on('websocket', (socket) => requested.push(socket.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return {
    browser,
    context,
    page,
    requested,
    pageErrors,
    shot: async (name, mask) => {
      await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true, ...(mask ? { mask } : {}) });
    },
    shown: (locator) => locator.first().waitFor({ state: 'visible', timeout: SHOWN_MS }),
    close: () => browser.close(),
  };
}
