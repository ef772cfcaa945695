import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { writeServiceWorker } from "../../scripts/service-worker-build";
import { openBrowser, type Browser } from "../helpers/browser";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken } from "../helpers/users";
import { signInThroughPage, waitForHydration, waitForServiceWorker } from "./pages";

// A deploy while the app is open: the server's static files are a copy of public/, so
// the test can build a second version of the service worker over a changed asset.

let server: TestServer;
let browser: Browser;
let publicDir: string;
beforeAll(async () => {
  publicDir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-public-"));
  await fs.cp(path.resolve(import.meta.dirname, "../../public"), publicDir, { recursive: true });
  server = await startTestServer({}, undefined, { publicDir });
  const ada = await createUserWithToken(server, "ada");
  browser = await openBrowser();
  await signInThroughPage(browser.page, server.url, "ada", ada.password);
});
afterAll(async () => {
  await browser?.close();
  await closeTestDatabase();
  await server?.close();
  await fs.rm(publicDir, { recursive: true, force: true });
});

test("a second build with a changed asset shows the update prompt, and Reload brings the new version", async () => {
  const { page } = browser;
  await page.goto(`${server.url}/renders`);
  await waitForServiceWorker(page);
  await waitForHydration(page);
  const firstWorker = await page.evaluate(() => navigator.serviceWorker.controller!.scriptURL);
  const prompt = page.getByRole("status").filter({ hasText: "A new version is ready" });
  expect(await prompt.count()).toBe(0);

  // The second build: the offline page says something new, so the precache list changes.
  const offline = path.join(publicDir, "offline.html");
  await fs.writeFile(offline, (await fs.readFile(offline, "utf8")).replace("You are offline", "You are offline (v2)"));
  await writeServiceWorker(publicDir);

  // The page looks for a new version when it comes back to the foreground (and hourly).
  await page.evaluate(() => document.dispatchEvent(new Event("visibilitychange")));
  await prompt.waitFor({ timeout: 15_000 });
  await page.evaluate(() => ((window as unknown as { before: boolean }).before = true));
  await prompt.getByRole("button", { name: "Reload" }).click();

  // A new document, controlled by the new worker, whose precache holds the new asset.
  await page.waitForFunction(() => !(window as unknown as { before?: boolean }).before, undefined, { timeout: 15_000 });
  await waitForServiceWorker(page);
  await page.getByRole("heading", { level: 1, name: "Renders" }).waitFor();
  const cached = await page.evaluate(async () => {
    const response = await caches.match("/offline.html", { ignoreSearch: true });
    return response ? response.text() : null;
  });
  expect(cached).toContain("You are offline (v2)");
  expect(await prompt.count()).toBe(0);
  expect(await page.evaluate(() => navigator.serviceWorker.controller!.scriptURL)).toBe(firstWorker);
  const waiting = await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.waiting ?? null);
  expect(waiting).toBeNull();
});
