import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { NOTIFICATION_EVENTS, workerOfflineMessage } from "../../domain/notifications";
import { openBrowser, type Browser } from "../helpers/browser";
import { startNetworkSwitch, type NetworkSwitch } from "../helpers/network-switch";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken, testDatabase } from "../helpers/users";
import { ArchiveApi, blend, uploaded } from "../helpers/archive-api";
import { createAgent, renderOf } from "../helpers/renders";
import { pushDeliverer, signInThroughPage, tapNotification, waitForHydration, waitForServiceWorker } from "./pages";

// The installable app: the manifest Chromium accepts, and the service worker's offline
// shell, seen through a network that can be cut (tests/helpers/network-switch.ts).

let server: TestServer;
let network: NetworkSwitch;
let browser: Browser;
let ada: Awaited<ReturnType<typeof createUserWithToken>>;
beforeAll(async () => {
  server = await startTestServer();
  network = await startNetworkSwitch(server.url);
  ada = await createUserWithToken(server, "ada");
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

describe("a live page when the network drops", () => {
  test("it says it is reconnecting, and once the network is back it resumes by itself", async () => {
    const { page } = browser;
    const owner = new ArchiveApi(server, ada.token);
    const { agent } = await createAgent(owner, "box-1");
    const project = await owner.createProject();
    const archive = await uploaded(await owner.upload(project.id, blend(4000), { filename: "shot.blend" }));
    await testDatabase(server).query(`UPDATE archives SET inspected_at = now() WHERE id = $id`, { bind: { id: archive.id } });
    const render = await renderOf(await owner.call("/renders", { body: { archiveId: archive.id, frames: "1-2" } }), 201);

    await page.goto(`${network.url}/renders/${render.id}`);
    await waitForHydration(page);
    await page.evaluate(() => ((window as unknown as { unreloaded: boolean }).unreloaded = true));
    const framesDone = () => page.getByRole("progressbar", { name: "Frames done" }).getAttribute("aria-valuenow");
    network.setOnline(false);
    const reconnecting = page.getByRole("status").filter({ hasText: "Reconnecting…" });
    try {
      await reconnecting.waitFor({ timeout: 10_000 });
      // The farm goes on meanwhile (the agent reaches the server, the phone does not).
      await agent.renderNext();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(await framesDone()).toBe("0");
    } finally {
      network.setOnline(true);
    }
    await expect.poll(framesDone, { timeout: 15_000 }).toBe("1");
    await expect.poll(() => reconnecting.count(), { timeout: 10_000 }).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { unreloaded?: boolean }).unreloaded)).toBe(true);
    await agent.renderNext();
    await expect.poll(framesDone, { timeout: 5000 }).toBe("2");
  });
});

describe("push in the browser", () => {
  // Its waits are long enough for a loaded machine (the full suite runs Blender beside it), and they say what they saw.
  test("a push the service worker gets shows a notification with its title, body and link, and a tap opens that page", { timeout: 180_000 }, async () => {
    const { page, context } = browser;
    await context.grantPermissions(["notifications"], { origin: network.url });
    await page.goto(`${network.url}/renders`);
    await waitForServiceWorker(page);
    const cdp = await context.newCDPSession(page);
    const pushes = await pushDeliverer(cdp, network.url);
    const message = workerOfflineMessage({ id: 7, name: "studio-pc" }, { minutes: 2 });
    const shown = () =>
      page.evaluate(async () =>
        (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data as unknown })),
      );
    await pushes.deliver(JSON.stringify(message), async () => (await shown()).length > 0);
    expect(await shown()).toEqual([{ title: "studio-pc went offline", body: message.body, tag: "worker-7", data: { url: "/workers", event: "worker-offline" } }]);

    // Another push under the same tag replaces it rather than piling up.
    const again = workerOfflineMessage({ id: 7, name: "studio-pc" }, { minutes: 5 });
    await pushes.deliver(JSON.stringify(again), async () => (await shown()).some((shownNow) => shownNow.body === again.body));
    expect((await shown()).map((shownNow) => shownNow.body)).toEqual([again.body]);

    // A tap (the notificationclick the browser dispatches) sends the app's window to the page it links to.
    await tapNotification(context, network.url);
    await page.waitForURL(`${network.url}/workers`);
    await page.getByRole("heading", { level: 1, name: "Workers" }).waitFor();
    await expect.poll(async () => (await shown()).length, { timeout: 10_000 }).toBe(0);
    await cdp.detach();
  });

  test("turning notifications on where the browser has no push service says so instead of hanging", async () => {
    const { page, context } = browser;
    await context.grantPermissions(["notifications"], { origin: network.url });
    await page.goto(`${network.url}/me`);
    await waitForHydration(page);
    await page.getByRole("checkbox", { name: "My render finished" }).waitFor();
    // One switch per event (domain/notifications.ts), a helper's request among them.
    expect(await page.getByRole("checkbox").count()).toBe(NOTIFICATION_EVENTS.length);
    expect(await page.getByRole("checkbox", { name: "A render request awaits my acceptance" }).isChecked()).toBe(true);
    await page.getByRole("button", { name: "Turn on notifications" }).click();
    await expect
      .poll(() => page.getByRole("alert").textContent(), { timeout: 20_000 })
      .toMatch(/^This browser's push service did not answer, so it cannot receive notifications here/);
    expect(await page.getByRole("button", { name: "Turn on notifications" }).isEnabled()).toBe(true);
  });
});
