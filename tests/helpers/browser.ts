import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type BrowserContextOptions, type Page } from "playwright-core";

/** Debian's Chromium: the tests never download a browser (no `playwright install`). */
export const CHROMIUM_PATH = process.env.CACTUS_CHROMIUM ?? "/usr/bin/chromium";

// Headless, and quiet: no calls home, no updates, nothing that needs the network.
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A phone-sized, touch, 2× screen, like the people who use the PWA most. */
export const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
};

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** Chromium with a fresh profile in a temp dir; `close()` ends it and removes the profile. */
export async function openBrowser(options: BrowserContextOptions = PHONE): Promise<Browser> {
  const userDataDir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-chromium-"));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      args: CHROMIUM_ARGS,
      headless: true,
      ...options,
    });
  } catch (error) {
    await fs.rm(userDataDir, { recursive: true, force: true });
    throw error;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      await fs.rm(userDataDir, { recursive: true, force: true });
    },
  };
}
