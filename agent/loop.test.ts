import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { inspectImage } from "../domain/image";
import { ArchiveCache } from "./archive-cache";
import { AgentClient, WorkerUnauthorized } from "./client";
import { AgentLoop, type LoopEvent, type LoopOptions } from "./loop";
import { OwnerWatch } from "./owner-watch";
import { parseSchedule } from "./schedule";
import { defaultSceneFacts } from "../tests/helpers/scenes";
import { type Behaviour, type FakeRun, fakeBlender } from "./testing/fake-blender";
import { type FakeFarm, type Heard, WORKER_TOKEN, renderTask, startFakeFarm } from "./testing/fake-farm";

// The loop against a fake farm over real HTTP, with Blender's runner injected.

const scene = Buffer.from("BLENDER-v304 a scene for the loop's tests");
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function agent({ behave, token = WORKER_TOKEN, ...options }: Partial<LoopOptions> & { behave?: (run: FakeRun) => Behaviour; token?: string } = {}) {
  const farm = await startFakeFarm();
  farm.archives.set(renderTask(scene).archive.hash, scene);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-loop-"));
  cleanups.push(() => farm.close(), () => fs.rm(dir, { recursive: true, force: true }));
  const client = new AgentClient({ server: farm.url, token, retry: { initialMs: 5, maxMs: 20, giveUpAfterMs: 3000 } });
  const cache = new ArchiveCache({ dir: path.join(dir, "cache"), maxBytes: 1 << 20, download: (a, f, s) => client.downloadArchive(a, f, { signal: s }) });
  await cache.open();
  const blender = fakeBlender(behave);
  const events: LoopEvent[] = [];
  const logs: string[] = [];
  const loop = new AgentLoop({
    client,
    cache,
    blender: "blender",
    threads: 2,
    agentVersion: "0.0.0-test",
    blenderInfo: { version: "3.4.1", hasDenoiser: false },
    sandbox: "bwrap",
    runner: blender.runner,
    workDir: dir,
    idle: { initialMs: 5, maxMs: 40 },
    observe: (event) => events.push(event),
    log: (message) => logs.push(message),
    ...options,
  });
  cleanups.unshift(() => loop.stop(0));
  const started = (kind: LoopEvent["kind"]) =>
    new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (events.some((event) => event.kind === kind)) {
          clearInterval(check);
          resolve();
        }
      }, 2);
    });
  return { farm, loop, blender, events, logs, dir, until: started };
}

