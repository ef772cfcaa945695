import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openBrowser, type Browser } from "../helpers/browser";
import { startNetworkSwitch, type NetworkSwitch } from "../helpers/network-switch";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken } from "../helpers/users";
import { signInThroughPage, waitForHydration, waitForServiceWorker } from "./pages";

// The installable app: the manifest Chromium accepts, and the service worker's offline
// shell, seen through a network that can be cut (tests/helpers/network-switch.ts).

let server: TestServer;
let network: NetworkSwitch;
let browser: Browser;
beforeAll(async () => {
  server = await startTestServer();
  network = await startNetworkSwitch(server.url);
  const ada = await createUserWithToken(server, "ada");
  browser = await openBrowser();
  await signInThroughPage(browser.page, network.url, "ada", ada.password);
});
afterAll(async () => {
  await browser?.close();
  await network?.close();
  await closeTestDatabase();
  await server?.close();
});

describe("installable PWA", () => {
  test("Chromium finds nothing that keeps the app from being installed", async () => {
    const { page, context } = browser;
    await page.goto(`${network.url}/renders`);
    await waitForServiceWorker(page);
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = (await cdp.send("Page.getInstallabilityErrors")) as { installabilityErrors: unknown[] };
    expect(installabilityErrors).toEqual([]);
    const manifest = (await cdp.send("Page.getAppManifest")) as { errors: unknown[]; url: string };
    expect(manifest.errors).toEqual([]);
    expect(manifest.url).toBe(`${network.url}/manifest.webmanifest`);
    await cdp.detach();
  });

  test("offline, a page seen before loads from the device, and one never seen shows the offline page", async () => {
    const { page } = browser;
    await page.goto(`${network.url}/renders`);
    await waitForServiceWorker(page);
    // A page is kept by the service worker once it loaded through it.
    await page.goto(`${network.url}/workers`);
    await waitForHydration(page);
    network.setOnline(false);
    try {
      await page.reload();
      await page.getByRole("heading", { level: 1, name: "Workers" }).waitFor();
      await waitForHydration(page);
      expect(await page.getByRole("navigation", { name: "Main" }).isVisible()).toBe(true);

      await page.goto(`${network.url}/me`);
      await page.getByRole("heading", { level: 1, name: "You are offline" }).waitFor();
      expect(await page.title()).toBe("Offline · Cactus");
    } finally {
      network.setOnline(true);
    }
    await page.getByRole("link", { name: "Try again" }).click();
    await page.getByRole("heading", { level: 1, name: "ada" }).waitFor();
  });
});
