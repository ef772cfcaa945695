import { http, HttpResponse } from "msw";
import { expect, test } from "vitest";
import type { RenderDto } from "../../../contract";
import { apiError, render } from "../../testing/fixtures";
import { API, cactus, loggedIn, setupCliTest } from "../../testing/run";

// render request, list, status (and --watch), cancel, pause, resume. Downloads: download.test.ts.

const server = setupCliTest();

const HASH = "ab".repeat(32);

/** Records each render request's body and answers the render. */
function acceptRequests(answer = render()): unknown[] {
  const bodies: unknown[] = [];
  server.use(
    http.post(`${API}/renders`, async ({ request }) => {
      bodies.push(await request.json());
      return HttpResponse.json(answer, { status: 201 });
    }),
  );
  return bodies;
}

test("render request sends the archive, frames and format; prints the id, or the render as JSON", async () => {
  await loggedIn();
  const bodies = acceptRequests();
  const human = await cactus(["render", "request", "--archive", "7", "--frames", "1-24"]);
  expect(human).toMatchObject({ code: 0, stdout: "12\n" });
  expect(human.stderr).toContain("Render 12 queued: frames 1-24 of shot.blend. 24 tasks queued. Follow it with `cactus render status 12 --watch`.");
  const json = await cactus(["render", "request", "-a", HASH, "-f", "1-240:10", "--format", "exr", "--chunk", "1", "--price", "2.5", "--json"]);
  expect(json.code).toBe(0);
  expect(JSON.parse(json.stdout)).toMatchObject({ id: 12, status: "queued", tasks: 24 });
  await cactus(["render", "request", "--archive", "7", "--format", "JPG"]);
  expect(bodies).toEqual([
    { archiveId: 7, format: "PNG", frames: "1-24" },
    { archiveHash: HASH, format: "OPEN_EXR", frames: "1-240:10", chunk: 1, price: 2.5 },
    { archiveId: 7, format: "JPEG" },
  ]);
});

test.each([
  [["--archive", "7", "--format", "tiff"], "--format tiff is not one the workers write; use png, jpeg or exr"],
  [["--archive", "shot.blend"], '--archive takes an archive id (like 7) or its sha256; got "shot.blend"'],
  [["--frames", "1-24"], "Missing required argument: archive"],
])("render request %j is a usage error (exit 2) and sends nothing", async (argv, message) => {
  await loggedIn();
  const bodies = acceptRequests();
  const result = await cactus(["render", "request", ...argv]);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain(message);
  expect(bodies).toEqual([]);
});

test.each([
  [400, "bad_request", "Frames 24-1 are reversed; write 1-24.", 1],
  [422, "unprocessable", "The scene's frame range is not known yet; give --frames, e.g. --frames 1-24.", 1],
  [404, "not_found", "You have no archive 8.", 4],
  [401, "unauthorized", "This API token is not valid.", 3],
])("render request answered %i exits with the server's message and code %#", async (status, code, message, exit) => {
  await loggedIn();
  server.use(http.post(`${API}/renders`, () => HttpResponse.json(apiError(code, message), { status })));
  const result = await cactus(["render", "request", "--archive", "8", "--frames", "24-1"]);
  expect(result.code).toBe(exit);
  expect(result.stderr).toContain(message);
});

test("render list prints a table, or JSON", async () => {
  await loggedIn();
  const renders = [
    render({ id: 13, status: "rendering", frameStart: 1, frameEnd: 240, frameStep: 10, frames: { total: 24, done: 5, failed: 0, rendering: 2, queued: 17 } }),
    render({ id: 12, status: "done", format: "JPEG", price: 1.5, frames: { total: 24, done: 24, failed: 0, rendering: 0, queued: 0 } }),
  ];
  server.use(http.get(`${API}/renders`, () => HttpResponse.json({ renders })));
  expect(JSON.parse((await cactus(["render", "list", "--json"])).stdout)).toEqual({ renders });
  const human = await cactus(["render", "list"]);
  expect(human.stdout).toMatch(/│ id\s+│ status\s+│ archive\s+│ frames\s+│ done\s+│ format │ price │ requested\s+│/);
  expect(human.stdout).toMatch(/│ 13\s+│ rendering │ shot\.blend │ 1-240:10 │ 5\/24\s+│ PNG\s+│ 0\s+│ 2026-11-24 10:00 UTC │/);
  expect(human.stdout).toMatch(/│ 12\s+│ done\s+│ shot\.blend │ 1-24\s+│ 24\/24 │ JPEG\s+│ 1\.5\s+│/);
});

