import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { creditsSchema, type ClaimedTask } from "../../contract";
import { AgentApi, createWorkerWithToken, pngBytes } from "../helpers/agent-api";
import { openBrowser, type Browser } from "../helpers/browser";
import { farm } from "../helpers/farm";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken, testDatabase } from "../helpers/users";
import { expectFitsPhone, signInThroughPage, waitForHydration } from "./pages";

// Credits in the PWA at phone size: a helper accepts another person's render on Requests;
// the render's owner watches the helper's worker on the render's page (live, as its frames
// are paid), switches it off, changes the price; each reads the ledger on Me. The
// helper's worker is the test, speaking the agent protocol over HTTP.

let server: TestServer;
let ada: Awaited<ReturnType<typeof createUserWithToken>>;
let bo: Awaited<ReturnType<typeof createUserWithToken>>;
let cy: Awaited<ReturnType<typeof createUserWithToken>>;
let agent: AgentApi;
let renderId: number;

beforeAll(async () => {
  server = await startTestServer();
  ada = await createUserWithToken(server, "ada");
  bo = await createUserWithToken(server, "bo");
  const f = farm(testDatabase(server));
  await f.grant(ada.user.id, 100);
  // bo's worker runs Blender sandboxed (its hello says so) at 3 WU a minute.
  agent = new AgentApi(server, (await createWorkerWithToken(server, bo.user.id, { name: "bo-box" })).token);
  expect((await agent.hello()).status).toBe(200);
  const benchmark = { blenderVersion: "3.4.1", cpuModel: "Test CPU", threads: 4, wupm: 3, seconds: 20, renders: 5, spread: 0.02, wallSeconds: 101 };
  expect((await agent.call("POST", "/agent/benchmark", benchmark)).status).toBe(201);
  // cy's worker is online too, and her standing rule takes renders paying 3 credits per WU or more.
  cy = await createUserWithToken(server, "cy");
  const cyAgent = new AgentApi(server, (await createWorkerWithToken(server, cy.user.id, { name: "cy-box" })).token);
  expect((await cyAgent.hello()).status).toBe(200);
  expect((await cyAgent.call("POST", "/agent/benchmark", benchmark)).status).toBe(201);
  const ruled = await fetch(`${server.url}/api/v1/requests/rule`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${cy.token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ minPrice: 3, from: null }),
  });
  expect(ruled.status).toBe(200);
  // ada's render of 6 frames, quoted at 20 WU at most (4 a frame), confirmed at 2 credits per WU: 40 in escrow.
  renderId = await f.confirmed(ada.user.id, { frames: "1-6", priceMilli: 2000, boundWu: 20, frameWu: 4 });
});
afterAll(async () => {
  await closeTestDatabase();
  await server?.close();
});

/** A browser signed in as `username`, closed after `visit`. */
async function asPerson(username: string, password: string, visit: (page: Page) => Promise<void>) {
  const browser: Browser = await openBrowser();
  try {
    await signInThroughPage(browser.page, server.url, username, password);
    await visit(browser.page);
  } finally {
    await browser.close();
  }
}

/** bo's worker renders one frame of its task in a minute (3 WU) and completes the task. */
async function renderFrame(task: ClaimedTask) {
  const upload = await agent.uploadFrame(task.id, task.frameStart!, pngBytes(64, 48, task.frameStart!), { leaseToken: task.leaseToken, renderTimeMs: 60_000 });
  expect(upload.status, await upload.clone().text()).toBe(201);
  expect((await agent.task(task.id, "complete", { leaseToken: task.leaseToken, renderTimeMs: 60_000 })).status).toBe(200);
}

const creditsOf = async (token: string) =>
  creditsSchema.parse(await (await fetch(`${server.url}/api/v1/me/credits`, { headers: { Authorization: `Bearer ${token}` } })).json());

