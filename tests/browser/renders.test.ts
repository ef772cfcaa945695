import fs from "node:fs/promises";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { ClaimedTask, RenderDto } from "../../contract";
import { AgentApi, createWorkerWithToken, pngBytes, SCENE_FACTS } from "../helpers/agent-api";
import { ArchiveApi, blend, uploaded } from "../helpers/archive-api";
import { openBrowser, type Browser } from "../helpers/browser";
import { renderOf, setWorkerEnabled } from "../helpers/renders";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken, grantCredits } from "../helpers/users";
import { expectFitsPhone, signInThroughPage, waitForHydration } from "./pages";

// Renders in the PWA: requested from the project page, followed live while a worker
// (the test, speaking the agent protocol over HTTP) renders them, stopped from the page.
// The renders run one after another: each test leaves no render its worker could claim.

let server: TestServer;
let browser: Browser;
let api: ArchiveApi;
let agent: AgentApi;
let archive: { id: number; projectId: number };
let owner: Awaited<ReturnType<typeof createUserWithToken>>;
beforeAll(async () => {
  server = await startTestServer();
  owner = await createUserWithToken(server, "ada");
  // A confirmed quote's upper bound goes into escrow (decision 023).
  await grantCredits(server, owner.user.id, 1000);
  api = new ArchiveApi(server, owner.token);
  agent = new AgentApi(server, (await createWorkerWithToken(server, owner.user.id, { name: "box-1" })).token);
  expect((await agent.hello()).status).toBe(200);
  // Its benchmark: 3 WU a minute.
  const benchmark = { blenderVersion: "3.4.1", cpuModel: "Test CPU", threads: 4, wupm: 3, seconds: 20, renders: 5, spread: 0.02, wallSeconds: 101 };
  expect((await agent.call("POST", "/agent/benchmark", benchmark)).status).toBe(201);

  // The scene read by the worker, as its agent would: frames 1-12 at 64×48.
  const project = await api.createProject("Spring short");
  archive = await uploaded(await api.upload(project.id, blend(5000), { filename: "shot.blend" }));
  const inspect = await agent.claim();
  expect(inspect.kind).toBe("inspect");
  expect((await agent.task(inspect.id, "inspection", { leaseToken: inspect.leaseToken, facts: SCENE_FACTS })).status).toBe(200);

  browser = await openBrowser();
  await signInThroughPage(browser.page, server.url, "ada", owner.password);
});
afterAll(async () => {
  await browser?.close();
  await closeTestDatabase();
  await server?.close();
});

const requestRender = async (body: object): Promise<RenderDto> =>
  renderOf(await api.call("/renders", { body: { archiveId: archive.id, ...body } }), 201);

/** The worker renders every frame of its next task (later frames take longer) and completes it. */
async function renderTask(task: ClaimedTask) {
  for (let frame = task.frameStart!; frame <= task.frameEnd!; frame++) {
    const renderTimeMs = 1000 + frame * 100;
    const upload = await agent.uploadFrame(task.id, frame, pngBytes(64, 48, frame), { leaseToken: task.leaseToken, renderTimeMs });
    expect(upload.status, await upload.clone().text()).toBe(201);
  }
  expect((await agent.task(task.id, "complete", { leaseToken: task.leaseToken, renderTimeMs: 1500 })).status).toBe(200);
}

async function openRenderPage(page: Page, id: number) {
  await page.goto(`${server.url}/renders/${id}`);
  await waitForHydration(page);
}

/** Marks the document, so a test can tell the page changed without being loaded again. */
const markDocument = (page: Page) => page.evaluate(() => ((window as unknown as { unreloaded: boolean }).unreloaded = true));
const stillSameDocument = (page: Page) => page.evaluate(() => (window as unknown as { unreloaded?: boolean }).unreloaded === true);

/** Within this only the event stream (polled once a second) brings a change: the fallback reloads every 8 s. */
const LIVE = { timeout: 4_000 };
/** An action's answer and the page's reload after it. */
const SOON = { timeout: 5_000 };

const framesDone = (page: Page) => page.getByRole("progressbar", { name: "Frames done" }).getAttribute("aria-valuenow");
const statusOf = (page: Page) => page.getByTestId("render-status").first().textContent();
const tile = (page: Page, name: string | RegExp) => page.getByRole("list", { name: "Frames" }).getByRole("listitem").filter({ has: page.getByLabel(name) });

