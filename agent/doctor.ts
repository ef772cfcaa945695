import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { engineLabel } from "../domain/engines";
import { inspectImage } from "../domain/image";
import { type BlenderInfo, type BlenderRunner, detectBlender, framePaths, renderFrames, runBlender } from "./blender";
import { AgentClient } from "./client";
import type { AgentConfig, Env } from "./config";
import { ENGINE_TEST_SIZE, enginesThatRender, testEngines } from "./engines";
import { NO_SANDBOX, type Sandbox, SandboxUnavailable, detectSandbox, sandboxHint, sandboxedRunner } from "./sandbox";

// `cactus-agent doctor`: what a person installing an agent wants to know before leaving
// it alone — Blender runs sandboxed and renders, with which engines, the cache is writable, the server answers
// and knows this token. Each check says what to do when it fails.

export interface Check {
  name: string;
  /** "info" and "warn" never fail the doctor: something worth knowing, or worth fixing. */
  status: "ok" | "fail" | "warn" | "info";
  detail: string;
}

const TEST_SIZE = { width: 32, height: 24 };

/** The agent's own tiny scene: the factory cube, Cycles at one sample, saved where asked. */
const MAKE_TEST_SCENE = `
import sys
import bpy
scene = bpy.context.scene
scene.render.engine = "CYCLES"
scene.cycles.device = "CPU"
scene.cycles.samples = 1
scene.cycles.use_denoising = False
scene.render.resolution_x = ${TEST_SIZE.width}
scene.render.resolution_y = ${TEST_SIZE.height}
scene.render.resolution_percentage = 100
scene.frame_start = 1
scene.frame_end = 1
bpy.ops.wm.save_as_mainfile(filepath=sys.argv[sys.argv.index("--") + 1])
`;

export async function runDoctor(
  config: AgentConfig,
  { runner: injected, env = process.env }: { runner?: BlenderRunner; env?: Env } = {},
): Promise<Check[]> {
  const checks: Check[] = [];
  const sandbox = await checkSandbox(config, checks, env);
  // The agent's very runner: Blender is checked where it will render.
  const runner = injected ?? sandboxedRunner(sandbox, { searchPath: env.PATH });
  const info = await checkBlender(config, checks, runner, sandbox);
  if (info) await checkRender(config, checks, runner);
  if (info) info.engines = await checkEngines(config, checks, runner);
  await checkCacheDir(config, checks);
  await checkServer(config, checks, info, sandbox);
  return checks;
}

async function checkSandbox(config: AgentConfig, checks: Check[], env: Env): Promise<Sandbox> {
  const name = "Sandbox";
  try {
    const sandbox = await detectSandbox(config.sandbox, { searchPath: env.PATH });
    if (sandbox.mode === "bwrap") {
      checks.push({ name, status: "ok", detail: `bwrap (${sandbox.bwrap?.path}): Blender runs with no network and sees only its task's files` });
    } else {
      checks.push({
        name,
        status: "warn",
        detail: `off, ${sandbox.reason}: Blender runs with this user's rights, so keep this worker to renders you trust`,
      });
    }
    return sandbox;
  } catch (error) {
    if (!(error instanceof SandboxUnavailable)) throw error;
    // The checks below still run, without one, so that they say what else is wrong.
    checks.push({ name, status: "fail", detail: error.message });
    return NO_SANDBOX;
  }
}

/** A tiny frame with each engine (agent/engines.ts): what the agent tells the server it can render. */
async function checkEngines(config: AgentConfig, checks: Check[], runner?: BlenderRunner): Promise<string[]> {
  const tests = await testEngines(config.blender, { runner });
  const { width, height } = ENGINE_TEST_SIZE;
  for (const test of tests) {
    // An engine this Blender does not have at all (Eevee Next before 4.2) is no news.
    if (!test.ok && test.error?.startsWith("this Blender has no ")) continue;
    const label = engineLabel(test.engine);
    checks.push({
      name: `Renders with ${label}`,
      status: test.ok ? "ok" : test.engine === "CYCLES" ? "fail" : "warn",
      detail: test.ok
        ? `a ${width}×${height} test frame in ${test.seconds?.toFixed(1) ?? "?"} s`
        : `no: ${test.error}; renders of ${label} scenes go to your other workers`,
    });
  }
  return enginesThatRender(tests);
}

async function checkBlender(config: AgentConfig, checks: Check[], runner: BlenderRunner, sandbox: Sandbox): Promise<BlenderInfo | null> {
  try {
    const info = await detectBlender(config.blender, { runner });
    checks.push({ name: "Blender runs", status: "ok", detail: `Blender ${info.version} (${config.blender})` });
    checks.push({
      name: "Denoiser",
      status: "info",
      detail: info.hasDenoiser
        ? "OpenImageDenoise is built in: renders that denoise can come here"
        : "this Blender has no OpenImageDenoise: renders that denoise go to other workers",
    });
    return info;
  } catch (error) {
    checks.push({ name: "Blender runs", status: "fail", detail: (error as Error).message + sandboxHint(sandbox) });
    return null;
  }
}

