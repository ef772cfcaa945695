import { afterAll, beforeAll, expect, test } from "vitest";
import { AgentApi, createWorkerWithToken } from "../helpers/agent-api";
import { ArchiveApi, blend, uploaded } from "../helpers/archive-api";
import { openBrowser, type Browser } from "../helpers/browser";
import { sceneFacts } from "../helpers/scenes";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken } from "../helpers/users";
import { expectFitsPhone, signInThroughPage, waitForHydration } from "./pages";

// What an agent found in a scene, on a phone: the facts on the project page, what a render
// of it as it is would meet (refused: no camera set; warned: a missing texture, Python),
// the request form's scene options, and the render page's scene as rendered.

let server: TestServer;
let browser: Browser;
let projectId: number;
beforeAll(async () => {
  server = await startTestServer();
  const owner = await createUserWithToken(server, "sculptor");
  const api = new ArchiveApi(server, owner.token);
  const agent = new AgentApi(server, (await createWorkerWithToken(server, owner.user.id, { name: "box" })).token);
  expect((await agent.hello()).status).toBe(200);
  projectId = (await api.createProject("Sculpts")).id;
  await uploaded(await api.upload(projectId, blend(8100), { filename: "startup.blend" }));
  const inspect = await agent.claim();
  // As Blender's Sculpting template reads: a camera in the scene, not the scene's camera.
  const facts = sceneFacts({ activeCamera: null, missingFiles: ["//brushes/clay.png"], scripts: ["registered text setup.py"] });
  expect((await agent.task(inspect.id, "inspection", { leaseToken: inspect.leaseToken, facts })).status).toBe(200);
  browser = await openBrowser();
  await signInThroughPage(browser.page, server.url, "sculptor", owner.password);
});
afterAll(async () => {
  await browser?.close();
  await closeTestDatabase();
  await server?.close();
});

const SOON = { timeout: 5_000 };

test("the project page shows the scene's facts and what a render of it would meet; the form takes a camera and a percentage", async () => {
  const { page } = browser;
  await page.goto(`${server.url}/projects/${projectId}`);
  await waitForHydration(page);
  const card = page.getByRole("listitem", { name: "startup.blend", exact: true });
  const facts = card.locator('dl[aria-label="Scene facts"]');
  const row = async (name: string) => (await facts.getByText(name, { exact: true }).locator("xpath=following-sibling::dd[1]").textContent())?.trim();
  expect(await row("Engine")).toBe("Cycles · 4 samples");
  expect(await row("Camera")).toBe("none set (cameras in the file: Camera)");
  expect(await row("Frames")).toBe("1–12 at 24 fps");
  expect(await row("View layers")).toBe("ViewLayer");
  expect(await row("Missing files")).toBe("1");
  expect(await card.getByRole("alert").textContent()).toContain('Scene "Scene" has no camera; the file has the camera object "Camera"');
  expect(await card.getByRole("status").textContent()).toMatch(/A file the scene uses is not in the archive: "\/\/brushes\/clay.png"/);
  await expectFitsPhone(page);
  await page.screenshot({ path: "/tmp/cactus-scene-facts.png", fullPage: true });

  await card.getByText("Render…").click();
  // As it is: refused, with the camera to choose.
  await card.getByRole("button", { name: "Request render" }).click();
  await expect.poll(() => card.getByRole("alert").last().textContent(), SOON).toMatch(/pass --camera Camera \(or choose it as the render's camera\)/);
  // Strict refuses the missing texture.
  await card.getByLabel("Camera").selectOption("Camera");
  await card.getByLabel("Refuse the render: files the scene uses are missing").check();
  await card.getByRole("button", { name: "Request render" }).click();
  await expect.poll(() => card.getByRole("alert").last().textContent(), SOON).toMatch(/Refused because strict is on/);
  await card.getByLabel("Refuse the render: files the scene uses are missing").uncheck();
  // 0 % is stopped by the browser before it is sent (the server refuses it too).
  await card.getByLabel("Resolution %").fill("0");
  expect(await card.getByLabel("Resolution %").evaluate((input) => (input as HTMLInputElement).validity.rangeUnderflow)).toBe(true);
  await card.getByLabel("Resolution %").fill("50");
  await expectFitsPhone(page);
  await page.screenshot({ path: "/tmp/cactus-scene-form.png", fullPage: true });
  await card.getByRole("button", { name: "Request render" }).click();

  await page.waitForURL(/\/renders\/\d+$/);
  const scene = page.locator('dl[aria-label="Scene as rendered"]');
  await scene.waitFor();
  const rendered = Object.fromEntries(
    await scene.locator("dt").evaluateAll((terms) => terms.map((term) => [term.textContent, term.nextElementSibling?.textContent])),
  );
  expect(rendered).toEqual({
    Scene: "Scene",
    Engine: "Cycles",
    Camera: "Camera (set for this render)",
    "View layers": "ViewLayer",
    Samples: "4",
    Size: "32×24 (50 %) (set for this render)",
  });
  const warnings = await page.getByRole("status").filter({ hasText: "Rendered, but maybe not as meant" }).textContent();
  expect(warnings).toMatch(/"\/\/brushes\/clay.png".*Python the farm never runs \("registered text setup.py"\)/);
  await expectFitsPhone(page);
  await page.screenshot({ path: "/tmp/cactus-scene-render.png", fullPage: true });
}, 60_000);