const rendering = render({
  status: "rendering",
  frames: { total: 24, done: 10, failed: 0, rendering: 2, queued: 12 },
  workers: [
    { id: 3, name: "studio-pc", framesDone: 8, rendering: true },
    { id: 4, name: "laptop", framesDone: 2, rendering: false },
  ],
});

test("render status shows frames by status and the workers on it; --json is the render", async () => {
  await loggedIn();
  server.use(http.get(`${API}/renders/12`, () => HttpResponse.json(rendering)));
  const json = await cactus(["render", "status", "12", "--json"]);
  expect(JSON.parse(json.stdout)).toMatchObject({ id: 12, status: "rendering", frames: rendering.frames, workers: rendering.workers });
  const human = await cactus(["render", "status", "12"]);
  expect(human.code).toBe(0);
  expect(human.stdout).toBe(
    "Render 12 · shot.blend · rendering\n" +
      "frames 1-24 · PNG · chunk 1 · price 0 · requested 2026-11-24 10:00 UTC\n" +
      "██████████░░░░░░░░░░░░░░ 10/24 done · 2 rendering · 12 queued · 0 failed\n" +
      "workers: studio-pc 8 (rendering), laptop 2\n",
  );
});

test("render status of a quoted render says what confirming does, also when every frame was a sample", async () => {
  await loggedIn();
  const estimate = {
    totalWu: 1.22,
    band: { low: 1.22, high: 1.22 },
    credits: { low: 0, mid: 0, high: 0 },
    etaSeconds: 0,
    framesMeasured: 4,
    updatedAt: "2026-11-24T10:05:00.000Z",
  };
  const allSampled = render({ id: 2, status: "quoted", estimateOnly: true, sample: { frames: 4, done: 4 }, estimate, frames: { total: 4, done: 4, failed: 0, rendering: 0, queued: 0 } });
  const someLeft = render({ id: 3, status: "quoted", estimateOnly: true, sample: { frames: 4, done: 4 }, estimate, frames: { total: 24, done: 4, failed: 0, rendering: 0, queued: 0 } });
  server.use(
    http.get(`${API}/renders/2`, () => HttpResponse.json(allSampled)),
    http.get(`${API}/renders/3`, () => HttpResponse.json(someLeft)),
  );
  const all = await cactus(["render", "status", "2"]);
  expect(all.stdout).toContain("estimate: 1.22 WU\n");
  expect(all.stdout).toContain("quoted: `cactus render confirm 2` accepts the quote: every frame is already rendered\n");
  expect((await cactus(["render", "status", "3"])).stdout).toContain("quoted: `cactus render confirm 3` renders the rest\n");
});

