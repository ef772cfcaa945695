import fs from "node:fs/promises";
import path from "node:path";
import type { CDPSession, Page } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { openBrowser, type Browser } from "../helpers/browser";
import { AGENTS_START_MS, startFarm, type Farm } from "../helpers/e2e-farm";
import { unzip } from "../helpers/fixtures";
import { startPushService, type FakeDevice, type PushService } from "../helpers/push-service";
import { makeScene } from "../helpers/scenes";
import { expectFitsPhone, pushDeliverer, signInThroughPage, tapNotification, waitForHydration, waitForServiceWorker } from "../browser/pages";

// A phone user's whole flow against the real server, a real cactus-agent and Blender, at
// 390×844: sign in, create a project, upload a scene, request a render, watch it, get the
// "finished" push, tap it, download the frames. Then every page, light and dark, as
// screenshots in test-results/screenshots/.

const SHOTS = path.resolve(import.meta.dirname, "../../test-results/screenshots");

let farm: Farm;
let browser: Browser;
let service: PushService;
let phone: FakeDevice;
let cdp: CDPSession;
let renderId: number;
let projectUrl: string;

beforeAll(async () => {
  await fs.mkdir(SHOTS, { recursive: true });
  service = await startPushService();
  phone = service.device("phone");
  farm = await startFarm({ username: "ada" });
  await farm.addAgent({ name: "pocket" });
  browser = await openBrowser();
}, AGENTS_START_MS);
afterAll(async () => {
  await cdp?.detach().catch(() => undefined);
  await browser?.close();
  await farm?.stop();
  await service?.close();
});

/** The whole page; or, for a dialog over it (fixed to the screen), what the screen shows. */
async function shoot(page: Page, name: string, { fullPage = true } = {}) {
  await expectFitsPhone(page);
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });
}

test("sign in, upload, request, watch, get the finished notification, download", { timeout: 420_000 }, async () => {
  const { page, context } = browser;
  await signInThroughPage(page, farm.url, "ada", "ada-password-123");
  await waitForServiceWorker(page);

  // This phone's push subscription, as the Me page sends it (a real pushManager has no push service here).
  await context.grantPermissions(["notifications"], { origin: farm.url });
  const subscribed = await page.evaluate(async (subscription) => {
    const body = new FormData();
    body.set("intent", "push-subscribe");
    body.set("subscription", JSON.stringify(subscription));
    return (await fetch("/me", { method: "POST", body })).status;
  }, phone.subscription);
  expect(subscribed).toBe(200);

  await page.getByLabel("New project").fill("Spring short");
  await page.getByRole("button", { name: "Create project" }).click();
  await page.waitForURL(/\/projects\/\d+$/);
  projectUrl = page.url();
  await waitForHydration(page);
  await page.getByLabel("Archive file").setInputFiles(await makeScene());
  await page.getByRole("button", { name: "Upload" }).click();
  const card = page.getByRole("listitem").filter({ hasText: ".blend" }).first();
  await card.waitFor({ timeout: 30_000 });
  // The agent's Blender reads the scene: its frames become the render's default.
  await expect.poll(async () => {
    await page.reload();
    await waitForHydration(page);
    return card.textContent();
  }, { timeout: 120_000, interval: 1000 }).toMatch(/1–12/);
  await shoot(page, "project-light");

  await card.getByText("Render…").click();
  expect(await card.getByLabel("Frames", { exact: true }).inputValue()).toBe("1-12");
  await card.getByRole("button", { name: "Request render" }).click();
  await page.waitForURL(/\/renders\/\d+$/);
  renderId = Number(/\/renders\/(\d+)$/.exec(page.url())![1]);
  await waitForHydration(page);
  await page.evaluate(() => ((window as unknown as { unreloaded: boolean }).unreloaded = true));
  const framesDone = () => page.getByRole("progressbar", { name: "Frames done" }).getAttribute("aria-valuenow");
  await expect.poll(async () => Number(await framesDone()), { timeout: 120_000 }).toBeGreaterThan(0);
  await shoot(page, "render-rendering-light");
  // Blender renders 12 frames one after another; on a busy machine that takes minutes.
  await expect.poll(() => page.getByTestId("render-status").first().textContent(), { timeout: 240_000 }).toBe("Done");
  expect(await framesDone()).toBe("12");
  // Watched live: the page was never loaded again.
  expect(await page.evaluate(() => (window as unknown as { unreloaded?: boolean }).unreloaded)).toBe(true);
  await expect.poll(() => page.getByRole("list", { name: "Frames" }).locator("img").count(), { timeout: 10_000 }).toBe(12);

  // The push the server sent, decrypted as the phone's browser would, reaches its service worker.
  const push = await expect
    .poll(() => service.received.map((received) => JSON.parse(phone.decrypt(received.body)) as { url: string }).find((message) => message.url === `/renders/${renderId}`), { timeout: 15_000 })
    .toBeTruthy()
    .then(() => service.received.find((received) => JSON.parse(phone.decrypt(received.body)).url === `/renders/${renderId}`)!);
  await page.goto(`${farm.url}/renders`);
  cdp = await context.newCDPSession(page);
  const pushes = await pushDeliverer(cdp, farm.url);
  const notifications = () =>
    page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body })));
  await pushes.deliver(phone.decrypt(push.body), async () => (await notifications()).length > 0);
  expect(await notifications()).toEqual([{ title: `Render ${renderId} is done`, body: expect.stringMatching(/^\S+\.blend: 12 frames ready to download\.$/) }]);

  // Tapping it opens the render; Download all brings the frames.
  await tapNotification(context, farm.url);
  await page.waitForURL(`${farm.url}/renders/${renderId}`);
  await shoot(page, "render-done-light");
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download all (zip)" }).click()]);
  const entries = await unzip(await fs.readFile((await download.path())!));
  expect(entries.map((entry) => entry.name).sort()).toEqual(Array.from({ length: 12 }, (_, index) => expect.stringMatching(new RegExp(`_${String(index + 1).padStart(5, "0")}\\.png$`))));
});

