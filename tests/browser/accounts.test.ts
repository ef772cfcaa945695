import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createdInvitationSchema } from "../../contract";
import { ApiToken, User } from "../../db/models";
import { openBrowser, type Browser } from "../helpers/browser";
import { ADMIN, startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken, testDatabase } from "../helpers/users";
import { expectFitsPhone, waitForHydration } from "./pages";

let server: TestServer;
let browser: Browser;
beforeAll(async () => {
  server = await startTestServer();
  testDatabase(server);
  browser = await openBrowser();
});
afterAll(async () => {
  await browser?.close();
  await closeTestDatabase();
  await server?.close();
});

describe("sign in and out", () => {
  test("a wrong password shows an error and stays on the page; the right one lands on /projects", async () => {
    const { page } = browser;
    await page.goto(`${server.url}/login`);
    await page.getByLabel("Username").fill(ADMIN.username);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/wrong username or password/i);
    expect(new URL(page.url()).pathname).toBe("/login");
    await expectFitsPhone(page);

    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${server.url}/projects`);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Projects");
    await expectFitsPhone(page);
  });

  test("signed in, / opens the projects; signing out from /me ends the session", async () => {
    const { page } = browser;
    await page.goto(`${server.url}/`);
    await page.waitForURL(`${server.url}/projects`);

    await page.goto(`${server.url}/me`);
    await waitForHydration(page);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${server.url}/login`);
    await page.goto(`${server.url}/me`);
    await page.waitForURL(/\/login\?redirectTo=%2Fme$/);
  });

  test("the sign-in page shares the API's rate limit: after 10 failures, even the right password waits", async () => {
    const { user, password } = await createUserWithToken(server, "mallory");
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const api = await fetch(`${server.url}/api/v1/auth/login`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username: user.username, password: "wrong password" }),
      });
      expect(api.status).toBe(401);
      const form = await fetch(`${server.url}/login`, {
        method: "POST",
        body: new URLSearchParams({ username: user.username, password: "wrong password" }),
      });
      expect(form.status).toBe(401);
    }
    const guest = await openBrowser();
    try {
      await guest.page.goto(`${server.url}/login`);
      await guest.page.getByLabel("Username").fill(user.username);
      await guest.page.getByLabel("Password").fill(password);
      await guest.page.getByRole("button", { name: "Sign in" }).click();
      await expect.poll(() => guest.page.getByRole("alert").textContent()).toMatch(/too many attempts.*try again in 15 minutes/i);
      expect(new URL(guest.page.url()).pathname).toBe("/login");
    } finally {
      await guest.close();
    }
  });

  test("a page asked for while signed out is where sign-in goes back to", async () => {
    const { page } = browser;
    await page.goto(`${server.url}/me`);
    await page.waitForURL(/\/login\?redirectTo=%2Fme$/);
    await page.getByLabel("Username").fill(ADMIN.username);
    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${server.url}/me`);
  });
});

describe("/me", () => {
  test("shows the username, role and credits, and fits a phone", async () => {
    const { page } = browser;
    await page.goto(`${server.url}/me`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe(ADMIN.username);
    expect(await page.getByTestId("role").textContent()).toBe("admin");
    expect(await page.getByTestId("credits").textContent()).toBe("0");
    await expectFitsPhone(page);
  });

  test("a new API token is shown once, works against the API, and can be revoked", async () => {
    const { page } = browser;
    await page.goto(`${server.url}/me`);
    await waitForHydration(page);
    await page.getByLabel("Token name").fill("render laptop");
    await page.getByRole("button", { name: "Create token" }).click();
    const shown = page.getByLabel("New token");
    await shown.waitFor();
    const secret = await shown.inputValue();
    expect(secret).toMatch(/^cct_/);
    await expectFitsPhone(page);

    const me = await fetch(`${server.url}/api/v1/me`, { headers: { Authorization: `Bearer ${secret}` } });
    expect(me.status).toBe(200);

    await page.reload();
    const tokens = page.getByRole("list", { name: "API tokens" });
    expect(await tokens.textContent()).toContain("render laptop");
    expect(await page.content()).not.toContain(secret);
    expect(await page.getByLabel("New token").count()).toBe(0);

    await waitForHydration(page);
    await page.getByRole("button", { name: "Revoke render laptop" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Revoke render laptop" }).count()).toBe(0);
    expect(await tokens.textContent()).toMatch(/render laptop.*revoked/);
    const token = await ApiToken.findOne({ where: { name: "render laptop" } });
    expect(token?.revokedAt).toBeInstanceOf(Date);
    const refused = await fetch(`${server.url}/api/v1/me`, { headers: { Authorization: `Bearer ${secret}` } });
    expect(refused.status).toBe(401);
  });

  test("an empty token name is refused next to the field", async () => {
    const { page } = browser;
    await page.goto(`${server.url}/me`);
    await waitForHydration(page);
    // Spaces pass the browser's `required`; the server's check is what refuses them.
    await page.getByLabel("Token name").fill("   ");
    await page.getByRole("button", { name: "Create token" }).click();
    await expect.poll(() => page.locator("#field-name-error").textContent()).toBe("Give the token a name.");
  });
});

describe("invitations", () => {
  test("where the phone has a share sheet, the sign-up link goes through it", async () => {
    const page = await browser.context.newPage();
    try {
      // A phone's navigator.share, standing in: it keeps what it was asked to share.
      await page.addInitScript(() => {
        Object.defineProperty(navigator, "share", {
          value: async (data: ShareData) => void ((window as unknown as { shared: ShareData[] }).shared ??= []).push(data),
        });
      });
      await page.goto(`${server.url}/me`);
      await waitForHydration(page);
      await page.getByLabel("Their email").fill("sharer@example.com");
      await page.getByRole("button", { name: "Create invitation" }).click();
      const url = await page.getByLabel("Sign-up link").inputValue();
      await page.getByRole("button", { name: "Share" }).click();
      await expect
        .poll(() => page.evaluate(() => (window as unknown as { shared?: ShareData[] }).shared))
        .toEqual([{ title: "Join our Cactus render farm", url }]);
    } finally {
      await page.close();
    }
  });

  test("an invitation made on /me signs a new person up through its link, once", async () => {
    const { page } = browser;
    await page.goto(`${server.url}/me`);
    await waitForHydration(page);
    await page.getByLabel("Their email").fill("friend@example.com");
    await page.getByRole("button", { name: "Create invitation" }).click();
    const link = page.getByLabel("Sign-up link");
    await link.waitFor();
    const url = await link.inputValue();
    expect(url).toMatch(new RegExp(`^${server.url}/signup\\?code=cci_`));
    // Nothing is emailed, and the page says so; Linux Chromium has no share sheet, so no Share button.
    expect(await page.getByRole("status").textContent()).toMatch(/Cactus sends no email: share this link with friend@example\.com yourself/);
    expect(await page.getByRole("status").textContent()).toContain("It comes with 100 credits.");
    expect(await page.getByRole("button", { name: "Share" }).count()).toBe(0);
    await page.getByRole("button", { name: "Copy" }).click();
    await expect.poll(() => page.getByRole("button", { name: "Copied" }).count()).toBe(1);
    expect(await page.getByRole("list", { name: "Invitations" }).textContent()).toMatch(/friend@example\.com\s*created .* · 100 credits\s*open until/);
    await expectFitsPhone(page);

    const guest = await openBrowser();
    try {
      await guest.page.goto(url);
      await expectFitsPhone(guest.page);
      expect(await guest.page.getByText("You were invited").textContent()).toMatch(/^You were invited, with 100 credits to start\./);
      await guest.page.getByLabel("Username").fill("friend");
      await guest.page.getByLabel("Password").fill("short");
      // The browser's own minlength check would stop the form; the server's message is the one to see.
      await guest.page.locator("input[name=password]").evaluate((input) => input.removeAttribute("minlength"));
      await guest.page.getByRole("button", { name: "Sign up" }).click();
      await expect.poll(() => guest.page.locator("#field-password-error").textContent()).toMatch(/at least 10/);

      await guest.page.getByLabel("Password").fill("friend-password-123");
      await guest.page.getByRole("button", { name: "Sign up" }).click();
      await guest.page.waitForURL(`${server.url}/projects`);
      await guest.page.goto(`${server.url}/me`);
      expect(await guest.page.getByRole("heading", { level: 1 }).textContent()).toBe("friend");
      expect(await guest.page.getByTestId("credits").textContent()).toBe("100");
    } finally {
      await guest.close();
    }
    expect(await User.count({ where: { username: "friend" } })).toBe(1);

    await page.reload();
    expect(await page.getByRole("list", { name: "Invitations" }).textContent()).toContain("joined as friend");

    // The same link again, now used: said at once, with no form to fill in.
    const late = await openBrowser();
    try {
      await late.page.goto(url);
      expect(await late.page.getByRole("alert").textContent()).toMatch(/already used.*new one/);
      expect(await late.page.getByRole("button", { name: "Sign up" }).count()).toBe(0);
    } finally {
      await late.close();
    }
  });

  test("an expired link and a link without a code say what to do", async () => {
    const { token } = await createUserWithToken(server, "inviter");
    const response = await fetch(`${server.url}/api/v1/invitations`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ email: "late@example.com" }),
    });
    const invitation = createdInvitationSchema.parse(await response.json());
    await testDatabase(server).query("UPDATE invitations SET expires_at = now() - interval '1 hour' WHERE id = :id", {
      replacements: { id: invitation.id },
    });

    const guest = await openBrowser();
    try {
      await guest.page.goto(invitation.url);
      expect(await guest.page.getByRole("alert").textContent()).toMatch(/has expired.*new one/);
      await guest.page.goto(`${server.url}/signup`);
      expect(await guest.page.getByRole("alert").textContent()).toMatch(/by invitation only/);
      await guest.page.goto(`${server.url}/signup?code=cci_madeup`);
      expect(await guest.page.getByRole("alert").textContent()).toMatch(/no invitation has this code/i);
    } finally {
      await guest.close();
    }
  });
});

describe("install", () => {
  test("the page links a web app manifest whose icons (one maskable) and install-sheet screenshots are served", async () => {
    const { page } = browser;
    await page.goto(`${server.url}/login`);
    const href = await page.locator('link[rel="manifest"]').getAttribute("href");
    const response = await fetch(new URL(href ?? "", server.url));
    expect(response.status).toBe(200);
    const manifest = (await response.json()) as {
      name: string;
      short_name: string;
      start_url: string;
      display: string;
      theme_color: string;
      icons: { src: string; sizes: string; purpose: string }[];
      screenshots: { src: string; sizes: string; form_factor: string; label: string }[];
    };
    expect(manifest).toMatchObject({ short_name: "Cactus", start_url: "/", display: "standalone", theme_color: "#256530" });
    expect(manifest.icons.some((icon) => icon.purpose === "maskable" && icon.sizes === "512x512")).toBe(true);
    expect(manifest.icons.some((icon) => icon.purpose === "any" && icon.sizes === "192x192")).toBe(true);
    for (const icon of manifest.icons) {
      const served = await fetch(new URL(icon.src, server.url));
      expect(served.status, icon.src).toBe(200);
    }
    // The install sheet's screenshots: phone-shaped, served, and as large as the manifest says.
    expect(manifest.screenshots.filter((shot) => shot.form_factor === "narrow").length).toBeGreaterThan(0);
    for (const shot of manifest.screenshots) {
      const served = await fetch(new URL(shot.src, server.url));
      expect(served.status, shot.src).toBe(200);
      const png = Buffer.from(await served.arrayBuffer());
      // A PNG's size stands in its header (IHDR): width, then height.
      const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
      expect(`${width}x${height}`, shot.src).toBe(shot.sizes);
      // Chromium shows no screenshot longer than 2.3 times its width, nor under 320 px.
      expect(Math.max(width, height) / Math.min(width, height)).toBeLessThanOrEqual(2.3);
      expect(Math.min(width, height)).toBeGreaterThanOrEqual(320);
      expect(shot.label.length).toBeGreaterThan(0);
    }
  });
});
