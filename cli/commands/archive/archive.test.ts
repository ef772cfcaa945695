import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { http, HttpResponse } from "msw";
import { afterAll, beforeAll, expect, test } from "vitest";
import { CREATED_AT, apiError, archive, project } from "../../testing/fixtures";
import { API, TOKEN, cactus, loggedIn, setupCliTest } from "../../testing/run";

const server = setupCliTest();

let dir = "";
let blend = "";
const bytes = Buffer.concat([Buffer.from("BLENDER-v304"), Buffer.alloc(3000, 7), Buffer.from("ENDB")]);
const sha256 = createHash("sha256").update(bytes).digest("hex");

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-archive-test-"));
  blend = path.join(dir, "shot.blend");
  await fs.writeFile(blend, bytes);
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

interface Seen {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** Project 3 exists; every request is recorded with its raw body. */
function recordRequests(dedupe: "hit" | "miss") {
  const seen: Seen[] = [];
  const record = async (request: Request) => {
    const url = new URL(request.url);
    seen.push({
      method: request.method,
      path: url.pathname,
      query: url.search,
      headers: Object.fromEntries(request.headers),
      body: Buffer.from(await request.arrayBuffer()),
    });
  };
  server.use(
    http.get(`${API}/projects`, () => HttpResponse.json({ projects: [project(3, "Spring short")] })),
    http.post(`${API}/projects/3/archives/dedupe`, async ({ request }) => {
      await record(request);
      return dedupe === "hit"
        ? HttpResponse.json({ ...archive({ hash: sha256, size: bytes.length }), deduplicated: true }, { status: 201 })
        : HttpResponse.json(apiError("not_found", "No archive with that hash here; send it."), { status: 404 });
    }),
    http.post(`${API}/projects/3/archives`, async ({ request }) => {
      await record(request);
      return HttpResponse.json({ ...archive({ hash: sha256, size: bytes.length }), deduplicated: false }, { status: 201 });
    }),
  );
  return seen;
}

test("a dedupe hit adds the archive by hash and sends no body", async () => {
  await loggedIn();
  const seen = recordRequests("hit");
  const result = await cactus(["archive", "upload", blend, "--project", "Spring short", "--json"]);
  expect(result.code).toBe(0);
  expect(seen).toHaveLength(1);
  expect(seen[0].path).toBe("/api/v1/projects/3/archives/dedupe");
  expect(JSON.parse(seen[0].body.toString())).toEqual({ sha256, filename: "shot.blend" });
  const answer = JSON.parse(result.stdout);
  expect(answer).toMatchObject({ id: 7, hash: sha256, size: bytes.length, kind: "blend", deduplicated: true });
  expect(answer.facts.blenderVersion).toBe("3.4");
  expect(result.stderr).toContain("no bytes sent");
});

test("a dedupe miss streams the file with its length, type and sha256 header", async () => {
  await loggedIn();
  const seen = recordRequests("miss");
  const result = await cactus(["archive", "upload", blend, "-p", "3", "--main", "scenes/a.blend", "--json"]);
  expect(result.code).toBe(0);
  expect(seen.map((request) => request.path)).toEqual(["/api/v1/projects/3/archives/dedupe", "/api/v1/projects/3/archives"]);
  expect(JSON.parse(seen[0].body.toString())).toEqual({ sha256, filename: "shot.blend", mainPath: "scenes/a.blend" });
  const upload = seen[1];
  expect(new URLSearchParams(upload.query).get("filename")).toBe("shot.blend");
  expect(new URLSearchParams(upload.query).get("main")).toBe("scenes/a.blend");
  expect(upload.headers["x-content-sha256"]).toBe(sha256);
  expect(upload.headers["content-type"]).toBe("application/octet-stream");
  expect(upload.headers["content-length"]).toBe(String(bytes.length));
  expect(upload.headers.authorization).toBe(`Bearer ${TOKEN}`);
  expect(upload.body.equals(bytes)).toBe(true);
  expect(JSON.parse(result.stdout)).toMatchObject({ deduplicated: false, hash: sha256 });
});

test("the human answer is a table on stdout; progress bars only on a terminal", async () => {
  await loggedIn();
  recordRequests("miss");
  const piped = await cactus(["archive", "upload", blend, "-p", "3"]);
  expect(piped.stdout).toMatch(/│ 7\s+│ shot.blend │ blend │ 2.9 KiB │ 3.4\s+│ [0-9a-f]{64} │/);
  expect(piped.stderr).not.toContain("%");
  const terminal = await cactus(["archive", "upload", blend, "-p", "3"], { stderrTTY: true });
  expect(terminal.stderr).toMatch(/hashing .*100%/);
  expect(terminal.stderr).toMatch(/uploading .*100% 2\.9 KiB\/2\.9 KiB/);
});

test("a refused upload exits with the server's reason", async () => {
  await loggedIn();
  recordRequests("miss");
  server.use(
    http.post(`${API}/projects/3/archives`, () =>
      HttpResponse.json(apiError("unprocessable", "This is not a .blend or a .zip."), { status: 422 }),
    ),
  );
  const result = await cactus(["archive", "upload", blend, "-p", "3"]);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain("This is not a .blend or a .zip.");
});

test("a missing, empty or directory file fails with exit 1 before any request", async () => {
  await loggedIn();
  const empty = path.join(dir, "empty.blend");
  await fs.writeFile(empty, "");
  // No handlers: any request would fail the test (msw's onUnhandledRequest: "error").
  const missing = await cactus(["archive", "upload", path.join(dir, "nope.blend"), "-p", "3"]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain("does not exist");
  const emptyResult = await cactus(["archive", "upload", empty, "-p", "3"]);
  expect(emptyResult.code).toBe(1);
  expect(emptyResult.stderr).toContain("is empty");
  const directory = await cactus(["archive", "upload", dir, "-p", "3"]);
  expect(directory.code).toBe(1);
  expect(directory.stderr).toContain("is a directory");
});

test("an unreadable file fails with exit 1 before any request", async () => {
  if (os.userInfo().uid === 0) {
    // root reads anything: make the path unreadable another way, a dangling symlink.
    const dangling = path.join(dir, "dangling.blend");
    await fs.symlink(path.join(dir, "gone"), dangling);
    const result = await cactus(["archive", "upload", dangling, "-p", "3"]);
    expect(result.code).toBe(1);
    return;
  }
  const locked = path.join(dir, "locked.blend");
  await fs.writeFile(locked, bytes, { mode: 0o000 });
  const result = await cactus(["archive", "upload", locked, "-p", "3"]);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain("not readable");
});

test("uploading into an unknown project exits 4 before hashing", async () => {
  await loggedIn();
  server.use(http.get(`${API}/projects`, () => HttpResponse.json({ projects: [] })));
  const result = await cactus(["archive", "upload", blend, "-p", "Nope"]);
  expect(result.code).toBe(4);
  expect(result.stderr).toContain('no project "Nope"');
});

test("archive upload without --project is a usage error", async () => {
  await loggedIn();
  const result = await cactus(["archive", "upload", blend]);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain("Missing required argument: project");
});

test("archive list prints the project's archives as a table or JSON", async () => {
  await loggedIn();
  const read = { ...archive().facts, engine: "CYCLES", frameStart: 1, frameEnd: 240, frameStep: 2, resolutionX: 1920, resolutionY: 1080 };
  const zip = archive({
    id: 8,
    filename: "shot.zip",
    kind: "zip",
    mainPath: "scenes/a.blend",
    size: 5 * 1024 * 1024,
    facts: { ...read, resolutionPercentage: 50, outputWidth: 960, outputHeight: 540 },
  });
  const list = { archives: [archive(), zip] };
  server.use(
    http.get(`${API}/projects`, () => HttpResponse.json({ projects: [project(3, "Spring short")] })),
    http.get(`${API}/projects/3/archives`, () => HttpResponse.json(list)),
  );
  const json = await cactus(["archive", "list", "-p", "Spring short", "--json"]);
  expect(json.code).toBe(0);
  expect(JSON.parse(json.stdout)).toEqual(list);
  const human = await cactus(["archive", "list", "-p", "3"]);
  // The engine, the size of the frames it writes, and the frames, once an agent read the scene.
  expect(human.stdout).toMatch(/│ 8\s+│ shot.zip\s+│ zip → scenes\/a.blend │ 5.0 MiB │ 3.4\s+│ Cycles │ 960×540\s+│ 1-240:2 │ aaaaaaaaaaaa │/);
  expect(human.stdout).toMatch(/│ 7\s+│ shot.blend │ blend\s+│ 20 B\s+│ 3.4\s+│ -\s+│ -\s+│ -\s+│ aaaaaaaaaaaa │/);
});

test("archive show: every scene with what inspection found, and what a render of it as it is would meet", async () => {
  await loggedIn();
  const scene = {
    name: "Scene", frameStart: 1, frameEnd: 250, frameStep: 1, fps: 24, resolutionX: 1920, resolutionY: 1080,
    resolutionPercentage: 100, outputWidth: 1920, outputHeight: 1080, border: null, engine: "BLENDER_EEVEE",
    samples: 64, denoising: false, outputFormat: "PNG", cameras: ["Camera"], activeCamera: null,
    viewLayers: [{ name: "View Layer", use: true }],
  };
  const refusal = 'Scene "Scene" has no camera; the file has the camera object "Camera": pass --camera Camera (or choose it as the render\'s camera).';
  const sculpting = archive({
    filename: "startup.blend",
    facts: {
      ...archive().facts, scene: "Scene", frameStart: 1, frameEnd: 250, frameStep: 1, engine: "BLENDER_EEVEE", activeCamera: null,
      cameras: ["Camera"], cameraObjects: ["Camera"], scenes: [scene], missingFiles: ["//brush.png"], scripts: [], viewLayers: scene.viewLayers,
    },
    inspection: { status: "done", error: null, at: CREATED_AT },
    sceneCheck: { refusals: [refusal], warnings: ["A file the scene uses is not in the archive."] },
  });
  server.use(http.get(`${API}/archives/7`, () => HttpResponse.json(sculpting)));
  const human = await cactus(["archive", "show", "7"]);
  expect(human.code).toBe(0);
  expect(human.stdout).toBe(
    [
      `Archive 7 · startup.blend · blend · 20 B · Blender 3.4 · sha256 ${"a".repeat(64)}`,
      'Scene "Scene" (rendered unless a render names another):',
      "    frames 1-250 at 24 fps · 1920×1080 · Eevee, 64 samples · output PNG",
      "    camera: none set (in the scene: Camera)",
      "    view layers: View Layer",
      "Cameras in the file: Camera",
      "Missing files (1):",
      "    //brush.png",
      "A render as it is would be refused (1):",
      `    ${refusal}`,
      "Warnings (1):",
      "    A file the scene uses is not in the archive.",
      "",
    ].join("\n"),
  );
  expect(JSON.parse((await cactus(["archive", "show", "7", "--json"])).stdout)).toEqual(sculpting);
});

test("archive show before an agent read the scene says so; an unknown archive exits 4; a bad id exits 2", async () => {
  await loggedIn();
  server.use(
    http.get(`${API}/archives/7`, () => HttpResponse.json(archive())),
    http.get(`${API}/archives/8`, () => HttpResponse.json(apiError("not_found", "You have no archive 8."), { status: 404 })),
  );
  expect((await cactus(["archive", "show", "7"])).stdout).toMatch(/^Scene: not read yet; one of your agents reads it when it next asks for work/m);
  expect(await cactus(["archive", "show", "8"])).toMatchObject({ code: 4, stderr: "error: You have no archive 8.\n" });
  expect((await cactus(["archive", "show", "seven"])).code).toBe(2);
});