test("every page at 390×844, light and dark, as screenshots", { timeout: 120_000 }, async () => {
  const { page } = browser;
  const pages: [string, string][] = [
    ["renders", "/renders"],
    ["render", `/renders/${renderId}`],
    ["projects", "/projects"],
    ["project", new URL(projectUrl).pathname],
    ["workers", "/workers"],
    ["me", "/me"],
    ["not-found", "/no-such-page"],
    ["offline", "/offline.html"],
  ];
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const [name, url] of pages) {
      await page.goto(`${farm.url}${url}`);
      if (name !== "offline") await waitForHydration(page);
      expect(await page.evaluate(() => getComputedStyle(document.documentElement).colorScheme)).toMatch(/light dark|normal/);
      await shoot(page, `${name}-${scheme}`);
    }
    // States a page shows after a tap: a new worker's token and agent command, a frame full size.
    await page.goto(`${farm.url}/workers`);
    await waitForHydration(page);
    await page.getByLabel("Worker name").fill(`studio-pc-${scheme}`);
    await page.getByRole("button", { name: "Create worker" }).click();
    await page.getByLabel("Install and start on the machine").waitFor();
    await shoot(page, `workers-new-${scheme}`);
    await page.goto(`${farm.url}/renders/${renderId}`);
    await waitForHydration(page);
    await page.getByRole("link", { name: /^Frame 1: open / }).click();
    await page.getByRole("dialog", { name: "Frame 1" }).getByRole("img").evaluate((image) => (image as HTMLImageElement).decode());
    await shoot(page, `render-frame-${scheme}`, { fullPage: false });
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    if (scheme === "dark") expect(background).not.toMatch(/^rgb\(2[0-9]{2}, 2[0-9]{2}, 2[0-9]{2}\)$|oklch\(0\.9/);
  }
  // Signed out: sign in and sign up.
  await browser.context.clearCookies();
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const [name, url] of [["login", "/login"], ["signup", "/signup?code=not-a-code"]]) {
      await page.goto(`${farm.url}${url}`);
      await shoot(page, `${name}-${scheme}`);
    }
  }
  const written = await fs.readdir(SHOTS);
  expect(written.filter((file) => file.endsWith("-dark.png"))).toHaveLength(pages.length + 4);
});
