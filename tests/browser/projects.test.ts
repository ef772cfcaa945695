import { createHash } from "node:crypto";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { projectSchema } from "../../contract";
import { Archive, Render } from "../../db/models";
import { openBrowser, type Browser } from "../helpers/browser";
import { blendBytes, zipBytes } from "../helpers/fixtures";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken, testDatabase } from "../helpers/users";
import { expectFitsPhone, signInThroughPage, waitForHydration } from "./pages";

let server: TestServer;
let browser: Browser;
let owner: Awaited<ReturnType<typeof createUserWithToken>>;
beforeAll(async () => {
  server = await startTestServer();
  testDatabase(server);
  owner = await createUserWithToken(server, "ada");
  browser = await openBrowser();
  await signInThroughPage(browser.page, server.url, "ada", owner.password);
});
afterAll(async () => {
  await browser?.close();
  await closeTestDatabase();
  await server?.close();
});

const projectList = (page: Page) => page.getByRole("list", { name: "Your projects" });
const archiveCard = (page: Page, filename: string) => page.getByRole("listitem", { name: filename, exact: true });

async function createProjectThroughPage(page: Page, name: string) {
  await page.goto(`${server.url}/projects`);
  await waitForHydration(page);
  await page.getByLabel("New project").fill(name);
  await page.getByRole("button", { name: "Create project" }).click();
  // A new project opens, ready for its first upload; the list has it too.
  await page.waitForURL(/\/projects\/\d+$/);
  await page.getByRole("heading", { level: 1, name }).waitFor();
  await page.goto(`${server.url}/projects`);
  await projectList(page).getByRole("link", { name: new RegExp(name) }).waitFor();
}

/** The facts of an archive card, label → value. */
async function factsOf(page: Page, filename: string): Promise<Record<string, string>> {
  const card = archiveCard(page, filename);
  await card.waitFor();
  return card.locator("dl").evaluate((list) => {
    const facts: Record<string, string> = {};
    list.querySelectorAll("dt").forEach((term) => {
      facts[term.textContent ?? ""] = term.nextElementSibling?.textContent ?? "";
    });
    return facts;
  });
}

/** An upload as the CLI makes it, with the owner's API token. */
function uploadThroughApi(projectId: number, query: Record<string, string>, bytes: Buffer) {
  return fetch(`${server.url}/api/v1/projects/${projectId}/archives?${new URLSearchParams(query)}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${owner.token}` },
    body: new Uint8Array(bytes),
  });
}

function projectIdFromUrl(page: Page): number {
  return Number(/\/projects\/(\d+)$/.exec(page.url())?.[1]);
}

