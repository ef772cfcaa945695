import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { type AgentIo, main } from "./index";
import type { AgentLoop } from "./loop";
import { fakeBlender } from "./testing/fake-blender";
import { type FakeFarm, WORKER_TOKEN, renderTask, startFakeFarm } from "./testing/fake-farm";

// `cactus-agent` in-process: its commands, settings and exit codes, with a fake farm
// and Blender's runner injected.

let farm: FakeFarm;
let dir: string;
beforeEach(async () => {
  farm = await startFakeFarm();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-agent-main-"));
});
afterEach(async () => {
  await farm.close();
  await fs.rm(dir, { recursive: true, force: true });
});

function io(env: Record<string, string> = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on("data", (chunk) => out.push(String(chunk)));
  stderr.on("data", (chunk) => err.push(String(chunk)));
  let stop: (() => void) | null = null;
  const agentIo: AgentIo = {
    stdout,
    stderr,
    env: {
      CACTUS_SERVER: farm.url,
      CACTUS_WORKER_TOKEN: WORKER_TOKEN,
      CACTUS_AGENT_CACHE: path.join(dir, "cache"),
      CACTUS_AGENT_CONFIG: path.join(dir, "no-such-agent.json"),
      // Other tests load this machine: no pausing for an owner here.
      CACTUS_BUSY_CPU: "off",
      ...env,
    },
    onStopSignal: (callback) => {
      stop = callback;
      return () => (stop = null);
    },
  };
  return { io: agentIo, out: () => out.join(""), err: () => err.join(""), sigterm: () => stop?.() };
}

