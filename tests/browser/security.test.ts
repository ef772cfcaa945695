import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openBrowser, type Browser } from "../helpers/browser";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken, testDatabase } from "../helpers/users";
import { expectFitsPhone, signInThroughPage, waitForHydration } from "./pages";

let server: TestServer;
let phone: Browser;
let laptop: Browser;
let password: string;
const violations: string[] = [];

beforeAll(async () => {
  server = await startTestServer();
  testDatabase(server);
  ({ password } = await createUserWithToken(server, "careful"));
  phone = await openBrowser();
  laptop = await openBrowser({ viewport: { width: 1280, height: 800 } });
  for (const { page } of [phone, laptop]) {
    page.on("console", (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
  }
});
afterAll(async () => {
  await phone?.close();
  await laptop?.close();
  await closeTestDatabase();
  await server?.close();
});

describe("the PWA under its Content-Security-Policy", () => {
  test("pages hydrate, inline SVG icons show, nothing is refused", async () => {
    const { page } = phone;
    await signInThroughPage(page, server.url, "careful", password);
    await waitForHydration(page);
    for (const path of ["/projects", "/renders", "/workers", "/me"]) {
      await page.goto(`${server.url}${path}`);
      await waitForHydration(page);
    }
    // The bottom navigation's icons are inline <svg>.
    const icon = await page.locator("nav svg").first().boundingBox();
    expect(icon?.width).toBeGreaterThan(10);
    // A client-side navigation (a ?_data fetch) works too.
    await page.getByRole("link", { name: "Workers" }).click();
    await page.waitForURL(`${server.url}/workers`);
    expect(violations).toEqual([]);
    // The page may not be framed by anyone.
    const csp = (await page.request.get(`${server.url}/me`)).headers()["content-security-policy"];
    expect(csp).toMatch(/frame-ancestors 'none'/);
  });
});

describe("signed-in devices and the password on Me", () => {
  test("a second device shows in the list; signing it out from the phone signs it out", async () => {
    await signInThroughPage(laptop.page, server.url, "careful", password);
    const { page } = phone;
    await page.goto(`${server.url}/me`);
    await waitForHydration(page);
    const devices = page.getByRole("list", { name: "Signed-in devices" });
    await expect.poll(() => devices.getByRole("listitem").count(), { timeout: 15_000 }).toBe(2);
    await expect.poll(() => devices.textContent(), { timeout: 15_000 }).toMatch(/this device/);
    await expectFitsPhone(page);
    await page.screenshot({ path: "/tmp/cactus-me-sessions.png", fullPage: true });

    await devices.getByRole("button", { name: /^Sign out / }).click();
    await expect.poll(() => devices.getByRole("listitem").count(), { timeout: 15_000 }).toBe(1);
    await laptop.page.goto(`${server.url}/projects`);
    await laptop.page.waitForURL(/\/login\?redirectTo=%2Fprojects$/);
  });

  test("changing the password: a wrong current one is said under its field; the right one signs out the others", async () => {
    await signInThroughPage(laptop.page, server.url, "careful", password);
    const { page } = phone;
    await page.goto(`${server.url}/me`);
    await waitForHydration(page);
    await page.getByLabel("Current password").fill("not my password");
    await page.getByLabel("New password").fill("a much better password");
    await page.getByRole("button", { name: "Change password" }).click();
    await expect.poll(() => page.getByText(/current password is not right/).count(), { timeout: 15_000 }).toBe(1);

    await page.getByLabel("Current password").fill(password);
    await page.getByRole("button", { name: "Change password" }).click();
    await expect.poll(() => page.getByRole("status").filter({ hasText: "Password changed" }).textContent(), { timeout: 15_000 }).toMatch(/Signed out 1 other device/);
    await page.screenshot({ path: "/tmp/cactus-me-password.png", fullPage: true });
    await laptop.page.goto(`${server.url}/projects`);
    await laptop.page.waitForURL(/\/login/);
    // The phone stays signed in.
    await page.goto(`${server.url}/projects`);
    expect(new URL(page.url()).pathname).toBe("/projects");
    expect(violations).toEqual([]);
  });
});