test("bo accepts ada's render on Requests; his worker takes it and he is paid", async () => {
  // Before he answers, his worker is not handed it.
  await agent.claimNothing();
  await asPerson("bo", bo.password, async (page) => {
    await page.goto(`${server.url}/requests`);
    await waitForHydration(page);
    const card = page.getByRole("heading", { name: "scene.blend" }).locator("xpath=ancestor::*[contains(@class, 'mb-3')][1]");
    expect(await card.textContent()).toMatch(/from ada · render \d+.*2\.00credits \/ WU.*6 frames.*Awaits your answer/);
    expect(await card.textContent()).toMatch(/Quote: 16\.0 WU \(12\.0–20\.0\), up to 40\.00 credits for the whole render\./);
    await expectFitsPhone(page);
    await page.screenshot({ path: "/tmp/cactus-requests.png", fullPage: true });
    await card.getByRole("button", { name: "Accept" }).click();
    await expect.poll(() => card.textContent(), { timeout: 5_000 }).toMatch(/Accepted/);
    expect(await card.getByRole("button", { name: "Accept" }).count()).toBe(0);
  });
  const task = await agent.claim();
  expect(task.renderId).toBe(renderId);
  await renderFrame(task);
  const paid = (await creditsOf(bo.token)).balance;
  expect(paid).toBeGreaterThan(0);
  await asPerson("bo", bo.password, async (page) => {
    await page.goto(`${server.url}/me`);
    const ledger = page.getByRole("list", { name: "Ledger" });
    expect(await ledger.getByRole("listitem").first().textContent()).toMatch(new RegExp(`^Earned · render ${renderId}.*\\+${paid.toFixed(2)}$`));
  });
});

test("ada sees bo's worker on her render live, switches it off and changes the price", async () => {
  await asPerson("ada", ada.password, async (page) => {
    await page.goto(`${server.url}/renders/${renderId}`);
    await waitForHydration(page);
    const economy = page.getByRole("heading", { name: "Price and workers" }).locator("..");
    expect(await economy.textContent()).toMatch(/2\.00 credits per WU · \d+\.\d\d in escrow/);
    const row = economy.getByRole("listitem").filter({ hasText: "bo-box" });
    expect(await row.textContent()).toMatch(/bo · 3\.0 WUPM · 1 frames · \d+\.\d+ WU/);
    await page.evaluate(() => ((window as unknown as { unreloaded: boolean }).unreloaded = true));

    // Another frame of bo's: the card follows without the page being loaded again.
    await renderFrame(await agent.claim());
    await expect.poll(() => row.textContent(), { timeout: 5_000 }).toMatch(/2 frames/);
    expect(await page.evaluate(() => (window as unknown as { unreloaded?: boolean }).unreloaded)).toBe(true);
    await expectFitsPhone(page);
    await page.screenshot({ path: "/tmp/cactus-render-economy.png", fullPage: true });

    // bo's worker takes it: no "you have no workers" notice; the credits are what others' workers are paid, at most.
    expect(await page.getByRole("status").filter({ hasText: "no workers" }).count()).toBe(0);
    expect(await page.getByTestId("credits-note").textContent()).toBe("At most: what other people's workers render is paid; your own workers cost nothing.");
    // The expected start at its price, and at a price typed before it is set: dear enough for cy's rule, her worker too.
    const expectedStart = page.getByTestId("expected-start-at-price");
    expect(await expectedStart.textContent()).toBe("At 2.00 credits/WU: nothing ahead; it would begin at once on 1 worker online.");
    await economy.getByLabel("Price per WU").fill("3");
    await expect.poll(() => expectedStart.textContent(), { timeout: 5_000 }).toBe("At 3.00 credits/WU: nothing ahead; it would begin at once on 2 workers online.");
    await economy.getByLabel("Price per WU").fill("2");

    // Off: bo's worker is handed nothing more of it.
    const toggle = row.getByRole("switch", { name: "bo-box on this render" });
    expect(await toggle.getAttribute("aria-checked")).toBe("true");
    await toggle.click();
    await expect.poll(() => row.getByRole("switch").getAttribute("aria-checked"), { timeout: 5_000 }).toBe("false");
    await agent.claimNothing();

    await economy.getByLabel("Price per WU").fill("3");
    await economy.getByRole("button", { name: "Set price" }).click();
    await expect.poll(() => economy.textContent(), { timeout: 5_000 }).toMatch(/3\.00 credits per WU/);
    // At 3, cy's rule accepted it; bo's worker is off.
    await expect.poll(() => expectedStart.textContent(), { timeout: 5_000 }).toBe("At 3.00 credits/WU: nothing ahead; it would begin at once on 1 worker online.");
    // A price the form refuses says why, and nothing changes.
    await economy.getByLabel("Price per WU").fill("-1");
    await economy.getByLabel("Price per WU").evaluate((input) => input.removeAttribute("min"));
    await economy.getByRole("button", { name: "Set price" }).click();
    await expect.poll(() => page.getByRole("alert").first().textContent(), { timeout: 5_000 }).toMatch(/A price is 0 or more credits per WU/);
    expect(await economy.textContent()).toMatch(/3\.00 credits per WU/);
  });
  const credits = await creditsOf(ada.token);
  expect(credits.balance + credits.escrow + (await creditsOf(bo.token)).balance).toBeCloseTo(100, 6);
});