describe("cactus-agent", () => {
  test("--help lists run and doctor, and where settings come from", async () => {
    const { io: agentIo, out } = io();
    expect(await main(["--help"], agentIo)).toBe(0);
    expect(out()).toMatch(/cactus-agent run\s+Render the farm's tasks until stopped/);
    expect(out()).toMatch(/cactus-agent doctor/);
    expect(out()).toMatch(/--once/);
    expect(out()).toMatch(/CACTUS_WORKER_TOKEN.*CACTUS_THREADS/s);
  });

  test("--once renders what is queued, then exits 0", async () => {
    const scene = Buffer.from("BLENDER-v304 main's scene");
    const task = renderTask(scene);
    farm.archives.set(task.archive.hash, scene);
    farm.queue.push(task);
    // This machine's Blender has no OpenGL: Eevee and Workbench fail their test frames.
    const blender = fakeBlender(() => ({ engines: ["CYCLES"] }));
    const { io: agentIo, err } = io({ CACTUS_THREADS: "3" });
    expect(await main(["--once"], agentIo, { runner: blender.runner })).toBe(0);
    // First start: the engine test, then the benchmark before the first claim.
    expect(blender.runs.map((run) => run.kind)).toEqual(["detect", "engines", "benchmark", "render"]);
    expect(blender.runs[2].argv.slice(3, 5)).toEqual(["-t", "3"]);
    expect(blender.runs[3].argv).toContain("3"); // -t 3
    expect(farm.to("POST", /\/complete$/)).toHaveLength(1);
    expect(err()).toMatch(/Blender 3\.4\.1 \(denoiser: no; renders with Cycles\), sandbox bwrap, 3 threads/);
    expect(err()).toMatch(/^Blender cannot render with Eevee here: Unable to open a display$/m);
    expect(err()).toMatch(/No benchmark of this worker yet: measuring its WUPM/);
    expect(err()).toMatch(/Benchmark: 30\.00 WUPM \(one render of the reference frame 2\.00 s/);
    // The server hears which engines render here, so it hands out no Eevee or Workbench render.
    expect(farm.to("POST", /\/hello$/)[0].body).toMatchObject({ capabilities: { denoiser: false, threads: 3, engines: ["CYCLES"] } });
  });

  test("task folders an earlier run left are removed at start, and each task's goes when it ends", async () => {
    const tasks = path.join(dir, "cache", "tasks");
    await fs.mkdir(path.join(tasks, "cactus-task-3-killed"), { recursive: true });
    await fs.writeFile(path.join(tasks, "cactus-task-3-killed", "frame_00001.png"), "half a frame");
    await fs.mkdir(path.join(tasks, "blender-abc123"));
    const scene = Buffer.from("BLENDER-v304 tidy scene");
    farm.archives.set(renderTask(scene).archive.hash, scene);
    farm.queue.push(renderTask(scene));
    const { io: agentIo, err } = io();
    expect(await main(["--once"], agentIo, { runner: fakeBlender().runner })).toBe(0);
    expect(err()).toContain(`Removed 2 task folders an earlier run left in ${tasks}.`);
    expect(farm.to("POST", /\/complete$/)).toHaveLength(1);
    expect(await fs.readdir(tasks)).toEqual([]);
  });

  test("--sandbox off: a warning at start, and the hello says so", async () => {
    const { io: agentIo, err } = io();
    expect(await main(["--once", "--sandbox", "off"], agentIo, { runner: fakeBlender().runner })).toBe(0);
    expect(err()).toMatch(/sandbox off, /);
    expect(err()).toContain("Warning: Blender runs without a sandbox (turned off (--sandbox off)): a .blend it renders can read any file");
    expect(farm.to("POST", /\/hello$/)[0].body).toMatchObject({ capabilities: { sandbox: "off" } });
  });

  test("no bwrap on the PATH: auto warns and runs without; CACTUS_SANDBOX=bwrap refuses to start (exit 1)", async () => {
    const auto = io({ PATH: "/nowhere" });
    expect(await main(["--once"], auto.io, { runner: fakeBlender().runner })).toBe(0);
    expect(auto.err()).toContain("Warning: Blender runs without a sandbox (bwrap is not installed (Debian: sudo apt-get install bubblewrap))");
    const strict = io({ PATH: "/nowhere", CACTUS_SANDBOX: "bwrap" });
    expect(await main(["--once"], strict.io, { runner: fakeBlender().runner })).toBe(1);
    expect(strict.err()).toMatch(/cactus-agent: Blender cannot run in a sandbox here: bwrap is not installed .* --sandbox off/);
    expect(farm.to("POST", /\/hello$/)).toHaveLength(1);
  });

  describe("the benchmark", () => {
    const start = async (env: Record<string, string> = {}) => {
      const blender = fakeBlender(() => ({ benchmarkSeconds: [3, 4, 5, 4, 4] }));
      const { io: agentIo, err } = io(env);
      expect(await main(["--once"], agentIo, { runner: blender.runner })).toBe(0);
      // Every start detects Blender and tests its engines; the benchmark runs only when needed.
      return { kinds: blender.runs.map((run) => run.kind), err: err() };
    };

    test("sent on first start (WUPM from the median render), not measured again while the machine stays the same", async () => {
      expect((await start({ CACTUS_THREADS: "2" })).kinds).toEqual(["detect", "engines", "benchmark"]);
      expect(farm.to("POST", /\/agent\/benchmark$/).map((call) => call.body)).toEqual([
        expect.objectContaining({ wupm: 15, seconds: 4, renders: 5, spread: 0.5, threads: 2, blenderVersion: "3.4.1" }),
      ]);
      expect((await start({ CACTUS_THREADS: "2" })).kinds).toEqual(["detect", "engines"]);
      expect(farm.to("POST", /\/agent\/benchmark$/)).toHaveLength(1);
    });

    test("another thread count measures again; back to the first, the run kept on the machine is sent instead", async () => {
      await start({ CACTUS_THREADS: "2" });
      const changed = await start({ CACTUS_THREADS: "1" });
      expect(changed.kinds).toEqual(["detect", "engines", "benchmark"]);
      expect(changed.err).toMatch(/This machine changed since its last benchmark \(Blender 3\.4\.1, 2 threads/);
      // The server now holds the 1-thread run; this machine's saved run is the 1-thread one too.
      expect((await start({ CACTUS_THREADS: "1" })).kinds).toEqual(["detect", "engines"]);
      const back = await start({ CACTUS_THREADS: "2" });
      expect(back.kinds).toEqual(["detect", "engines", "benchmark"]);
      expect(back.err).toMatch(/This machine changed since its last benchmark \(Blender 3\.4\.1, 1 thread, /);
      expect(farm.to("POST", /\/agent\/benchmark$/).map((call) => (call.body as { threads: number }).threads)).toEqual([2, 1, 2]);
    });

    test("a benchmark that fails is logged and the agent renders on", async () => {
      const scene = Buffer.from("BLENDER-v304 benchmark fails");
      const task = renderTask(scene);
      farm.archives.set(task.archive.hash, scene);
      farm.queue.push(task);
      const blender = fakeBlender((run) => (run.kind === "benchmark" ? { exitCode: 3, lines: ["Error: cactus benchmark: no Cycles"] } : {}));
      const { io: agentIo, err } = io();
      expect(await main(["--once"], agentIo, { runner: blender.runner })).toBe(0);
      expect(err()).toMatch(/The benchmark did not run: cactus benchmark: no Cycles.*Rendering on without a new WUPM/);
      expect(farm.to("POST", /\/complete$/)).toHaveLength(1);
    });

    test("`cactus-agent benchmark` measures every time, prints the WUPM and sends it", async () => {
      const blender = fakeBlender(() => ({ benchmarkSeconds: [6, 6, 6] }));
      const { io: agentIo, out, err } = io({ CACTUS_THREADS: "4" });
      expect(await main(["benchmark"], agentIo, { runner: blender.runner })).toBe(0);
      expect(await main(["benchmark"], agentIo, { runner: blender.runner })).toBe(0);
      expect(blender.runs.map((run) => run.kind)).toEqual(["detect", "benchmark", "detect", "benchmark"]);
      expect(out()).toMatch(/^10\.00 WUPM \(one render of the reference frame 6\.00 s, spread 0\.0 % over 3 renders/);
      expect(err()).toMatch(/Sent to http:\/\/127\.0\.0\.1:\d+: this worker's WUPM is 10\.00 from now on/);
      expect(farm.to("POST", /\/agent\/benchmark$/)).toHaveLength(2);
    });

    test("`cactus-agent benchmark` on one thread says so: 1 thread, not 1 threads", async () => {
      const blender = fakeBlender(() => ({ benchmarkSeconds: [6, 6, 6] }));
      const { io: agentIo, out, err } = io({ CACTUS_THREADS: "1" });
      expect(await main(["benchmark"], agentIo, { runner: blender.runner })).toBe(0);
      expect(err()).toMatch(/Measuring WUPM with Blender 3\.4\.1 on 1 thread \(a few renders/);
      expect(out()).toMatch(/, 1 thread\)\n$/);
    });
  });

  test("CACTUS_AGENT_TIMINGS: each task's claim, Blender start and exit, upload and completion, in order", async () => {
    const scene = Buffer.from("BLENDER-v304 timed scene");
    const tasks = [renderTask(scene), renderTask(scene, { frameStart: 2, frameEnd: 2 })];
    farm.archives.set(tasks[0].archive.hash, scene);
    farm.queue.push(...tasks);
    const file = path.join(dir, "timings.jsonl");
    const { io: agentIo } = io({ CACTUS_AGENT_TIMINGS: file });
    expect(await main(["--once"], agentIo, { runner: fakeBlender(() => ({ frameMs: 20 })).runner })).toBe(0);
    const lines = (await fs.readFile(file, "utf8")).trim().split("\n").map((line) => JSON.parse(line));
    const steps = ["claimed", "blender-start", "blender-exit", "upload-done", "completed"];
    const of = (task: { id: number }) => lines.filter((line) => line.taskId === task.id);
    for (const task of tasks) expect(of(task).map((line) => line.event)).toEqual(steps);
    expect(lines).toHaveLength(10);
    expect(of(tasks[0])[0].kind).toBe("render");
    expect(of(tasks[1])[3].frame).toBe(2);
    const times = lines.map((line) => line.at);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // Blender's run lies between its start and exit lines: the fake takes 20 ms a frame.
    expect(of(tasks[0])[2].at - of(tasks[0])[1].at).toBeGreaterThanOrEqual(15);
    // One Blender at a time: the second starts after the first exited.
    expect(of(tasks[1])[1].at).toBeGreaterThanOrEqual(of(tasks[0])[2].at);
  });

  test("the stop signal ends a running agent with exit 0", async () => {
    const { io: agentIo, sigterm } = io();
    let loop: AgentLoop | undefined;
    const running = main(["run"], agentIo, { runner: fakeBlender().runner, onLoop: (made) => (loop = made) });
    while (farm.to("POST", /\/claim$/).length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(loop).toBeDefined();
    sigterm();
    expect(await running).toBe(0);
  });

  test("no server or token set: exit 2 with what to set", async () => {
    const { io: agentIo, err } = io({ CACTUS_SERVER: "" });
    expect(await main(["--once"], agentIo, { runner: fakeBlender().runner })).toBe(2);
    expect(err()).toMatch(/No server set: set CACTUS_SERVER/);
    const second = io({ CACTUS_WORKER_TOKEN: "" });
    expect(await main(["run", "--once"], second.io, { runner: fakeBlender().runner })).toBe(2);
    expect(second.err()).toMatch(/No worker token set/);
  });

  test("a token the server does not know: exit 3", async () => {
    const { io: agentIo, err } = io({ CACTUS_WORKER_TOKEN: "ccw_unknown" });
    expect(await main(["--once"], agentIo, { runner: fakeBlender().runner })).toBe(3);
    expect(err()).toMatch(/worker token is not valid/);
  });

  test("a bad schedule or an unknown option: exit 2", async () => {
    const bad = io();
    expect(await main(["--schedule", "sometimes"], bad.io, { runner: fakeBlender().runner })).toBe(2);
    expect(bad.err()).toMatch(/5 fields of cron/);
    const unknown = io();
    expect(await main(["--frobnicate"], unknown.io)).toBe(2);
    expect(unknown.err()).toMatch(/Unknown argument: frobnicate/);
  });

  describe("doctor", () => {
    const testFrames = () => fakeBlender((run) => (run.kind === "render" ? { size: { width: 32, height: 24 } } : {}));

    test("all checks pass: exit 0, and it says what it found", async () => {
      const { io: agentIo, out } = io();
      expect(await main(["doctor"], agentIo, { runner: testFrames().runner })).toBe(0);
      expect(out()).toMatch(/✓ Sandbox: bwrap \(\/usr\/bin\/bwrap\): Blender runs with no network and sees only its task's files/);
      expect(out()).toContain("✓ Blender runs: Blender 3.4.1 (blender)");
      expect(out()).toContain("· Denoiser: this Blender has no OpenImageDenoise");
      expect(out()).toMatch(/✓ Blender renders: a 32×24 test frame in/);
      expect(out()).toContain(`✓ Archive cache: ${path.join(dir, "cache")} is writable`);
      expect(out()).toContain(`✓ Server: ${farm.url} answers`);
      expect(out()).toContain('✓ Worker token: valid: this is worker "test-worker" (7)');
      expect(out()).toMatch(/All checks passed\.\n$/);
    });

    test("a wrong token, a frame of the wrong size: exit 1 with each failure", async () => {
      const { io: agentIo, out } = io({ CACTUS_WORKER_TOKEN: "ccw_unknown" });
      expect(await main(["doctor"], agentIo, { runner: fakeBlender().runner })).toBe(1);
      expect(out()).toContain("✗ Blender renders: the test frame is PNG 64×48, not a 32×24 PNG");
      expect(out()).toMatch(/✗ Worker token: .*worker token is not valid/);
      expect(out()).toMatch(/2 checks failed\.\n$/);
    });

    test("the sandbox: a warning when it is off, a failure when bwrap is required and missing", async () => {
      const off = io({ CACTUS_SANDBOX: "off" });
      expect(await main(["doctor"], off.io, { runner: testFrames().runner })).toBe(0);
      expect(off.out()).toContain("! Sandbox: off, turned off (--sandbox off): Blender runs with this user's rights");
      expect(farm.to("POST", /\/hello$/).at(-1)?.body).toMatchObject({ capabilities: { sandbox: "off" } });
      const missing = io({ CACTUS_SANDBOX: "bwrap", PATH: "/nowhere" });
      expect(await main(["doctor"], missing.io, { runner: testFrames().runner })).toBe(1);
      expect(missing.out()).toMatch(/✗ Sandbox: Blender cannot run in a sandbox here: bwrap is not installed/);
      expect(missing.out()).toContain("✓ Blender runs");
    });

    test("no server answering: the server check fails and the token is not tried", async () => {
      await farm.close();
      const { io: agentIo, out } = io();
      expect(await main(["doctor"], agentIo, { runner: testFrames().runner })).toBe(1);
      expect(out()).toMatch(/✗ Server: GET \/health: no answer from .*ECONNREFUSED/);
      expect(out()).not.toContain("Worker token");
    });
  });
});