const kinds = (events: LoopEvent[]) => events.map((event) => event.kind);
async function until(events: LoopEvent[], kind: LoopEvent["kind"]) {
  while (!events.some((event) => event.kind === kind)) await new Promise((resolve) => setTimeout(resolve, 2));
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const taskOf = (request: Heard) => Number(/\/tasks\/(\d+)\//.exec(request.path)![1]);

/** Holds the frame uploads of one task until the test lets them go. */
function holdUploads(farm: FakeFarm, taskId: number): () => void {
  let letGo: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (letGo = resolve));
  farm.intercept = async (request) => {
    if (request.method === "PUT" && taskOf(request) === taskId) await held;
    return undefined;
  };
  return letGo;
}
const inspectTask = (archive: Buffer) =>
  renderTask(archive, { kind: "inspect", renderId: null, frameStart: null, frameEnd: null, format: null, expected: null });

describe("the loop", () => {
  test("renders each task, uploads its frames, completes it, and claims the next at once", async () => {
    const { farm, loop, events, blender } = await agent({ once: true });
    farm.queue.push(renderTask(scene, { frameStart: 1, frameEnd: 3 }), ...[4, 5, 6, 7].map((frame) => renderTask(scene, { frameStart: frame, frameEnd: frame })));
    const tasks = [...farm.queue];
    await loop.run();

    const hello = farm.to("POST", /\/agent\/hello$/);
    expect(hello).toHaveLength(1);
    expect(hello[0].body).toEqual({
      blenderVersion: "3.4.1",
      capabilities: { denoiser: false, threads: 2, agentVersion: "0.0.0-test", sandbox: "bwrap" },
      status: "idle",
    });
    const uploads = farm.to("PUT", /\/frames\//);
    expect(uploads.map((upload) => upload.path.split("?")[0])).toEqual([
      `/api/v1/agent/tasks/${tasks[0].id}/frames/1`,
      `/api/v1/agent/tasks/${tasks[0].id}/frames/2`,
      `/api/v1/agent/tasks/${tasks[0].id}/frames/3`,
      ...tasks.slice(1).map((task) => `/api/v1/agent/tasks/${task.id}/frames/${task.frameStart}`),
    ]);
    for (const upload of uploads) {
      const query = new URL(upload.path, "http://x").searchParams;
      const task = tasks.find((candidate) => upload.path.includes(`/tasks/${candidate.id}/`))!;
      expect(query.get("leaseToken")).toBe(task.leaseToken);
      expect(Number(query.get("renderTimeMs"))).toBe(20); // Blender's " Time: 00:00.02" line
      expect(upload.headers["content-type"]).toBe("image/png");
      expect(inspectImage(upload.bytes!)).toEqual({ format: "PNG", width: 64, height: 48 });
    }
    const completes = farm.to("POST", /\/complete$/);
    expect(completes.map((complete) => complete.body)).toEqual(tasks.map((task) => ({ leaseToken: task.leaseToken })));
    // The archive came once for five tasks; Blender ran each with the cached copy.
    expect(farm.to("GET", /\/agent\/archives\//)).toHaveLength(1);
    expect(new Set(blender.runs.map((run) => run.argv[3])).size).toBe(1);

    // The gap: each complete is followed by the next claim, with no wait in between.
    const claims = farm.to("POST", /\/agent\/claim$/);
    expect(claims).toHaveLength(tasks.length + 1);
    const gaps = completes.map((complete, index) => claims[index + 1].at - complete.at);
    for (const gap of gaps) expect(gap).toBeLessThan(100);
    expect(kinds(events)).not.toContain("idle");
  });

  test("the next task renders while the previous one's frames upload; its own upload waits for theirs", async () => {
    const { farm, loop, blender, events } = await agent({ once: true });
    const tasks = [1, 2].map((frame) => renderTask(scene, { frameStart: frame, frameEnd: frame }));
    farm.queue.push(...tasks);
    const letGo = holdUploads(farm, tasks[0].id);
    const running = loop.run();
    while (!events.some((event) => event.kind === "blenderExited" && event.taskId === tasks[1].id)) await sleep(2);
    await sleep(30);
    expect(blender.runs.filter((run) => run.kind === "render")).toHaveLength(2);
    // The first task's frame is on its way (held), the second's waits its turn; nothing completed yet.
    expect(farm.to("PUT", /\/frames\//).map(taskOf)).toEqual([tasks[0].id]);
    expect(farm.to("POST", /\/complete$/)).toEqual([]);
    letGo();
    await running;
    expect(farm.to("PUT", /\/frames\//).map(taskOf)).toEqual(tasks.map((task) => task.id));
    expect(farm.to("POST", /\/complete$/).map((request) => request.path)).toEqual(tasks.map((task) => `/api/v1/agent/tasks/${task.id}/complete`));
    // Still one Blender at a time: the second started after the first exited.
    expect(blender.runs[1].startedAt).toBeGreaterThanOrEqual(blender.runs[0].startedAt);
    expect(kinds(events).filter((kind) => kind === "done")).toHaveLength(2);
  });

  test("at most one task uploads in the background: no third claim until its frames are delivered", async () => {
    const { farm, loop, blender, events } = await agent({ once: true });
    const tasks = [1, 2, 3].map((frame) => renderTask(scene, { frameStart: frame, frameEnd: frame }));
    farm.queue.push(...tasks);
    const letGo = holdUploads(farm, tasks[0].id);
    const running = loop.run();
    while (!events.some((event) => event.kind === "blenderExited" && event.taskId === tasks[1].id)) await sleep(2);
    await sleep(30);
    expect(farm.to("POST", /\/claim$/)).toHaveLength(2);
    expect(blender.runs.filter((run) => run.kind === "render")).toHaveLength(2);
    letGo();
    await running;
    expect(farm.to("POST", /\/claim$/)).toHaveLength(4);
    expect(farm.to("PUT", /\/frames\//).map(taskOf)).toEqual(tasks.map((task) => task.id));
    expect(farm.to("POST", /\/complete$/)).toHaveLength(3);
  });

  test("stop() waits for the frames uploading in the background, and the task rendering, to finish", async () => {
    const { farm, loop, events } = await agent({ behave: () => ({ frameMs: 30 }) });
    const tasks = [1, 2].map((frame) => renderTask(scene, { frameStart: frame, frameEnd: frame }));
    farm.queue.push(...tasks, renderTask(scene, { frameStart: 3, frameEnd: 3 }));
    const letGo = holdUploads(farm, tasks[0].id);
    const running = loop.run();
    while (!events.some((event) => event.kind === "blenderStarted" && event.taskId === tasks[1].id)) await sleep(2);
    const stopped = loop.stop(5000);
    await sleep(60);
    letGo();
    await stopped;
    await running;
    expect(farm.to("POST", /\/complete$/).map((request) => request.path)).toEqual(tasks.map((task) => `/api/v1/agent/tasks/${task.id}/complete`));
    expect(farm.to("POST", /\/release$/)).toEqual([]);
    expect(farm.to("POST", /\/claim$/)).toHaveLength(2);
  });

  test("the next claim goes out when Blender has saved the task's last frame, while it quits", async () => {
    const { farm, loop, blender, events } = await agent({ once: true, behave: (run) => ({ frameMs: 40, quitMs: run.kind === "render" ? 80 : 0 }) });
    const tasks = [renderTask(scene, { frameStart: 1, frameEnd: 1 }), renderTask(scene, { frameStart: 1, frameEnd: 2 })];
    farm.queue.push(...tasks);
    // What had happened when each claim came in.
    const seen: { exited: number[]; lastFrameWritten: boolean }[] = [];
    farm.intercept = (request) => {
      if (!request.path.endsWith("/claim")) return undefined;
      const run = blender.runs.filter((one) => one.kind === "render").at(-1);
      seen.push({
        exited: events.flatMap((event) => (event.kind === "blenderExited" ? [event.taskId] : [])),
        lastFrameWritten: run ? existsSync(path.join(run.outputDir!, `frame_0000${run.frames.at(-1)}.png`)) : false,
      });
      return undefined;
    };
    await loop.run();
    expect(farm.to("POST", /\/claim$/)).toHaveLength(3);
    // Each next claim: the task's last frame on disk, its Blender not yet gone.
    expect(seen.slice(1)).toEqual([
      { exited: [], lastFrameWritten: true },
      { exited: [tasks[0].id], lastFrameWritten: true },
    ]);
    expect(farm.to("POST", /\/complete$/)).toHaveLength(2);
  });

  test("a task claimed ahead is released when the agent stops before it runs", async () => {
    const { farm, loop, blender } = await agent({ behave: (run) => ({ quitMs: run.kind === "render" ? 150 : 0 }) });
    const tasks = [1, 2].map((frame) => renderTask(scene, { frameStart: frame, frameEnd: frame }));
    farm.queue.push(...tasks);
    const running = loop.run();
    while (farm.to("POST", /\/claim$/).length < 2) await sleep(2);
    await loop.stop(5000);
    await running;
    expect(blender.runs.filter((run) => run.kind === "render")).toHaveLength(1);
    expect(farm.to("POST", /\/complete$/).map((request) => request.path)).toEqual([`/api/v1/agent/tasks/${tasks[0].id}/complete`]);
    expect(farm.to("POST", /\/release$/).map((request) => request.path)).toEqual([`/api/v1/agent/tasks/${tasks[1].id}/release`]);
  });

  test("an empty queue backs off with jitter, doubling to the cap, and a task resets it", async () => {
    const random = [0, 1, 0.5, 0, 1, 1];
    const { farm, loop, events, until } = await agent({ idle: { initialMs: 8, maxMs: 32 }, random: () => random.shift() ?? 0 });
    const running = loop.run();
    await until("idle");
    while (events.filter((event) => event.kind === "idle").length < 5) await new Promise((resolve) => setTimeout(resolve, 5));
    farm.queue.push(renderTask(scene));
    await until("done");
    while (events.filter((event) => event.kind === "idle").length < 6) await new Promise((resolve) => setTimeout(resolve, 5));
    await loop.stop();
    await running;
    const waits = events.flatMap((event) => (event.kind === "idle" ? [event.waitMs] : []));
    // half fixed, half random: 8→[4,8], 16→[8,16], 32 (capped)→[16,32]
    expect(waits.slice(0, 5)).toEqual([4, 16, 24, 16, 32]);
    // After the task, the backoff starts again from its first wait.
    const afterTask = events.slice(events.findIndex((event) => event.kind === "claimed")).find((event) => event.kind === "idle");
    expect(afterTask).toEqual({ kind: "idle", waitMs: 8 });
  });

  test("a heartbeat answered keepRunning: false stops Blender and drops the task", async () => {
    const { farm, loop, blender, events } = await agent({ once: true, heartbeatMs: 20, behave: () => ({ hang: true }) });
    // Once Blender prints (a stop during the download is fine too, but this test is about Blender).
    farm.intercept = (request) =>
      /\/heartbeat$/.test(request.path) && (request.body as { frame?: number }).frame !== undefined
        ? { status: 200, json: { keepRunning: false, reason: "The render was cancelled." } }
        : undefined;
    farm.queue.push(renderTask(scene));
    await loop.run();
    expect(blender.runs[0].kills[0]).toBe("SIGTERM");
    expect(events).toContainEqual(expect.objectContaining({ kind: "dropped", why: "cancelled", reason: "The render was cancelled." }));
    expect(farm.to("POST", /\/(complete|fail|release)$/)).toEqual([]);
    expect(farm.to("PUT", /\/frames\//)).toEqual([]);
  });

  test("a 409 on a heartbeat drops the task: Blender stopped, nothing more said about it", async () => {
    const { farm, loop, blender, events } = await agent({ once: true, heartbeatMs: 20, behave: () => ({ hang: true }) });
    farm.intercept = (request) =>
      /\/heartbeat$/.test(request.path) && (request.body as { frame?: number }).frame !== undefined
        ? { status: 409, json: { error: { code: "conflict", message: "The lease is stale." } } }
        : undefined;
    const task = renderTask(scene);
    farm.queue.push(task);
    await loop.run();
    expect(farm.to("POST", /\/heartbeat$/).at(-1)!.body).toEqual({ leaseToken: task.leaseToken, progress: expect.any(Number), frame: 1 });
    expect(blender.runs[0].kills).toContain("SIGTERM");
    expect(events).toContainEqual(expect.objectContaining({ kind: "dropped", why: "stale" }));
    expect(farm.to("POST", /\/(complete|fail|release)$/)).toEqual([]);
  });

  test("a 403 on a heartbeat (the owner disabled this worker) drops the task: Blender stopped", async () => {
    const { farm, loop, blender, events } = await agent({ once: true, heartbeatMs: 20, behave: () => ({ hang: true }) });
    farm.intercept = (request) =>
      /\/heartbeat$/.test(request.path) && (request.body as { frame?: number }).frame !== undefined
        ? { status: 403, json: { error: { code: "forbidden", message: 'The owner disabled worker "w".' } } }
        : undefined;
    farm.queue.push(renderTask(scene));
    await loop.run();
    expect(blender.runs[0].kills).toContain("SIGTERM");
    expect(events).toContainEqual(expect.objectContaining({ kind: "dropped", why: "stale" }));
    expect(farm.to("POST", /\/(complete|fail|release)$/)).toEqual([]);
  });

  test("a 409 on a frame upload drops the task without completing it", async () => {
    const { farm, loop, events } = await agent({ once: true });
    farm.intercept = (request) => (request.method === "PUT" ? { status: 409, json: { error: { code: "conflict", message: "Not your lease." } } } : undefined);
    farm.queue.push(renderTask(scene, { frameStart: 1, frameEnd: 2 }));
    await loop.run();
    expect(farm.to("PUT", /\/frames\//)).toHaveLength(1);
    expect(farm.to("POST", /\/(complete|fail|release)$/)).toEqual([]);
    expect(events).toContainEqual(expect.objectContaining({ kind: "dropped", why: "stale" }));
  });

  test("heartbeats carry the progress Blender prints", async () => {
    const { farm, loop } = await agent({ once: true, heartbeatMs: 15, behave: () => ({ frameMs: 60 }) });
    farm.queue.push(renderTask(scene, { frameStart: 1, frameEnd: 3 }));
    await loop.run();
    const beats = farm.to("POST", /\/heartbeat$/).map((beat) => beat.body as { progress: number; frame?: number });
    expect(beats.length).toBeGreaterThan(3);
    const progress = beats.map((beat) => beat.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBeGreaterThan(0.33);
    // Before Blender's first line (while the archive comes) there is no frame yet.
    expect(new Set(beats.flatMap((beat) => (beat.frame === undefined ? [] : [beat.frame])))).toEqual(new Set([1, 2, 3]));
  });

  test("a failed Blender run reports its Error: lines and the last 200 log lines", async () => {
    const noise = Array.from({ length: 300 }, (_, index) => `line ${index}`);
    const { farm, loop, events } = await agent({
      once: true,
      behave: () => ({ exitCode: 1, skipFiles: true, lines: ["Error: Build without OpenImageDenoiser", ...noise] }),
    });
    const task = renderTask(scene);
    farm.queue.push(task);
    await loop.run();
    const [fail] = farm.to("POST", /\/fail$/);
    const body = fail.body as { leaseToken: string; error: string; logTail: string };
    expect(body.leaseToken).toBe(task.leaseToken);
    expect(body.error.split("\n")).toEqual([
      "Build without OpenImageDenoiser",
      "Blender exited with code 1.",
      "Blender did not write frame_00001.png.",
    ]);
    const tail = body.logTail.split("\n");
    expect(tail).toHaveLength(200);
    expect(tail.at(-1)).toBe("Blender quit");
    expect(tail).not.toContain("line 0");
    expect(farm.to("PUT", /\/frames\//)).toEqual([]);
    expect(farm.to("POST", /\/complete$/)).toEqual([]);
    expect(kinds(events)).toContain("failed");
  });

  test("a frame the server rejects (422) is already its failure: no fail call, no more uploads, the next claim", async () => {
    const { farm, loop, events, logs } = await agent({ once: true });
    farm.intercept = (request) =>
      request.method === "PUT" ? { status: 422, json: { error: { code: "unprocessable", message: "The image is 64×48, the scene says 1920×1080." } } } : undefined;
    const task = renderTask(scene, { frameStart: 1, frameEnd: 2 });
    farm.queue.push(task);
    await loop.run();
    // The server recorded the failure and requeued the task with the 422: a fail would be a 409.
    expect(farm.to("POST", /\/(fail|complete|release)$/)).toEqual([]);
    expect(farm.to("PUT", /\/frames\//)).toHaveLength(1);
    expect(events).toContainEqual({ kind: "failed", taskId: task.id, error: expect.stringContaining("the scene says 1920×1080") });
    expect(kinds(events)).not.toContain("dropped");
    expect(logs.join("\n")).not.toMatch(/dropped/);
    expect(farm.to("POST", /\/claim$/)).toHaveLength(2);
  });

  test("network errors and 5xx answers are retried until the server is back", async () => {
    const { farm, loop, events } = await agent({ once: true });
    const faults = new Map<RegExp, Array<"cut" | number>>([
      [/\/hello$/, [503]],
      [/\/claim$/, ["cut", 502]],
      [/\/frames\//, ["cut"]],
      [/\/heartbeat$/, []],
      [/\/complete$/, [500, "cut"]],
    ]);
    farm.intercept = (request) => {
      for (const [route, left] of faults) {
        if (!route.test(request.path) || left.length === 0) continue;
        const fault = left.shift()!;
        return fault === "cut" ? "cut" : { status: fault, json: { error: { code: "internal", message: "Restarting." } } };
      }
      return undefined;
    };
    farm.queue.push(renderTask(scene));
    await loop.run();
    expect(farm.to("POST", /\/complete$/)).toHaveLength(3);
    expect(farm.to("PUT", /\/frames\//)).toHaveLength(2);
    expect(kinds(events)).toEqual(["claimed", "blenderStarted", "blenderExited", "uploaded", "done"]);
  });

  test("--once ends the loop at the first claim that finds no work", async () => {
    const { farm, loop, events } = await agent({ once: true });
    await loop.run();
    expect(farm.heard.map((request) => request.path)).toEqual(["/api/v1/agent/hello", "/api/v1/agent/claim"]);
    expect(events).toEqual([]);
  });

  test("stop() releases the lease when the task does not end within the grace period", async () => {
    // Still on its frame when stopped: no frame saved, so no early claim of the next task.
    const { farm, loop, blender, until, events } = await agent({ behave: () => ({ frameMs: 60_000, hang: true }) });
    const task = renderTask(scene);
    farm.queue.push(task, renderTask(scene));
    const running = loop.run();
    await until("blenderStarted");
    await loop.stop(30);
    await running;
    expect(blender.runs[0].kills[0]).toBe("SIGTERM");
    expect(farm.to("POST", /\/release$/).map((request) => request.body)).toEqual([{ leaseToken: task.leaseToken }]);
    expect(farm.to("POST", /\/(complete|fail)$/)).toEqual([]);
    expect(farm.to("POST", /\/claim$/)).toHaveLength(1);
    expect(events.at(-1)).toEqual(expect.objectContaining({ kind: "dropped", why: "shutdown" }));
  });

  test("stop() lets a task that ends within the grace period finish, then claims nothing more", async () => {
    const { farm, loop, until } = await agent({ behave: () => ({ frameMs: 80 }) });
    farm.queue.push(renderTask(scene), renderTask(scene));
    const running = loop.run();
    await until("blenderStarted");
    await loop.stop(5000);
    await running;
    expect(farm.to("POST", /\/complete$/)).toHaveLength(1);
    expect(farm.to("POST", /\/release$/)).toEqual([]);
    expect(farm.to("POST", /\/claim$/)).toHaveLength(1);
  });

  test("a Blender that dies with the agent (Ctrl-C reaches both) is released, not failed", async () => {
    const { farm, loop, blender, until } = await agent({ behave: () => ({ hang: true }) });
    const task = renderTask(scene);
    farm.queue.push(task);
    const running = loop.run();
    await until("blenderStarted");
    while (blender.runs.length === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    const stopped = loop.stop(5000);
    blender.runs[0].interrupt("SIGINT");
    await stopped;
    await running;
    expect(farm.to("POST", /\/release$/).map((request) => request.body)).toEqual([{ leaseToken: task.leaseToken }]);
    expect(farm.to("POST", /\/fail$/)).toEqual([]);
  });

  test("an idle agent's claim is a long poll: asked again at once after the server held it, and cut by a stop", async () => {
    const { farm, loop, events } = await agent({ claimWaitSeconds: 20 });
    let held = 0;
    farm.intercept = async (request) => {
      if (!request.path.endsWith("/claim")) return undefined;
      held += 1;
      // The first is held a while and comes back empty; the second is held until the agent hangs up.
      await (held === 1 ? sleep(1100) : new Promise(() => undefined));
      return { status: 204 };
    };
    const running = loop.run();
    while (farm.to("POST", /\/claim$/).length < 2) await sleep(5);
    expect(farm.to("POST", /\/claim$/).map((request) => request.body)).toEqual([{ waitSeconds: 20 }, { waitSeconds: 20 }]);
    const [first, second] = farm.to("POST", /\/claim$/);
    expect(second.at - first.at).toBeLessThan(1100 + 200);
    expect(kinds(events)).not.toContain("idle");
    const before = Date.now();
    await loop.stop();
    await running;
    expect(Date.now() - before).toBeLessThan(500);
  });

  test("--once never waits on a claim", async () => {
    const { farm, loop } = await agent({ once: true, claimWaitSeconds: 20 });
    await loop.run();
    expect(farm.to("POST", /\/claim$/).map((request) => request.body)).toEqual([{}]);
  });

  test("the owner's work pauses it: the task rendering gets its grace, then goes back; hello says why; quiet again, it claims", async () => {
    let reading = { machineBusy: 0, machineTotal: 0, own: 0, interactiveBlender: null as string | null };
    let now = 0;
    const owner = new OwnerWatch({ rules: { busyCpu: 0.5, busyAfterMs: 10_000, idleAfterMs: 10_000 }, probe: () => reading, now: () => now });
    const step = (others: number) => {
      now += 5000;
      reading = { ...reading, machineBusy: reading.machineBusy + others * 1000, machineTotal: reading.machineTotal + 1000 };
      owner.sample();
    };
    owner.sample();
    let renders = 0;
    const { farm, loop, events, logs } = await agent({ owner, pauseGraceMs: 50, behave: (run) => ({ hang: run.kind === "render" && ++renders === 1 }) });
    const task = renderTask(scene);
    farm.queue.push(task);
    const running = loop.run();
    await until(events, "blenderStarted");
    for (let index = 0; index < 3; index += 1) step(0.8);
    await until(events, "dropped");
    expect(events.find((event) => event.kind === "dropped")).toMatchObject({ taskId: task.id, why: "paused" });
    expect(farm.to("POST", /\/release$/).map((request) => request.body)).toEqual([{ leaseToken: task.leaseToken }]);
    expect(farm.to("POST", /\/fail$/)).toEqual([]);
    while (farm.to("POST", /\/hello$/).length < 2) await sleep(5);
    expect(farm.to("POST", /\/hello$/)[1].body).toMatchObject({ status: "paused", pausedReason: "other programs keep 80 % of the CPU busy" });
    expect(logs).toContain(`The machine is busy (other programs keep 80 % of the CPU busy): task ${task.id} has 0 s to finish, else it goes back to the queue.`);
    // Paused: it asks for nothing, even with work queued.
    const claims = farm.to("POST", /\/claim$/).length;
    farm.queue.push(renderTask(scene));
    await sleep(100);
    expect(farm.to("POST", /\/claim$/)).toHaveLength(claims);
    for (let index = 0; index < 4; index += 1) step(0.05);
    while (!events.some((event) => event.kind === "done")) await sleep(5);
    expect(logs).toContain("Resumed: the machine is quiet again.");
    expect(farm.to("POST", /\/hello$/).at(-1)?.body).toMatchObject({ status: "idle" });
    await loop.stop();
    await running;
  });

  test("while a frame renders it fetches the archive of the work it gets next, so that task downloads nothing", async () => {
    const other = Buffer.from("BLENDER-v304 the next render's scene");
    const { farm, loop, logs } = await agent({ once: true, behave: () => ({ frameMs: 300 }) });
    const first = renderTask(scene);
    const next = renderTask(other);
    farm.archives.set(next.archive.hash, other);
    farm.next = [first.archive, next.archive];
    farm.queue.push(first, next);
    await loop.run();
    const fetched = farm.to("GET", /\/agent\/archives\//).map((request) => request.path.split("/").pop());
    expect(fetched).toEqual([first.archive.hash, next.archive.hash]);
    const [, fetchedNext] = farm.to("GET", /\/agent\/archives\//);
    const claimedNext = farm.to("POST", /\/claim$/)[1];
    expect(fetchedNext.at).toBeLessThan(claimedNext.at);
    expect(farm.to("GET", /\/next-archives$/)).toHaveLength(1);
    expect(logs.some((line) => line.startsWith(`Fetched archive ${next.archive.hash.slice(0, 12)} ahead of its task`))).toBe(true);
    expect(farm.to("POST", /\/complete$/)).toHaveLength(2);
  });

  test("an idle agent stops at once", async () => {
    const { loop, until } = await agent({ idle: { initialMs: 60_000, maxMs: 60_000 } });
    const running = loop.run();
    await until("idle");
    const before = Date.now();
    await loop.stop();
    await running;
    expect(Date.now() - before).toBeLessThan(500);
  });

  test("an inspect task posts the scene facts Blender printed", async () => {
    const { farm, loop, blender } = await agent({ once: true });
    const task = inspectTask(scene);
    farm.queue.push(task);
    await loop.run();
    expect(blender.runs.map((run) => run.kind)).toEqual(["inspect"]);
    expect(farm.to("POST", /\/inspection$/).map((request) => request.body)).toEqual([{ leaseToken: task.leaseToken, facts: defaultSceneFacts() }]);
  });

  test("an inspect task whose facts do not fit fails with why", async () => {
    const { farm, loop } = await agent({ once: true, behave: () => ({ facts: { frameStart: "one" } }) });
    farm.queue.push(inspectTask(scene));
    await loop.run();
    expect((farm.to("POST", /\/fail$/)[0].body as { error: string }).error).toMatch(/scene facts Blender printed do not fit/);
    expect(farm.to("POST", /\/inspection$/)).toEqual([]);
  });

  test("a render task without frames is failed with why, not rendered", async () => {
    const { farm, loop, blender } = await agent({ once: true });
    farm.queue.push(renderTask(scene, { frameStart: null, frameEnd: null }));
    await loop.run();
    expect((farm.to("POST", /\/fail$/)[0].body as { error: string }).error).toMatch(/without its frames or format/);
    expect(blender.runs).toEqual([]);
  });

  test("an archive that does not hash to its sha256 fails the task, and Blender never runs", async () => {
    const { farm, loop, blender } = await agent({ once: true });
    const task = renderTask(scene);
    farm.archives.set(task.archive.hash, Buffer.from(scene).fill(0x41, 0, 4));
    farm.queue.push(task);
    await loop.run();
    expect((farm.to("POST", /\/fail$/)[0].body as { error: string }).error).toMatch(/sha256 .* not the \d+ bytes of/);
    expect(blender.runs).toEqual([]);
  });

  test("outside its schedule the agent claims nothing and tells the server it sleeps", async () => {
    const noon = new Date(2024, 0, 1, 12, 0, 30);
    const { farm, loop, events, until } = await agent({ schedule: parseSchedule("* 3 * * *"), now: () => noon });
    const running = loop.run();
    await until("sleeping");
    while (farm.to("POST", /\/hello$/).length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await loop.stop();
    await running;
    expect(farm.to("POST", /\/hello$/)[0].body).toEqual(expect.objectContaining({ status: "sleeping" }));
    expect(farm.to("POST", /\/claim$/)).toEqual([]);
    expect(events).toEqual([{ kind: "sleeping", until: new Date(2024, 0, 2, 3, 0, 0) }]);
  });

  test("a token the server does not know ends the loop with an error that says what to do", async () => {
    const { loop } = await agent({ token: "ccw_wrong" });
    await expect(loop.run()).rejects.toThrow(WorkerUnauthorized);
    await expect(loop.run()).rejects.toThrow(/cactus worker create/);
  });
});