async function checkRender(config: AgentConfig, checks: Check[], runner: BlenderRunner) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-doctor-"));
  const name = "Blender renders";
  try {
    const blendFile = path.join(dir, "doctor.blend");
    const made = await runBlender({
      blender: config.blender,
      argv: ["-b", "--factory-startup", "--python-expr", MAKE_TEST_SCENE, "--", blendFile],
      files: { writable: [dir] },
      expectedFiles: [blendFile],
      runner,
    });
    if (!made.ok) {
      checks.push({ name, status: "fail", detail: `could not make a test scene: ${made.errors.join(" ")}` });
      return;
    }
    const job = { blendFile, outputDir: path.join(dir, "out"), format: "PNG" as const, frameStart: 1, frameEnd: 1, threads: config.threads };
    const started = Date.now();
    const result = await renderFrames({ job, blender: config.blender, runner });
    if (!result.ok) {
      checks.push({ name, status: "fail", detail: `${result.errors.join(" ")} (last lines: ${result.logTail.slice(-3).join(" | ")})` });
      return;
    }
    const image = inspectImage(await fs.readFile(framePaths(job)[0]));
    const sizeOk = image?.width === TEST_SIZE.width && image.height === TEST_SIZE.height;
    checks.push({
      name,
      status: sizeOk ? "ok" : "fail",
      detail: sizeOk
        ? `a ${TEST_SIZE.width}×${TEST_SIZE.height} test frame in ${((Date.now() - started) / 1000).toFixed(1)} s`
        : `the test frame is ${image ? `${image.format} ${image.width}×${image.height}` : "not an image"}, not a ${TEST_SIZE.width}×${TEST_SIZE.height} PNG`,
    });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function checkCacheDir(config: AgentConfig, checks: Check[]) {
  const name = "Archive cache";
  const probe = path.join(config.cacheDir, `.doctor-${process.pid}`);
  try {
    await fs.mkdir(config.cacheDir, { recursive: true, mode: 0o700 });
    await fs.writeFile(probe, "");
    await fs.rm(probe);
    const gib = (config.cacheBytes / 1024 ** 3).toFixed(1);
    checks.push({ name, status: "ok", detail: `${config.cacheDir} is writable; up to ${gib} GiB of archives kept` });
  } catch (error) {
    checks.push({
      name,
      status: "fail",
      detail: `${config.cacheDir} is not writable (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); set CACTUS_AGENT_CACHE to a folder the agent's user owns`,
    });
  }
}

async function checkServer(config: AgentConfig, checks: Check[], info: BlenderInfo | null, sandbox: Sandbox) {
  if (!config.server) {
    checks.push({ name: "Server", status: "fail", detail: "no server set: set CACTUS_SERVER (or --server) to the farm's URL" });
    return;
  }
  const client = new AgentClient({ server: config.server, token: config.token ?? "", timeoutMs: 10_000, retry: { giveUpAfterMs: 5000 } });
  try {
    await client.health();
    checks.push({ name: "Server", status: "ok", detail: `${config.server} answers` });
  } catch (error) {
    checks.push({ name: "Server", status: "fail", detail: `${(error as Error).message}; check CACTUS_SERVER and that the server runs` });
    return;
  }
  if (!config.token) {
    checks.push({ name: "Worker token", status: "fail", detail: "no token set: create one with `cactus worker create NAME` and set CACTUS_WORKER_TOKEN" });
    return;
  }
  try {
    const answer = await client.hello({
      blenderVersion: info?.version ?? "unknown",
      capabilities: {
        denoiser: info?.hasDenoiser ?? false,
        threads: config.threads,
        sandbox: sandbox.mode,
        ...(info?.engines ? { engines: info.engines } : {}),
      },
    });
    const { name, id, enabled } = answer.worker;
    checks.push({
      name: "Worker token",
      status: enabled ? "ok" : "fail",
      detail: enabled ? `valid: this is worker "${name}" (${id})` : `valid, but worker "${name}" is disabled: \`cactus worker enable ${id}\``,
    });
  } catch (error) {
    checks.push({ name: "Worker token", status: "fail", detail: (error as Error).message });
  }
}

export function formatChecks(checks: Check[]): string {
  const mark = { ok: "✓", fail: "✗", warn: "!", info: "·" } as const;
  const lines = checks.map((check) => `  ${mark[check.status]} ${check.name}: ${check.detail}`);
  const failed = checks.filter((check) => check.status === "fail").length;
  lines.push(failed === 0 ? "All checks passed." : `${failed} check${failed === 1 ? "" : "s"} failed.`);
  return lines.join("\n");
}
