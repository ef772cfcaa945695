import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { AgentApi, HELLO } from "../helpers/agent-api";
import { openBrowser, type Browser } from "../helpers/browser";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken } from "../helpers/users";
import { expectFitsPhone, signInThroughPage, waitForHydration } from "./pages";

// The workers page: a worker made there gets its token once, with the command for its
// agent; the switches on the page are what the agent then meets on the protocol.

let server: TestServer;
let browser: Browser;
beforeAll(async () => {
  server = await startTestServer();
  const owner = await createUserWithToken(server, "ada");
  browser = await openBrowser();
  await browser.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
  await signInThroughPage(browser.page, server.url, "ada", owner.password);
});
afterAll(async () => {
  await browser?.close();
  await closeTestDatabase();
  await server?.close();
});

const workerCard = (page: Page, name: string) => page.getByRole("list", { name: "Your workers" }).getByRole("listitem", { name, exact: true });

async function openWorkersPage(page: Page) {
  await page.goto(`${server.url}/workers`);
  await waitForHydration(page);
}

/** Creates a worker on the page; its token, as the page shows it this once. */
async function createThroughPage(page: Page, name: string): Promise<string> {
  await page.getByLabel("Worker name").fill(name);
  await page.getByRole("button", { name: "Create worker" }).click();
  const token = page.getByLabel("Worker token");
  await token.waitFor();
  return token.inputValue();
}

/** The status badge and the facts of a worker's card, label → value. */
async function cardOf(page: Page, name: string) {
  const card = workerCard(page, name);
  await card.waitFor();
  const facts = await card.locator("dl").evaluateAll((lists) => {
    const found: Record<string, string> = {};
    for (const list of lists) list.querySelectorAll("dt").forEach((term) => (found[term.textContent ?? ""] = term.nextElementSibling?.textContent ?? ""));
    return found;
  });
  return {
    status: await card.getByTestId("worker-status").textContent(),
    seen: await card.getByTestId("last-seen").textContent(),
    disabled: await card.getByText("disabled", { exact: true }).count(),
    facts,
  };
}