/** The project page with the archive's "Render…" form open: the archive's card. */
async function openRenderForm(page: Page) {
  await page.goto(`${server.url}/projects/${archive.projectId}`);
  await waitForHydration(page);
  const card = page.getByRole("listitem", { name: "shot.blend", exact: true });
  await card.getByText("Render…").click();
  return card;
}

describe("a render from request to cancel", () => {
  let renderId: number;
  const SAMPLE = [1, 13, 25, 36, 48];

  test("requested from the project page, quote first: it lands on its page estimating, its sample frames the only ones queued", async () => {
    const { page } = browser;
    const card = await openRenderForm(page);
    expect(await card.getByLabel("Frames", { exact: true }).inputValue()).toBe("1-12");
    await card.getByLabel("Frames", { exact: true }).fill("1-48");
    await card.getByLabel("Frames per task").fill("1");
    await card.getByLabel("Price (credits/WU)").fill("2");
    await card.getByLabel("Format").selectOption("PNG");
    await card.getByLabel(/Quote first/).check();
    await expectFitsPhone(page);
    await page.screenshot({ path: "/tmp/cactus-render-request.png", fullPage: true });
    await card.getByRole("button", { name: "Request render" }).click();

    await page.waitForURL(/\/renders\/\d+$/);
    renderId = Number(/\/renders\/(\d+)$/.exec(page.url())![1]);
    // The URL changes first; the page follows once React has it.
    await page.getByRole("heading", { level: 1, name: `Render ${renderId}` }).waitFor();
    expect(await statusOf(page)).toBe("Estimating");
    expect(await framesDone(page)).toBe("0");
    expect(await page.getByRole("progressbar", { name: "Frames done" }).getAttribute("aria-valuemax")).toBe("48");
    expect(await page.getByTestId("frame-counts").textContent()).toBe("0 / 48 frames · 5 queued");
    const details = await page.getByRole("definition").allTextContents();
    expect(details.slice(0, 4)).toEqual(["1–48", "1 frame (5 tasks)", "PNG", "2 credits / WU"]);
    // One worker: a run of one frame at 5 points, the first frame to the last.
    expect(await page.getByTestId("sample-progress").textContent()).toMatch(/^0 of 5 sample frames in/);
    const tiles = await page.getByRole("list", { name: "Frames" }).getByRole("listitem").allTextContents();
    expect(tiles).toHaveLength(5);
    for (const frame of SAMPLE) expect(await page.getByLabel(`Frame ${frame}: queued`).count()).toBe(1);
    await expectFitsPhone(page);
  });

  test("a bad chunk is refused on the project page with the reason", async () => {
    const { page } = browser;
    const card = await openRenderForm(page);
    await card.getByLabel("Frames", { exact: true }).fill("3-4");
    await card.getByLabel("Frames per task").fill("5");
    await card.getByRole("button", { name: "Request render" }).click();
    await expect.poll(() => card.getByRole("alert").textContent(), SOON).toMatch(/chunk of 5 frames is longer than the 2 frames/);
    expect(page.url()).toBe(`${server.url}/projects/${archive.projectId}`);
  });

  test("the quote card and the graph fill in live as sample frames land; quoted, Confirm queues the rest", async () => {
    const { page } = browser;
    await openRenderPage(page, renderId);
    await markDocument(page);

    const first = await agent.claim();
    expect(first).toMatchObject({ kind: "render", renderId, frameStart: 1, frameEnd: 1 });
    await tile(page, "Frame 1: rendering").waitFor(LIVE);
    await expect.poll(() => page.getByRole("list", { name: "Workers on this render" }).textContent(), LIVE).toMatch(/box-1\s*0 frames\s*rendering/);
    await renderTask(first);
    // The first sample frame in: an estimate, and the graph with it.
    await expect.poll(() => page.getByTestId("sample-progress").textContent(), LIVE).toMatch(/^1 of 5 sample frames in/);
    await expect.poll(() => page.getByTestId("quote").textContent(), LIVE).toMatch(/^Total[\d.]+ WU/);
    // The summary comes with the event; the curve with the page's data, reloaded after it.
    await expect.poll(() => page.getByTestId("wu-graph").locator("[data-done]").count(), LIVE).toBe(1);
    await page.screenshot({ path: "/tmp/cactus-render-sampling.png", fullPage: true });

    for (const frame of SAMPLE.slice(1)) {
      const task = await agent.claim();
      expect(task.frameStart).toBe(frame);
      await renderTask(task);
    }
    await expect.poll(() => statusOf(page), LIVE).toBe("Quoted");
    // Frames cost (1 s + 0.1 s a frame) × 3 WUPM: a ramp the sample points measure, 8.28 WU for 48 frames; 2 credits a WU.
    const quote = page.getByTestId("quote");
    await expect.poll(() => quote.textContent(), LIVE).toMatch(/^Total8\.28 WU \(\d\.\d\d–[\d.]+\)Credits16\.56 \(/);
    expect(await quote.textContent()).toMatch(/Takes(about [\d ]+(s|min)[\d s]* once confirmed|— no worker)/);
    const graph = page.getByTestId("wu-graph");
    await expect.poll(() => graph.locator("[data-sampled]").count(), LIVE).toBe(5);
    await expect.poll(() => graph.locator("[data-done]").count(), LIVE).toBe(5);
    expect(await graph.getAttribute("aria-label")).toMatch(/^WU per frame from frame 1 to 48: 5 of 48 points rendered, 5 sampled; from 0\.0\d to 0\.(29|30) WU a frame\.$/);
    expect(await page.getByText("A work unit (WU) is the work of rendering").count()).toBe(1);
    await expectFitsPhone(page);
    await page.screenshot({ path: "/tmp/cactus-render-quote.png", fullPage: true });

    await page.getByRole("button", { name: "Confirm — render the other 43 frames" }).click();
    await expect.poll(() => statusOf(page), SOON).toBe("Queued");
    await expect.poll(() => page.getByRole("list", { name: "Frames" }).getByRole("listitem").count(), LIVE).toBe(48);
    expect(await page.getByRole("button", { name: /Confirm/ }).count()).toBe(0);
    expect(await stillSameDocument(page)).toBe(true);
  });

  test("the page follows the worker live: rendering, then the frame done with its thumbnail and its place on the graph", async () => {
    const { page } = browser;
    await openRenderPage(page, renderId);
    await markDocument(page);

    const task = await agent.claim();
    expect(task).toMatchObject({ kind: "render", renderId, frameStart: 2, frameEnd: 2 });
    await tile(page, "Frame 2: rendering").waitFor(LIVE);
    await expect.poll(() => statusOf(page), LIVE).toBe("Rendering");

    await renderTask(task);
    await expect.poll(() => framesDone(page), LIVE).toBe("6");
    // The frame is done when it is uploaded, the task once completed: a poll may show the moment between.
    await expect.poll(() => page.getByTestId("frame-counts").textContent(), LIVE).toBe("6 / 48 frames · 42 queued");
    await expect.poll(() => page.getByTestId("wu-graph").locator("[data-done]").count(), LIVE).toBe(6);
    const thumbnail = tile(page, /^Frame 2: open/).locator("img");
    await thumbnail.waitFor(LIVE);
    await expect.poll(() => thumbnail.evaluate((image) => (image as HTMLImageElement).naturalWidth), LIVE).toBeGreaterThan(0);
    await expect.poll(() => page.getByRole("list", { name: "Workers on this render" }).textContent(), LIVE).toMatch(/box-1\s*6 frames$/);
    expect(await stillSameDocument(page)).toBe(true);

    // Tapping a done frame shows it full size, with its facts and a download.
    await tile(page, /^Frame 2: open/).getByRole("link").click();
    const viewer = page.getByRole("dialog", { name: "Frame 2" });
    const full = viewer.getByRole("img", { name: `Frame 2 of render ${renderId}` });
    await expect.poll(() => full.evaluate((image) => (image as HTMLImageElement).naturalWidth), LIVE).toBe(64);
    expect(await viewer.textContent()).toMatch(/64×48 · [\d.]+ KiB · by box-1 · in 1 s/);
    const [download] = await Promise.all([page.waitForEvent("download"), viewer.getByRole("link", { name: "Download shot_00002.png" }).click()]);
    expect(download.suggestedFilename()).toBe("shot_00002.png");
    expect(await fs.readFile((await download.path())!)).toEqual(pngBytes(64, 48, 2));
    await expectFitsPhone(page);
    await viewer.getByRole("button", { name: "Close" }).click();
    expect(await viewer.count()).toBe(0);
    await page.screenshot({ path: "/tmp/cactus-render-page.png", fullPage: true });
  });

  test("pause, resume and cancel from the page", async () => {
    const { page } = browser;
    await openRenderPage(page, renderId);
    await page.getByRole("button", { name: "Pause" }).click();
    await expect.poll(() => statusOf(page), SOON).toBe("Paused");
    await agent.claimNothing();

    await page.getByRole("button", { name: "Resume" }).click();
    await page.getByRole("button", { name: "Pause" }).waitFor();
    expect(await statusOf(page)).not.toBe("Paused");

    // Cancelling asks first; "Keep it" changes nothing.
    await page.getByRole("button", { name: "Cancel render" }).click();
    await page.getByRole("button", { name: "Keep it" }).click();
    await page.getByRole("button", { name: "Cancel render" }).click();
    await page.getByText(`Cancel render ${renderId}? Its 6 rendered frames stay to download`).waitFor(SOON);
    await page.getByRole("button", { name: "Yes, cancel it" }).click();
    await expect.poll(() => statusOf(page), SOON).toBe("Cancelled");
    expect(await page.getByRole("button", { name: /Pause|Resume|Cancel/ }).count()).toBe(0);
    expect(await page.getByLabel("Frame 3: cancelled").count()).toBe(1);
    expect(await page.getByRole("link", { name: "Download the 6 rendered frames (zip)" }).count()).toBe(1);
    await agent.claimNothing();
  });
});

describe("render page", () => {
  test("without its event stream it still updates, and a change refused meanwhile shows why", async () => {
    const { page } = browser;
    const render = await requestRender({ frames: "1-2" });
    // A proxy that cuts event streams: the page falls back to reloading its data.
    await page.route(`**/api/v1/renders/${render.id}/events?**`, (route) => route.abort());
    try {
      await openRenderPage(page, render.id);
      await markDocument(page);
      // The page says its updates are cut off, and still follows the render by reloading.
      await page.getByRole("status").filter({ hasText: "Reconnecting…" }).waitFor(SOON);
      await renderTask(await agent.claim());
      await expect.poll(() => framesDone(page), { timeout: 20_000 }).toBe("1");
      expect(await stillSameDocument(page)).toBe(true);

      // Cancelled elsewhere (the CLI), the page does not know yet: its Pause is a 409 with the reason.
      expect((await api.call(`/renders/${render.id}/cancel`, { method: "POST" })).status).toBe(200);
      await page.getByRole("button", { name: "Pause" }).click();
      await expect.poll(() => page.getByRole("alert").textContent(), SOON).toBe(
        `Render ${render.id} is cancelled; only a render that is still running can be paused.`,
      );
      await expect.poll(() => statusOf(page), SOON).toBe("Cancelled");
    } finally {
      await page.unroute(`**/api/v1/renders/${render.id}/events?**`);
    }
  });

  test("done: every frame has its thumbnail and the zip downloads", async () => {
    const { page } = browser;
    const render = await requestRender({ frames: "1-3", chunk: 3, format: "PNG" });
    await openRenderPage(page, render.id);
    await renderTask(await agent.claim());
    await expect.poll(() => statusOf(page), LIVE).toBe("Done");
    expect(await page.getByTestId("frame-counts").textContent()).toBe("3 / 3 frames");
    await expect.poll(() => page.getByRole("list", { name: "Frames" }).locator("img").count(), LIVE).toBe(3);

    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download all (zip)" }).click()]);
    expect(download.suggestedFilename()).toBe(`shot_render${render.id}.zip`);
    const zip = await fs.readFile((await download.path())!);
    expect(zip.subarray(0, 4)).toEqual(Buffer.from("PK\x03\x04", "latin1"));
    for (const frame of [1, 2, 3]) expect(zip.includes(Buffer.from(`shot_0000${frame}.png`))).toBe(true);
  });

  test("failed: the page says which frame failed and why, and lists the failures with Blender's log", async () => {
    const { page } = browser;
    const render = await requestRender({ frames: "5" });
    await openRenderPage(page, render.id);
    // Three different workers fail the frame: it fails, and the render with it.
    const agents = [agent];
    for (const name of ["box-2", "box-3"]) agents.push(new AgentApi(server, (await createWorkerWithToken(server, owner.user.id, { name })).token));
    for (const [index, worker] of agents.entries()) {
      const task = await worker.claim();
      const error = `Error: Out of memory on try ${index + 1}`;
      // A log longer than its box, with a path too long for a phone's width.
      const log = [...Array.from({ length: 40 }, (_, line) => `Fra:5 Mem:${line}.00M | Sample ${line}/128`), `/home/ada/${"long-folder-name/".repeat(12)}shot.blend`, error];
      expect((await worker.task(task.id, "fail", { leaseToken: task.leaseToken, error, logTail: log.join("\n") })).status).toBe(200);
    }
    await expect.poll(() => statusOf(page), LIVE).toBe("Failed");
    await expect.poll(() => page.getByRole("alert").textContent(), LIVE).toBe("Frame 5 failed on 3 workers; the last error: Error: Out of memory on try 3");
    await expect.poll(() => page.getByLabel("Frame 5: failed").count(), LIVE).toBe(1);
    expect(await page.getByRole("button", { name: /Pause|Resume|Cancel/ }).count()).toBe(0);

    // The failures, newest first, closed until asked for.
    const failures = page.getByText("Failures (3)");
    await failures.waitFor(LIVE);
    const log = page.getByLabel("Log of frame 5 on box-3");
    expect(await log.isVisible()).toBe(false);
    await failures.click();
    const items = page.getByRole("list", { name: "Failures" }).getByRole("listitem");
    expect(await items.count()).toBe(3);
    expect(await items.first().textContent()).toMatch(/^Frame 5 · box-3 · .*\d{1,2}:\d\d.*Error: Out of memory on try 3/);
    expect(await log.textContent()).toMatch(/^Fra:5 Mem:0\.00M \| Sample 0\/128\n[\s\S]*shot\.blend\nError: Out of memory on try 3$/);
    // The box scrolls rather than stretching the page, opened at the log's end.
    expect(await log.evaluate((box) => box.scrollHeight > box.clientHeight)).toBe(true);
    await expect.poll(() => log.evaluate((box) => box.scrollTop > 0 && box.scrollTop + box.clientHeight >= box.scrollHeight - 1), LIVE).toBe(true);
    await expectFitsPhone(page);
    await page.screenshot({ path: "/tmp/cactus-render-failures.png", fullPage: true });
  });

  test("a render no worker can take says why, until a worker is enabled again", async () => {
    const { page } = browser;
    const render = await requestRender({ frames: "6" });
    const { workers } = (await (await api.call("/workers")).json()) as { workers: { id: number; enabled: boolean }[] };
    const setEnabled = (id: number, enabled: boolean) => setWorkerEnabled(api, id, enabled);
    for (const worker of workers) await setEnabled(worker.id, false);
    try {
      await openRenderPage(page, render.id);
      const notice = page.getByRole("status").filter({ hasText: "None of your workers is enabled" });
      expect(await notice.textContent()).toMatch(/enable one on the Workers page \(`cactus worker enable NAME`\)/);
      await expectFitsPhone(page);
      await setEnabled(workers[0].id, true);
      await expect.poll(() => notice.count(), LIVE).toBe(0);
    } finally {
      for (const worker of workers) await setEnabled(worker.id, worker.enabled);
      expect((await api.call(`/renders/${render.id}/cancel`, { method: "POST" })).status).toBe(200);
    }
  });

  test("another user's render is a 404 page", async () => {
    const other = new ArchiveApi(server, (await createUserWithToken(server, "grace")).token);
    const project = await other.createProject();
    const theirs = await uploaded(await other.upload(project.id, blend(7000), { filename: "theirs.blend" }));
    const render = await renderOf(await other.call("/renders", { body: { archiveId: theirs.id, frames: "1-2" } }), 201);
    expect((await browser.page.goto(`${server.url}/renders/${render.id}`))?.status()).toBe(404);
    expect(await browser.page.getByRole("heading", { level: 1 }).textContent()).toBe("Not found");
    expect((await browser.page.goto(`${server.url}/renders/x1`))?.status()).toBe(404);
  });
});

describe("a render of 10 000 frames", () => {
  test("its page loads a page of 120 frames, pages on, jumps to a frame's page, and follows the page's frames live", async () => {
    const { page } = browser;
    const render = await requestRender({ frames: "1-10000" });
    try {
      // Its sample first (at each of 5 points a frame per enabled worker); quoted, it carries on by itself with all its frames queued.
      expect(render).toMatchObject({ status: "estimating", sample: { frames: expect.any(Number) } });
      for (let sampled = 0; sampled < render.sample.frames; sampled++) await renderTask(await agent.claim());
      expect((await renderOf(await api.call(`/renders/${render.id}`))).status).toBe("queued");
      await openRenderPage(page, render.id);
      const tiles = page.getByRole("list", { name: "Frames" }).getByRole("listitem");
      expect(await tiles.count()).toBe(120);
      expect(await page.getByRole("navigation", { name: "Pages of frames" }).first().textContent()).toMatch(/Frames 1–120 · page 1 of 84/);
      expect(await page.getByTestId("frame-counts").textContent()).toMatch(new RegExp(`^${render.sample.frames} / 10,000 frames`));
      await expectFitsPhone(page);

      await markDocument(page);
      const task = await agent.claim();
      // The first frame after the first point's run of sample frames (5 points, the same run at each).
      const next = render.sample.frames / 5 + 1;
      expect(task.frameStart).toBe(next);
      await tile(page, `Frame ${next}: rendering`).waitFor(LIVE);
      expect(await stillSameDocument(page)).toBe(true);
      expect((await agent.task(task.id, "release", { leaseToken: task.leaseToken })).status).toBe(200);
      await tile(page, `Frame ${next}: queued`).waitFor(LIVE);

      await page.getByRole("link", { name: "Next frames" }).first().click();
      await page.waitForURL(`${server.url}/renders/${render.id}?page=2`);
      await tile(page, "Frame 121: queued").waitFor();
      expect(await tiles.count()).toBe(120);

      await page.goto(`${server.url}/renders/${render.id}?frame=5000`);
      // Queued, or done when it was a sample frame.
      await tile(page, /^Frame 5000: (queued|open)/).waitFor();
      expect(await page.getByRole("navigation", { name: "Pages of frames" }).first().textContent()).toMatch(/Frames 4,921–5,040 · page 42 of 84/);
    } finally {
      expect((await api.call(`/renders/${render.id}/cancel`, { method: "POST" })).status).toBe(200);
    }
  });
});

describe("renders list", () => {
  test("newest first with status and progress, following a running render live", async () => {
    const { page } = browser;
    const render = await requestRender({ frames: "1-4" });
    await page.goto(`${server.url}/renders`);
    await waitForHydration(page);
    await markDocument(page);
    const list = page.getByRole("list", { name: "Your renders" });
    const item = (id: number) => list.getByRole("listitem", { name: `Render ${id}`, exact: true });
    const names = await list.getByRole("listitem").evaluateAll((items) => items.map((item) => item.getAttribute("aria-label")));
    expect(names[0]).toBe(`Render ${render.id}`);
    expect(names).toHaveLength(7);
    expect(await item(render.id).textContent()).toMatch(/shot\.blend\s*Render \d+\s*Queued\s*0 \/ 4 frames/);
    // The first render of the page's tests: cancelled after one frame.
    expect(await list.getByRole("listitem").last().textContent()).toMatch(/Cancelled\s*6 \/ 48 frames · [\d.]+ WU$/);

    await renderTask(await agent.claim());
    await expect.poll(() => item(render.id).getByTestId("frame-counts").textContent(), LIVE).toBe("1 / 4 frames · 3 queued");
    expect(await item(render.id).getByTestId("render-status").textContent()).toBe("Rendering");
    expect(await item(render.id).getByRole("progressbar").getAttribute("aria-valuenow")).toBe("1");

    expect((await api.call(`/renders/${render.id}/cancel`, { method: "POST" })).status).toBe(200);
    await expect.poll(() => item(render.id).getByTestId("render-status").textContent(), LIVE).toBe("Cancelled");
    expect(await stillSameDocument(page)).toBe(true);
    await expectFitsPhone(page);
    await page.screenshot({ path: "/tmp/cactus-renders-list.png", fullPage: true });

    await item(render.id).getByRole("link").click();
    await page.waitForURL(`${server.url}/renders/${render.id}`);
  });
});
