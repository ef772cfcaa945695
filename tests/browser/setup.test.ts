import { afterAll, beforeAll, expect, test } from "vitest";
import { Setting, User } from "../../db/models";
import { openBrowser, type Browser } from "../helpers/browser";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, testDatabase } from "../helpers/users";
import { expectFitsPhone, waitForHydration } from "./pages";

let server: TestServer;
let browser: Browser;
let setupCode: string;
beforeAll(async () => {
  // No admin in the settings: the server prints a one-time setup code instead.
  server = await startTestServer({ CACTUS_ADMIN_USER: "", CACTUS_ADMIN_PASSWORD: "" });
  testDatabase(server);
  setupCode = server.cactus.setupCode ?? "";
  browser = await openBrowser();
});
afterAll(async () => {
  await browser?.close();
  await closeTestDatabase();
  await server?.close();
});

test("with no users, the start page leads to setup; a wrong code is refused; the printed one makes the admin, once", async () => {
  expect(setupCode).toMatch(/^ccs_/);
  const { page } = browser;
  await page.goto(`${server.url}/`);
  await page.waitForURL(`${server.url}/setup`);
  await expectFitsPhone(page);

  await page.getByLabel("Setup code").fill("ccs_not-the-code");
  await page.getByLabel("Username").fill("root");
  await page.getByLabel("Password").fill("a long admin password");
  await page.getByRole("button", { name: "Create admin and sign in" }).click();
  await expect.poll(() => page.locator("#field-code-error").textContent()).toMatch(/setup code is not valid/);
  expect(await User.count()).toBe(0);

  await page.getByLabel("Setup code").fill(setupCode);
  await page.getByRole("button", { name: "Create admin and sign in" }).click();
  await page.waitForURL(`${server.url}/projects`);
  const admin = await User.findOne({ where: { username: "root" } });
  expect(admin?.role).toBe("admin");
  // The code is spent: its hash is gone, so it cannot make a second admin.
  expect(await Setting.findByPk("setup_code_hash")).toBeNull();

  await page.goto(`${server.url}/me`);
  await waitForHydration(page);
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(`${server.url}/login`);
  await page.goto(`${server.url}/setup`);
  await page.waitForURL(`${server.url}/login`);

  // Posting the form straight to /setup, as a second racer would, goes nowhere either.
  const again = await fetch(`${server.url}/setup`, {
    method: "POST",
    body: new URLSearchParams({ code: setupCode, username: "second", password: "another long password" }),
    redirect: "manual",
  });
  expect(again.status).toBe(302);
  expect(again.headers.get("location")).toBe("/login");
  expect(await User.count()).toBe(1);
});
