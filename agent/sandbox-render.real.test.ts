import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import sharp from "sharp";
import { afterAll, beforeAll, expect, test } from "vitest";
import { inspectImage } from "../domain/image";
import { BLENDER, makeScene } from "../tests/helpers/scenes";
import { renderFrames } from "./blender";
import { detectSandbox, sandboxedRunner } from "./sandbox";
import { type FakeFarm, WORKER_TOKEN, renderTask, startFakeFarm } from "./testing/fake-farm";

// Rendering in the sandbox, for real: every engine Blender 3.4 has (Eevee and Workbench
// through Mesa's surfaceless EGL, with no GPU and no display in the sandbox), and the
// real `cactus-agent` with its sandbox on (the default) and off.

const AGENT_BIN = path.resolve(import.meta.dirname, "bin/cactus-agent.js");

let dir: string;
let farm: FakeFarm;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-sandbox-render-"));
  farm = await startFakeFarm();
});
afterAll(async () => {
  await farm.close();
  await fs.rm(dir, { recursive: true, force: true });
});

test.each(["BLENDER_EEVEE", "BLENDER_WORKBENCH"] as const)("a %s scene renders in the sandbox (surfaceless EGL)", async (engine) => {
  const tmpRoot = path.join(dir, "work");
  const runner = sandboxedRunner(await detectSandbox("bwrap", { tmpRoot }), { tmpRoot });
  const archiveDir = path.join(dir, engine);
  const blendFile = await makeScene({ engine, path: path.join(archiveDir, "scene.blend") });
  const job = { blendFile, archiveDir, outputDir: path.join(archiveDir, "out"), format: "PNG" as const, frameStart: 1, frameEnd: 1, threads: 2 };
  const result = await renderFrames({ job, blender: BLENDER, runner });
  expect(result.errors).toEqual([]);
  expect(result.logTail.join("\n")).toContain("fallback to surfaceless EGL");
  const frame = await fs.readFile(path.join(job.outputDir, "frame_00001.png"));
  expect(inspectImage(frame)).toEqual({ format: "PNG", width: 64, height: 48 });
  // The cube is in the picture: not one flat colour.
  const { channels } = await sharp(frame).stats();
  expect(Math.max(...channels.map((channel) => channel.max - channel.min))).toBeGreaterThan(40);
  // Eevee compiles its shaders on the CPU: ~10 s alone, three times that on a shared machine.
}, 120_000);

async function agentRenders(args: string[]) {
  const scene = await fs.readFile(await makeScene());
  const task = renderTask(scene, { frameStart: 2, frameEnd: 2 });
  farm.archives.set(task.archive.hash, scene);
  farm.queue.push(task);
  const heardBefore = farm.heard.length;
  const cache = path.join(dir, `cache-${args.join("") || "default"}`);
  const agent = await execa(process.execPath, [AGENT_BIN, "--once", "--threads", "2", ...args], {
    env: {
      PATH: process.env.PATH ?? "",
      CACTUS_SERVER: farm.url,
      CACTUS_WORKER_TOKEN: WORKER_TOKEN,
      CACTUS_BLENDER: BLENDER,
      CACTUS_AGENT_CACHE: cache,
      CACTUS_AGENT_CONFIG: path.join(dir, "no-agent.json"),
      CACTUS_BUSY_CPU: "off",
    },
    extendEnv: false,
    reject: false,
  });
  const heard = farm.heard.slice(heardBefore);
  const hello = heard.find((request) => request.path === "/api/v1/agent/hello");
  const upload = heard.find((request) => request.method === "PUT");
  return { agent, hello, upload, taskFolders: existsSync(path.join(cache, "tasks")) ? await fs.readdir(path.join(cache, "tasks")) : null };
}

test("the real agent renders in its sandbox by default and says so at hello; with --sandbox off it warns and renders too", async () => {
  const sandboxed = await agentRenders([]);
  expect(sandboxed.agent.exitCode, sandboxed.agent.stderr).toBe(0);
  expect(sandboxed.agent.stderr).toMatch(/Blender 3\.4\.\d \(denoiser: no; renders with Cycles, Eevee and Workbench\), sandbox bwrap,/);
  expect(sandboxed.agent.stderr).not.toContain("Warning");
  // Its engine test ran in the sandbox too: Eevee and Workbench through EGL's software fallback.
  expect(sandboxed.hello?.body).toMatchObject({ capabilities: { sandbox: "bwrap", engines: ["CYCLES", "BLENDER_EEVEE", "BLENDER_WORKBENCH"] } });
  expect(inspectImage(sandboxed.upload!.bytes!)).toEqual({ format: "PNG", width: 64, height: 48 });
  // The task's folder and Blender's temp dir went with the task.
  expect(sandboxed.taskFolders).toEqual([]);

  const unconfined = await agentRenders(["--sandbox", "off"]);
  expect(unconfined.agent.exitCode, unconfined.agent.stderr).toBe(0);
  expect(unconfined.agent.stderr).toMatch(/sandbox off,/);
  expect(unconfined.agent.stderr).toMatch(/Warning: Blender runs without a sandbox \(turned off \(--sandbox off\)\): a \.blend it renders can read any file/);
  expect(unconfined.hello?.body).toMatchObject({ capabilities: { sandbox: "off" } });
  expect(inspectImage(unconfined.upload!.bytes!)).toEqual({ format: "PNG", width: 64, height: 48 });
  expect(unconfined.taskFolders).toEqual([]);
  // Each agent tests its engines before its hello: Eevee's shaders take seconds on a CPU.
}, 120_000);