test("render status of an unknown render exits 4; a bad id exits 2", async () => {
  await loggedIn();
  server.use(http.get(`${API}/renders/99`, () => HttpResponse.json(apiError("not_found", "You have no render 99."), { status: 404 })));
  const unknown = await cactus(["render", "status", "99"]);
  expect(unknown.code).toBe(4);
  expect(unknown.stderr).toContain("You have no render 99.");
  const bad = await cactus(["render", "status", "twelve"]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('The render\'s id must be a positive whole number, like 12; got "twelve"');
});

/** An event stream answer sending these renders (as the server does), then ending. */
function eventStream(renders: RenderDto[]): HttpResponse<ReadableStream> {
  const encoder = new TextEncoder();
  const body = new ReadableStream({
    start(controller) {
      controller.enqueue(encoder.encode("retry: 3000\n\n: keep-alive\n\n"));
      for (const each of renders) controller.enqueue(encoder.encode(`event: render\r\ndata: ${JSON.stringify(each)}\r\n\r\n`));
      controller.close();
    },
  });
  return new HttpResponse(body, { headers: { "Content-Type": "text/event-stream; charset=utf-8" } });
}

const done = render({ status: "done", frames: { total: 24, done: 24, failed: 0, rendering: 0, queued: 0 } });

test("render status --watch follows the events until the render is done, then exits 0", async () => {
  await loggedIn();
  server.use(http.get(`${API}/renders/12/events`, () => eventStream([render(), rendering, done])));
  const result = await cactus(["render", "status", "12", "--watch"]);
  expect(result.code).toBe(0);
  expect(result.stdout).toBe(
    "render 12 queued: 0/24 done, 0 rendering, 24 queued, 0 failed\n" +
      "render 12 rendering: 10/24 done, 2 rendering, 12 queued, 0 failed\n" +
      "render 12 done: 24/24 done, 0 rendering, 0 queued, 0 failed\n",
  );
});

test("render status --watch on a terminal redraws the view in place", async () => {
  await loggedIn();
  server.use(http.get(`${API}/renders/12/events`, () => eventStream([rendering, done])));
  const result = await cactus(["render", "status", "12", "--watch"], { stdoutTTY: true });
  expect(result.code).toBe(0);
  const [first, second] = result.stdout.split("\u001b[4A\u001b[0J");
  expect(first).toContain("10/24 done");
  expect(second).toMatch(/^Render 12 · shot\.blend · done\n.*\n.*24\/24 done/);
});

test("render status --watch exits 1 when the render fails or is cancelled, saying why", async () => {
  await loggedIn();
  const failed = render({ status: "failed", failure: "Frame 7 failed on 3 workers; the last error: Error: Out of memory" });
  server.use(http.get(`${API}/renders/12/events`, () => eventStream([rendering, failed])));
  const result = await cactus(["render", "status", "12", "--watch", "--json"]);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain("render 12 failed: Frame 7 failed on 3 workers; the last error: Error: Out of memory");
  // --json --watch: one JSON line per change.
  expect(result.stdout.trim().split("\n").map((line) => JSON.parse(line).status)).toEqual(["rendering", "failed"]);

  server.use(http.get(`${API}/renders/12/events`, () => eventStream([render({ status: "cancelled" })])));
  const cancelled = await cactus(["render", "status", "12", "--watch"]);
  expect(cancelled.code).toBe(1);
  expect(cancelled.stderr).toContain("render 12 cancelled");
});

test("render status --watch connects again when the stream ends before the render does", async () => {
  await loggedIn();
  let connections = 0;
  server.use(http.get(`${API}/renders/12/events`, () => eventStream(++connections === 1 ? [rendering] : [done])));
  const result = await cactus(["render", "status", "12", "--watch"]);
  expect(result.code).toBe(0);
  expect(connections).toBe(2);
  expect(result.stdout.split("\n").filter(Boolean)).toHaveLength(2);
});

test("render status --watch of an unknown render exits 4 at once", async () => {
  await loggedIn();
  let connections = 0;
  server.use(
    http.get(`${API}/renders/99/events`, () => {
      connections++;
      return HttpResponse.json(apiError("not_found", "You have no render 99."), { status: 404 });
    }),
  );
  const result = await cactus(["render", "status", "99", "--watch"]);
  expect(result.code).toBe(4);
  expect(connections).toBe(1);
});

test("render status says why a render waits when none of the user's workers can take it, also when watched in a pipe", async () => {
  await loggedIn();
  const waiting = render({ waiting: "None of your workers is enabled; enable one on the Workers page (`cactus worker enable NAME`)." });
  server.use(
    http.get(`${API}/renders/12`, () => HttpResponse.json(waiting)),
    http.get(`${API}/renders/12/events`, () => eventStream([waiting, done])),
  );
  const human = await cactus(["render", "status", "12"]);
  expect(human.stdout).toMatch(/0 failed\nwaiting: None of your workers is enabled; enable one on the Workers page \(`cactus worker enable NAME`\)\.\n$/);
  const watched = await cactus(["render", "status", "12", "--watch"]);
  expect(watched.stdout.split("\n")[0]).toBe("render 12 queued: 0/24 done, 0 rendering, 24 queued, 0 failed (waiting: None of your workers is enabled; enable one on the Workers page (`cactus worker enable NAME`).)");
});

test.each([
  ["cancel", "Cancelled render 12: it is cancelled", "cancelled"],
  ["pause", "Paused render 12: it is paused", "paused"],
  ["resume", "Resumed render 12: it is rendering", "rendering"],
] as const)("render %s posts to its endpoint and says what the render is now", async (change, message, status) => {
  await loggedIn();
  const posted: string[] = [];
  server.use(
    http.post(`${API}/renders/:id/:change`, ({ params }) => {
      posted.push(`${String(params.id)} ${String(params.change)}`);
      return HttpResponse.json(render({ status }));
    }),
  );
  const human = await cactus(["render", change, "12"]);
  expect(human).toMatchObject({ code: 0, stdout: "" });
  expect(human.stderr).toContain(message);
  expect(JSON.parse((await cactus(["render", change, "12", "--json"])).stdout)).toMatchObject({ id: 12, status });
  expect(posted).toEqual([`12 ${change}`, `12 ${change}`]);
});

test("a change that makes no sense now exits 1 with the server's reason", async () => {
  await loggedIn();
  server.use(
    http.post(`${API}/renders/12/resume`, () =>
      HttpResponse.json(apiError("conflict", "Render 12 is done, not paused; only a paused render can be resumed."), { status: 409 }),
    ),
  );
  const result = await cactus(["render", "resume", "12"]);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain("only a paused render can be resumed");
});

test("render request passes the scene options, and prints the render's warnings on stderr", async () => {
  await loggedIn();
  const warning = 'A file the scene uses is not in the archive: "//textures/wood.png".';
  const bodies = acceptRequests(render({ warnings: [warning] }));
  const result = await cactus([
    "render", "request", "-a", "7", "--scene", "Shot 2", "--camera", "Close up", "--view-layer", "Mist",
    "--resolution-percentage", "25", "--samples", "16", "--strict",
  ]);
  expect(result.code).toBe(0);
  expect(bodies).toEqual([
    { archiveId: 7, format: "PNG", scene: "Shot 2", camera: "Close up", viewLayer: "Mist", resolutionPercentage: 25, samples: 16, strict: true },
  ]);
  expect(result.stderr).toContain(`warning: ${warning}`);
  expect(result.stdout).toBe("12\n");
});

test.each([
  [["--samples", "many"], "--samples takes a whole number from 1 to 1,000,000, e.g. 16"],
  [["--resolution-percentage", "12.5"], "--resolution-percentage takes a whole number from 1 to 1,000, e.g. 25"],
  [["--resolution-percentage", "2000"], "--resolution-percentage takes a whole number from 1 to 1,000, e.g. 25"],
  [["--camera", ""], "--camera takes a name from the file; `cactus archive show ID` lists them"],
])("render request %j is a usage error and sends nothing", async (argv, message) => {
  await loggedIn();
  const bodies = acceptRequests();
  const result = await cactus(["render", "request", "-a", "7", ...argv]);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain(message);
  expect(bodies).toEqual([]);
});

test("a request the scene cannot render is refused with the server's words: what to pass instead (exit 1)", async () => {
  await loggedIn();
  const message = 'Scene "Scene" has no camera; the file has the camera object "Camera": pass --camera Camera (or choose it as the render\'s camera).';
  server.use(http.post(`${API}/renders`, () => HttpResponse.json(apiError("unprocessable", message), { status: 422 })));
  const result = await cactus(["render", "request", "-a", "7"]);
  expect(result.code).toBe(1);
  expect(result.stderr).toBe(`error: ${message}\n`);
});

const sceneFailed = render({
  status: "failed",
  frames: { total: 3, done: 0, failed: 1, rendering: 0, queued: 0 },
  failure: 'Frame 1 has an error in the scene, which every worker would hit, so the render stopped at once: Blender says "Cannot render, no camera".',
});

test("render status --watch of a render a scene error failed: exit 1 and why, in a pipe and on a terminal", async () => {
  await loggedIn();
  server.use(http.get(`${API}/renders/12/events`, () => eventStream([rendering, sceneFailed])));
  const piped = await cactus(["render", "status", "12", "--watch"]);
  expect(piped.code).toBe(1);
  expect(piped.stdout.trim().split("\n").at(-1)).toBe("render 12 failed: 0/3 done, 0 rendering, 0 queued, 1 failed");
  expect(piped.stderr).toContain(`render 12 failed: ${sceneFailed.failure}`);

  server.use(http.get(`${API}/renders/12/events`, () => eventStream([rendering, sceneFailed])));
  const terminal = await cactus(["render", "status", "12", "--watch"], { stdoutTTY: true });
  expect(terminal.code).toBe(1);
  expect(terminal.stdout).toContain(`failed: ${sceneFailed.failure}`);
  expect(terminal.stderr).toContain(`render 12 failed: ${sceneFailed.failure}`);
});

test("render status shows the scene as rendered, marking what the render set, and its warnings", async () => {
  await loggedIn();
  const withScene = render({
    options: { scene: null, camera: "Close up", viewLayer: null, resolutionPercentage: 50, samples: null },
    scene: { name: "Scene", engine: "CYCLES", camera: "Close up", viewLayers: ["ViewLayer"], samples: 4, resolutionPercentage: 50, width: 32, height: 24 },
    warnings: ["The file has Python the farm never runs."],
  });
  server.use(http.get(`${API}/renders/12`, () => HttpResponse.json(withScene)));
  const result = await cactus(["render", "status", "12"]);
  expect(result.code).toBe(0);
  expect(result.stdout).toContain(
    "scene Scene · Cycles 4 samples · 32×24 (50 %)* · camera Close up* · view layers ViewLayer (* set for this render)",
  );
  expect(result.stdout).toContain("warning: The file has Python the farm never runs.");
});