describe("projects", () => {
  test("create, and a second project of the same name is refused next to the field", async () => {
    const { page } = browser;
    await createProjectThroughPage(page, "Spring short");
    expect(await page.getByLabel("New project").inputValue()).toBe("");
    expect(await projectList(page).textContent()).toMatch(/Spring short\s*0 archives/);

    await page.getByLabel("New project").fill("spring SHORT");
    await page.getByRole("button", { name: "Create project" }).click();
    await expect.poll(() => page.locator("#field-name-error").textContent()).toMatch(/already have a project named/);
    await expectFitsPhone(page);
  });

  test("rename, and delete; a project with a running render is refused with the reason", async () => {
    const { page } = browser;
    await createProjectThroughPage(page, "Old name");
    const item = projectList(page).getByRole("listitem").filter({ hasText: "Old name" });
    await item.getByText("Rename or delete").click();
    await item.getByLabel("Name").fill("New name");
    await item.getByRole("button", { name: "Rename" }).click();
    await projectList(page).getByRole("link", { name: /New name/ }).waitFor();
    expect(await projectList(page).textContent()).not.toContain("Old name");

    // A render still running keeps its project (and its archive) alive.
    const renamed = projectList(page).getByRole("listitem").filter({ hasText: "New name" });
    const projectId = Number((await renamed.getByRole("link").getAttribute("href"))?.split("/").pop());
    expect((await uploadThroughApi(projectId, { filename: "busy.blend" }, blendBytes({ bodyBytes: 100 }))).status).toBe(201);
    const archive = await Archive.findOne({ where: { projectId } });
    const render = await Render.create({
      archiveId: archive!.id,
      projectId,
      createdBy: owner.user.id,
      frameStart: 1,
      frameEnd: 10,
      outputFormat: "PNG",
      status: "rendering",
    });
    await page.reload();
    await waitForHydration(page);
    const busy = projectList(page).getByRole("listitem").filter({ hasText: "New name" });
    await busy.getByText("Rename or delete").click();
    await busy.getByRole("button", { name: /Delete project/ }).click();
    await expect.poll(() => busy.getByRole("alert").textContent()).toMatch(/1 render still running; cancel it first/);

    await render.update({ status: "done" });
    await busy.getByRole("button", { name: /Delete project/ }).click();
    await expect.poll(() => projectList(page).getByText("New name").count()).toBe(0);
    expect(await Archive.count({ where: { projectId } })).toBe(0);
  });

  test("another user's project is a 404 page", async () => {
    const other = await createUserWithToken(server, "grace");
    const response = await fetch(`${server.url}/api/v1/projects`, {
      method: "POST",
      headers: { Authorization: `Bearer ${other.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "Grace's" }),
    });
    const theirs = projectSchema.parse(await response.json());
    const page404 = await browser.page.goto(`${server.url}/projects/${theirs.id}`);
    expect(page404?.status()).toBe(404);
    expect(await browser.page.getByRole("heading", { level: 1 }).textContent()).toBe("Not found");
    expect((await browser.page.goto(`${server.url}/projects/abc`))?.status()).toBe(404);
  });
});

describe("project page", () => {
  test("a .blend chosen in the file input uploads with progress to 100% and is listed with its facts", async () => {
    const { page } = browser;
    await createProjectThroughPage(page, "Uploads");
    await projectList(page).getByRole("link", { name: /Uploads/ }).click();
    await page.waitForURL(/\/projects\/\d+$/);
    await waitForHydration(page);
    expect(await page.getByText("No archives yet").count()).toBe(1);

    // Big enough to take more than one progress event over loopback.
    const bytes = blendBytes({ bodyBytes: 6 * 1024 * 1024 });
    await page.evaluate(() => {
      const seen: number[] = [];
      (window as unknown as { progressSeen: number[] }).progressSeen = seen;
      new MutationObserver(() => {
        const bar = document.querySelector('[role="progressbar"]');
        if (bar) seen.push(Number(bar.getAttribute("aria-valuenow")));
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["aria-valuenow"] });
    });
    await page.locator("input[type=file]").setInputFiles({ name: "shot010.blend", mimeType: "application/octet-stream", buffer: bytes });
    await page.getByRole("button", { name: "Upload", exact: true }).click();

    await expect.poll(() => page.getByText("100% · Uploaded shot010.blend.").count(), { timeout: 20_000 }).toBe(1);
    expect(await page.getByRole("progressbar").getAttribute("aria-valuenow")).toBe("100");
    const seen = await page.evaluate(() => (window as unknown as { progressSeen: number[] }).progressSeen);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.at(-1)).toBe(100);

    const sha256 = createHash("sha256").update(bytes).digest("hex");
    expect(await factsOf(page, "shot010.blend")).toEqual({
      Size: "6.0 MiB",
      Blender: "3.4",
      Compression: "none",
      // No agent of this user has read it yet: the card says so rather than showing no scene.
      "Scene read": "waiting for one of your agents to read it",
      sha256: sha256.slice(0, 12),
    });
    expect(await archiveCard(page, "shot010.blend").textContent()).toContain("blend");
    await expectFitsPhone(page);
    await page.screenshot({ path: "/tmp/cactus-project-page.png", fullPage: true });
  });

  test("an archive uploaded through the API appears on the page", async () => {
    const { page } = browser;
    await createProjectThroughPage(page, "From the CLI");
    await projectList(page).getByRole("link", { name: /From the CLI/ }).click();
    await page.waitForURL(/\/projects\/\d+$/);
    const zip = zipBytes([
      { name: "scenes/shot020.blend", data: blendBytes({ version: "402", compression: "gzip" }), method: "store" },
      { name: "textures/wall.png", data: Buffer.from("not really a png") },
    ]);
    const query = { filename: "shot020.zip", main: "scenes/shot020.blend" };
    const response = await uploadThroughApi(projectIdFromUrl(page), query, zip);
    expect(response.status).toBe(201);

    await page.reload();
    const facts = await factsOf(page, "shot020.zip");
    expect(facts).toMatchObject({ Blender: "4.2", Compression: "gzip", "Main .blend": "scenes/shot020.blend" });
    expect(await archiveCard(page, "shot020.zip").textContent()).toContain("zip");
  });

  test("a file that is not an archive shows the API's message, and nothing is listed", async () => {
    const { page } = browser;
    await createProjectThroughPage(page, "Mistakes");
    await projectList(page).getByRole("link", { name: /Mistakes/ }).click();
    await page.waitForURL(/\/projects\/\d+$/);
    await waitForHydration(page);
    await page.locator("input[type=file]").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello") });
    await page.getByRole("button", { name: "Upload", exact: true }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/"notes\.txt" is not a \.blend or \.zip/);
    expect(await page.getByText("No archives yet").count()).toBe(1);
  });

  test("a zip asks for its main .blend, which goes along with the upload", async () => {
    const { page } = browser;
    await createProjectThroughPage(page, "Zips");
    await projectList(page).getByRole("link", { name: /Zips/ }).click();
    await page.waitForURL(/\/projects\/\d+$/);
    await waitForHydration(page);
    expect(await page.getByLabel("Main .blend in the zip").count()).toBe(0);
    const zip = zipBytes([
      { name: "a.blend", data: blendBytes({ version: "304" }) },
      { name: "b.blend", data: blendBytes({ version: "401" }) },
    ]);
    await page.locator("input[type=file]").setInputFiles({ name: "two.zip", mimeType: "application/zip", buffer: zip });
    await page.getByLabel("Main .blend in the zip").fill("b.blend");
    await page.getByRole("button", { name: "Upload", exact: true }).click();
    expect(await factsOf(page, "two.zip")).toMatchObject({ Blender: "4.1", "Main .blend": "b.blend" });
  });
});
