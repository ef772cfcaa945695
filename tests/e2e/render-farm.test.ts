import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { inspectImage } from "../../domain/image";
import { frameListSchema } from "../../contract";
import { AGENTS_START_MS, startFarm, type Farm, type FarmAgent } from "../helpers/e2e-farm";
import { unzip } from "../helpers/fixtures";
import { makeScene } from "../helpers/scenes";

// The whole pipeline with real Blender: two `cactus-agent` processes inspect an uploaded
// 12-frame scene, render it frame by frame, and the frames come back through the API (one
// by one, as a zip) and through the real `cactus render download`.

const CLI = path.resolve(import.meta.dirname, "../../cli/bin/cactus.js");

let farm: Farm;
let agents: FarmAgent[];

beforeAll(async () => {
  farm = await startFarm();
  agents = await Promise.all([farm.addAgent({ name: "alpha" }), farm.addAgent({ name: "bravo" })]);
}, AGENTS_START_MS);
afterAll(() => farm?.stop());

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

test("two agents inspect and render a 12-frame scene: each frame accepted once, downloadable one by one, as a zip and by the CLI", async () => {
  const archive = await farm.uploadScene(await makeScene(), "cube.blend");
  // Inspection first: an agent's Blender reads the scene's facts.
  const inspected = await farm.waitForFacts(archive.id);
  expect(inspected.facts).toMatchObject({
    frameStart: 1,
    frameEnd: 12,
    resolutionX: 64,
    resolutionY: 48,
    resolutionPercentage: 100,
    engine: "CYCLES",
    samples: 4,
    denoising: false,
    hasScripts: false,
  });

  const requested = await farm.requestRender({ archiveId: archive.id, frames: "1-12" });
  // The agents sit idle, their claims held by the server: one may take a frame before the answer is read.
  expect(requested).toMatchObject({ tasks: 12, frames: { total: 12 } });
  expect(["queued", "rendering"]).toContain(requested.status);
  const render = await farm.waitForRender(requested.id, (r) => r.status === "done" || r.status === "failed", 60_000);
  expect(render, farm.logs()).toMatchObject({ status: "done", failure: null, frames: { total: 12, done: 12, failed: 0, rendering: 0, queued: 0 } });

  // Each frame accepted exactly once; nothing refused, nothing failed, no task rendered twice.
  const results = await farm.query<{ frame: number; worker_id: number; accepted: boolean }>(
    "SELECT frame, worker_id, accepted FROM results WHERE render_id = $id ORDER BY frame",
    { id: render.id },
  );
  expect(results.map((result) => [result.frame, result.accepted])).toEqual(Array.from({ length: 12 }, (_, index) => [index + 1, true]));
  expect(await farm.query("SELECT * FROM task_failures WHERE render_id = $id", { id: render.id })).toEqual([]);
  const attempts = await farm.query<{ attempts: number }>("SELECT attempts FROM tasks WHERE render_id = $id", { id: render.id });
  expect(attempts.map((task) => task.attempts)).toEqual(Array(12).fill(1));

  // Both agents rendered some of it.
  const byWorker = (workerId: number) => results.filter((result) => result.worker_id === workerId).length;
  const [alpha, bravo] = agents.map((agent) => byWorker(agent.workerId));
  expect(alpha + bravo).toBe(12);
  expect(Math.min(alpha, bravo), `alpha rendered ${alpha} frames, bravo ${bravo}\n${farm.logs()}`).toBeGreaterThan(0);
  expect(render.workers.map((worker) => worker.name).sort()).toEqual(["alpha", "bravo"]);

  // One by one: a PNG of the scene's size each, and all different (the cube moves).
  const { frames } = frameListSchema.parse(await farm.json(`/renders/${render.id}/frames`));
  const images = new Map<string, Buffer>();
  for (const frame of frames) {
    const response = await farm.call(`/renders/${render.id}/frames/${frame.frame}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/png");
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(inspectImage(bytes), `frame ${frame.frame}`).toEqual({ format: "PNG", width: 64, height: 48 });
    expect(bytes.length).toBe(frame.bytes);
    images.set(frame.filename, bytes);
  }
  expect(images.size).toBe(12);
  expect(new Set([...images.values()].map(sha256)).size).toBe(12);

  // The zip holds the same 12 images under the same names.
  const zip = await farm.call(`/renders/${render.id}/download.zip`);
  expect(zip.status).toBe(200);
  const entries = await unzip(Buffer.from(await zip.arrayBuffer()));
  expect(entries.map((entry) => entry.name).sort()).toEqual([...images.keys()].sort());
  for (const entry of entries) expect(sha256(entry.data), entry.name).toBe(sha256(images.get(entry.name)!));

  // And the real CLI binary writes the same 12 files.
  const out = path.join(farm.root, "downloaded");
  const cli = await run(CLI, ["render", "download", String(render.id), "--out", out], {
    CACTUS_SERVER: farm.url,
    CACTUS_TOKEN: farm.token,
    CACTUS_CONFIG: path.join(farm.root, "cli-config.json"),
    HOME: farm.root,
    NO_COLOR: "1",
  });
  expect(cli, cli.stderr).toMatchObject({ code: 0 });
  const written = (await fs.readdir(out)).sort();
  expect(written).toEqual([...images.keys()].sort());
  for (const name of written) expect(sha256(await fs.readFile(path.join(out, name))), name).toBe(sha256(images.get(name)!));
}, 90_000);

function run(bin: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], {
    env: Object.assign({} as NodeJS.ProcessEnv, { PATH: process.env.PATH ?? "" }, env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