describe("workers page", () => {
  test("a new worker's token is shown once with the agent command; the agent connects with it", async () => {
    const { page } = browser;
    await openWorkersPage(page);
    expect(await page.getByText("No workers yet").count()).toBe(1);
    await page.getByRole("link", { name: "Workers" }).waitFor();
    expect(await page.getByRole("link", { name: "Workers" }).getAttribute("aria-current")).toBe("page");

    const token = await createThroughPage(page, "studio-pc");
    expect(token).toMatch(/^ccw_\S{20,}$/);
    // The install line whole from this farm (no package registry): on a phone it wraps,
    // nothing cut off at the side or the bottom.
    const install = page.getByLabel("Install and start on the machine");
    expect(await install.inputValue()).toBe(`curl -fsSL ${server.url}/agent/install.sh | sh -s -- --token ${token}`);
    const command = await install.evaluate((field) => {
      const style = getComputedStyle(field);
      const text = field.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
      return {
        sideways: field.scrollWidth - field.clientWidth,
        hidden: field.scrollHeight - field.clientHeight,
        lines: Math.floor(text / parseFloat(style.lineHeight)),
      };
    });
    expect(command.sideways).toBe(0);
    expect(command.hidden).toBeLessThanOrEqual(0);
    expect(command.lines).toBeGreaterThan(1);
    expect(await page.content()).not.toContain("npx");
    expect(await page.getByLabel("Worker name").inputValue()).toBe("");

    const copy = page.getByRole("status").getByRole("button", { name: "Copy" }).first();
    await copy.click();
    await expect.poll(() => page.getByRole("status").getByRole("button", { name: "Copied" }).count()).toBe(1);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`curl -fsSL ${server.url}/agent/install.sh | sh -s -- --token ${token}`);

    // Listed, never seen: offline until its agent says hello.
    expect(await cardOf(page, "studio-pc")).toMatchObject({ status: "offline", seen: "never seen", disabled: 0, facts: {} });
    await expectFitsPhone(page);
    await page.screenshot({ path: "/tmp/cactus-workers-page.png", fullPage: true });

    const agent = new AgentApi(server, token);
    expect((await agent.hello()).status).toBe(200);
    await openWorkersPage(page);
    expect(await page.content()).not.toContain(token);
    expect(await cardOf(page, "studio-pc")).toEqual({
      status: "idle",
      seen: "seen just now",
      disabled: 0,
      facts: { Blender: HELLO.blenderVersion, Threads: "4", Denoiser: "no", Sandbox: "on (bwrap)", Agent: "0.1.0" },
    });
    await expectFitsPhone(page);
  });

  test("a worker whose agent paused for its owner says so, and why", async () => {
    const { page } = browser;
    await openWorkersPage(page);
    const token = await createThroughPage(page, "desk-pc");
    const agent = new AgentApi(server, token);
    expect((await agent.hello({ ...HELLO, status: "paused", pausedReason: "Blender is open on this machine (blender shot.blend)" })).status).toBe(200);
    await openWorkersPage(page);
    expect(await cardOf(page, "desk-pc")).toMatchObject({ status: "paused", seen: "seen just now" });
    expect(await workerCard(page, "desk-pc").getByTestId("paused-reason").textContent()).toBe(
      "Paused by its owner: Blender is open on this machine (blender shot.blend). It resumes by itself once the machine is quiet.",
    );
    await expectFitsPhone(page);
  });

  test("a second worker of the same name is refused next to the field", async () => {
    const { page } = browser;
    await openWorkersPage(page);
    await page.getByLabel("Worker name").fill("STUDIO-pc");
    await page.getByRole("button", { name: "Create worker" }).click();
    await expect.poll(() => page.locator("#field-name-error").textContent()).toMatch(/already have a worker named "STUDIO-pc"/);
    expect(await page.getByLabel("Worker token").count()).toBe(0);
  });

  test("disable keeps the agent from work (403), enable lets it claim again", async () => {
    const { page } = browser;
    await openWorkersPage(page);
    const token = await createThroughPage(page, "night-box");
    const agent = new AgentApi(server, token);
    expect((await agent.hello()).status).toBe(200);

    await workerCard(page, "night-box").getByRole("button", { name: "Disable night-box" }).click();
    await workerCard(page, "night-box").getByRole("button", { name: "Enable night-box" }).waitFor();
    expect((await cardOf(page, "night-box")).disabled).toBe(1);
    expect((await agent.call("POST", "/agent/claim", {})).status).toBe(403);

    await workerCard(page, "night-box").getByRole("button", { name: "Enable night-box" }).click();
    await workerCard(page, "night-box").getByRole("button", { name: "Disable night-box" }).waitFor();
    expect((await cardOf(page, "night-box")).disabled).toBe(0);
    // Enabled again; nothing to render, so no task.
    await agent.claimNothing();
  });

  test("rename, a taken name refused, and remove: the token stops working", async () => {
    const { page } = browser;
    await openWorkersPage(page);
    const token = await createThroughPage(page, "old-laptop");
    const card = workerCard(page, "old-laptop");
    await card.getByText("Rename or remove").click();

    await card.getByLabel("Name").fill("studio-pc");
    await card.getByRole("button", { name: "Rename" }).click();
    await expect.poll(() => card.locator("[id$=-name-error]").textContent()).toMatch(/already have a worker named/);

    await card.getByLabel("Name").fill("render-laptop");
    await card.getByRole("button", { name: "Rename" }).click();
    await workerCard(page, "render-laptop").waitFor();
    expect(await workerCard(page, "old-laptop").count()).toBe(0);

    const renamed = workerCard(page, "render-laptop");
    if (!(await renamed.locator("details").evaluate((details) => (details as HTMLDetailsElement).open))) {
      await renamed.getByText("Rename or remove").click();
    }
    // Removing asks first; "Keep it" changes nothing.
    await renamed.getByRole("button", { name: "Remove render-laptop" }).click();
    await renamed.getByText("Remove render-laptop? Its agent stops getting work at once").waitFor();
    await renamed.getByRole("button", { name: "Keep it" }).click();
    expect((await new AgentApi(server, token).hello()).status).toBe(200);
    await renamed.getByRole("button", { name: "Remove render-laptop" }).click();
    await renamed.getByRole("button", { name: "Yes, remove it" }).click();
    await expect.poll(() => workerCard(page, "render-laptop").count()).toBe(0);
    expect((await new AgentApi(server, token).hello()).status).toBe(401);
    await expectFitsPhone(page);
  });
});
