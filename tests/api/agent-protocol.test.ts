import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { failResponseSchema, heartbeatResponseSchema, helloResponseSchema } from "../../contract";
import { Worker } from "../../db/models";
import { AgentApi, createWorkerWithToken, expectJson, HELLO, SCENE_FACTS } from "../helpers/agent-api";
import { expectApiError } from "../helpers/archive-api";
import { farm, type Farm } from "../helpers/farm";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken, testDatabase } from "../helpers/users";

// The agent protocol over real HTTP, the test acting as the agents: who may call, claims,
// leases and what becomes of a task. Frames are in agent-frames.test.ts.

let server: TestServer;
let f: Farm;

beforeAll(async () => {
  server = await startTestServer();
  f = farm(testDatabase(server));
});
afterAll(async () => {
  await closeTestDatabase();
  await server.close();
});

/** A user with one enabled worker and its agent. */
async function owner(name: string) {
  const { user, token: userToken } = await createUserWithToken(server, name);
  const { worker, token } = await createWorkerWithToken(server, user.id, { name: `${name}-pc` });
  return { user, userToken, worker, agent: new AgentApi(server, token) };
}

const SIZE = { resolutionX: 64, resolutionY: 48, resolutionPercentage: 100 };

describe("who may call", () => {
  test("no token, a token nobody has and a user's API token are 401s that say what to do", async () => {
    const { userToken } = await owner("ann");
    await expectApiError(await new AgentApi(server, null).call("POST", "/agent/claim", {}), 401, "unauthorized", /Bearer ccw_/);
    await expectApiError(await new AgentApi(server, "ccw_nope").hello(), 401, "unauthorized", /cactus worker create/);
    await expectApiError(await new AgentApi(server, userToken).call("POST", "/agent/claim", {}), 401, "unauthorized", /not valid/);
  });

  test("a worker its owner disabled is a 403 that says so, on every call, and is still seen", async () => {
    const { user } = await owner("bea");
    const { worker, token } = await createWorkerWithToken(server, user.id, { name: "old laptop", enabled: false });
    const agent = new AgentApi(server, token);
    await f.render(user.id, { archiveId: await f.archive(user.id, SIZE), frames: "1" });
    await expectApiError(await agent.hello(), 403, "forbidden", /owner disabled worker "old laptop".*cactus worker enable "old laptop"/);
    await expectApiError(await agent.call("POST", "/agent/claim", {}), 403, "forbidden", /disabled/);
    await expectApiError(await agent.downloadArchive("a".repeat(64)), 403, "forbidden", /disabled/);
    expect((await worker.reload()).lastSeenAt).not.toBeNull();
    expect(await f.one("SELECT count(*)::int AS leased FROM tasks WHERE worker_id = $id", { id: worker.id })).toEqual({ leased: 0 });
  });
});

describe("hello", () => {
  test("records the agent's Blender, threads, denoiser, version and sandbox; sleeping when it says so", async () => {
    const { worker, agent } = await owner("cai");
    const answer = helloResponseSchema.parse(await expectJson(await agent.hello(), 200));
    expect(answer).toEqual({ worker: { id: worker.id, name: "cai-pc", enabled: true }, leaseSeconds: 60, benchmark: null });
    await worker.reload();
    expect(worker.blenderVersion).toBe("3.4.1");
    expect(worker.capabilities).toEqual({ denoiser: false, threads: 4, agentVersion: "0.1.0", sandbox: "bwrap" });
    expect([worker.threads, worker.agentVersion, worker.status]).toEqual([4, "0.1.0", "idle"]);
    expect(Date.now() - worker.lastSeenAt!.getTime()).toBeLessThan(5000);

    // An agent older than the sandbox does not say: its Blender runs unconfined.
    await expectJson(await agent.hello({ ...HELLO, capabilities: { denoiser: true, threads: 16 }, status: "sleeping" }), 200);
    await worker.reload();
    expect([worker.status, worker.threads, worker.agentVersion, worker.capabilities]).toEqual([
      "sleeping",
      16,
      null,
      { denoiser: true, threads: 16, sandbox: "off" },
    ]);
  });

  test("paused by its owner, with why: listed so until the agent says it is idle again", async () => {
    const { userToken, agent } = await owner("pia");
    const listed = async () => {
      const response = await fetch(`${server.url}/api/v1/workers`, { headers: { Authorization: `Bearer ${userToken}` } });
      return ((await response.json()) as { workers: { status: string; pausedReason: string | null }[] }).workers[0];
    };
    const reason = "other programs keep 85 % of the CPU busy";
    await expectJson(await agent.hello({ ...HELLO, status: "paused", pausedReason: reason }), 200);
    expect(await listed()).toMatchObject({ status: "paused", pausedReason: reason });
    await expectJson(await agent.hello({ ...HELLO, status: "idle" }), 200);
    expect(await listed()).toMatchObject({ status: "idle", pausedReason: null });
    await expectApiError(await agent.hello({ ...HELLO, status: "paused", pausedReason: "x".repeat(301) }), 400, "bad_request", /pausedReason/);
  });

  test("a hello that does not fit the contract is a 400 naming the field", async () => {
    const { agent } = await owner("dan");
    await expectApiError(await agent.hello({ blenderVersion: "3.4.1", capabilities: { threads: 0 } }), 400, "bad_request", /capabilities\.denoiser/);
    await expectApiError(await agent.hello({ ...HELLO, capabilities: { ...HELLO.capabilities, sandbox: "chroot" } }), 400, "bad_request", /capabilities\.sandbox/);
  });
});

describe("benchmark", () => {
  const RUN = { blenderVersion: "3.4.1", cpuModel: "Test CPU 3000", threads: 4, wupm: 6, seconds: 10, renders: 5, spread: 0.04, wallSeconds: 53 };

  test("each run is kept; the last is the worker's WUPM, shown in the worker list with when it ran, and said in hello", async () => {
    const { worker, agent, userToken } = await owner("bob");
    const first = await expectJson(await agent.call("POST", "/agent/benchmark", RUN), 201);
    expect(first).toEqual({ wupm: 6, measuredAt: expect.any(String) });
    const second = (await expectJson(await agent.call("POST", "/agent/benchmark", { ...RUN, threads: 8, wupm: 11.5 }), 201)) as {
      measuredAt: string;
    };
    expect((await worker.reload()).wupm).toBe(11.5);
    const history = await f.all<{ wupm: number; hardware: unknown; seconds: number; renders: number; spread: number; wall_seconds: number }>(
      `SELECT wupm, hardware, seconds, renders, spread, wall_seconds FROM worker_benchmarks WHERE worker_id = $id ORDER BY id`,
      { id: worker.id },
    );
    expect(history).toEqual([
      { wupm: 6, hardware: { cpuModel: "Test CPU 3000", threads: 4 }, seconds: 10, renders: 5, spread: 0.04, wall_seconds: 53 },
      { wupm: 11.5, hardware: { cpuModel: "Test CPU 3000", threads: 8 }, seconds: 10, renders: 5, spread: 0.04, wall_seconds: 53 },
    ]);
    const hello = helloResponseSchema.parse(await expectJson(await agent.hello(), 200));
    expect(hello.benchmark).toEqual({ wupm: 11.5, blenderVersion: "3.4.1", cpuModel: "Test CPU 3000", threads: 8, measuredAt: second.measuredAt });
    const list = (await expectJson(
      await fetch(`${server.url}/api/v1/workers`, { headers: { Authorization: `Bearer ${userToken}` } }),
      200,
    )) as { workers: { wupm: number; wupmMeasuredAt: string }[] };
    expect(list.workers).toEqual([expect.objectContaining({ wupm: 11.5, wupmMeasuredAt: second.measuredAt })]);
  });

  test("a WUPM that is not a positive number is a 400 naming the field", async () => {
    const { agent } = await owner("bud");
    await expectApiError(await agent.call("POST", "/agent/benchmark", { ...RUN, wupm: 0 }), 400, "bad_request", /wupm/);
  });
});

describe("claim", () => {
  test("leases the owner's task with its archive, format, expected size and lease; another user's worker gets 204", async () => {
    const { user, worker, agent } = await owner("eve");
    const archiveId = await f.archive(user.id, SIZE);
    const renderId = await f.render(user.id, { archiveId, frames: "3-4" });
    const stranger = await owner("fay");

    await stranger.agent.claimNothing();
    expect((await stranger.worker.reload()).status).toBe("idle");

    const task = await agent.claim();
    const archive = await f.one<{ hash: string }>("SELECT hash FROM archives WHERE id = $archiveId", { archiveId });
    expect(task).toMatchObject({
      kind: "render",
      renderId,
      frameStart: 3,
      frameEnd: 3,
      format: "PNG",
      archive: { id: archiveId, hash: archive.hash, size: 1234, kind: "blend", mainPath: null },
      expected: { width: 64, height: 48 },
    });
    const expiresIn = Date.parse(task.leaseExpiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(50_000);
    expect(expiresIn).toBeLessThanOrEqual(61_000);
    expect(await f.one("SELECT status, worker_id, lease_token FROM tasks WHERE id = $id", { id: task.id })).toEqual({
      status: "leased",
      worker_id: worker.id,
      lease_token: task.leaseToken,
    });
    expect((await worker.reload()).status).toBe("rendering");
    expect(await f.one("SELECT status FROM renders WHERE id = $renderId", { renderId })).toEqual({ status: "rendering" });

    // The other frame, then nothing: the stranger's worker never gets any of it.
    expect((await agent.claim()).frameStart).toBe(4);
    await agent.claimNothing();
    await stranger.agent.claimNothing();
    expect((await worker.reload()).status).toBe("idle");
  });
});

describe("a leased task", () => {
  async function leased(name: string, frames = "1") {
    const who = await owner(name);
    const renderId = await f.render(who.user.id, { archiveId: await f.archive(who.user.id, SIZE), frames });
    return { ...who, renderId, task: await who.agent.claim() };
  }
  const expire = (taskId: number) => f.one("UPDATE tasks SET lease_expires_at = now() - interval '1 second' WHERE id = $taskId RETURNING id", { taskId });

  test("a heartbeat extends the lease and keeps the progress; a paused render says stop", async () => {
    const { agent, task, renderId } = await leased("gus");
    await f.one("UPDATE tasks SET lease_expires_at = now() + interval '5 seconds' WHERE id = $id RETURNING id", { id: task.id });
    const beat = heartbeatResponseSchema.parse(
      await expectJson(await agent.task(task.id, "heartbeat", { leaseToken: task.leaseToken, progress: 0.25, frame: 1 }), 200),
    );
    expect(beat.keepRunning).toBe(true);
    expect(Date.parse(beat.leaseExpiresAt!) - Date.now()).toBeGreaterThan(50_000);
    expect(await f.one("SELECT progress, lease_expires_at > now() + interval '50 seconds' AS extended FROM tasks WHERE id = $id", { id: task.id })).toEqual({
      progress: 0.25,
      extended: true,
    });

    await f.one("UPDATE renders SET status = 'paused' WHERE id = $renderId RETURNING id", { renderId });
    expect(await expectJson(await agent.task(task.id, "heartbeat", { leaseToken: task.leaseToken, progress: 0.5 }), 200)).toEqual({
      keepRunning: false,
      reason: "The render was paused.",
    });
  });

  test("a stale lease is a 409 on heartbeat, frame upload, complete, fail, release and inspection", async () => {
    const { agent, task } = await leased("hal");
    await expire(task.id);
    const lease = { leaseToken: task.leaseToken };
    const stale = /not leased to this worker any more.*claim another/;
    await expectApiError(await agent.task(task.id, "heartbeat", { ...lease, progress: 0.1 }), 409, "conflict", stale);
    await expectApiError(await agent.uploadFrame(task.id, 1, Buffer.from("png"), lease), 409, "conflict", stale);
    await expectApiError(await agent.task(task.id, "complete", lease), 409, "conflict", stale);
    await expectApiError(await agent.task(task.id, "fail", { ...lease, error: "boom" }), 409, "conflict", stale);
    // A render task is no inspect task: its lease does not take scene facts either.
    await expectApiError(await agent.task(task.id, "inspection", { ...lease, facts: SCENE_FACTS }), 409, "conflict", stale);
    // Another worker's lease token, or one that is not a uuid, is as stale.
    await expectApiError(await agent.task(task.id, "heartbeat", { leaseToken: crypto.randomUUID(), progress: 0 }), 409, "conflict", stale);
    const { agent: other } = await owner("ida");
    await expectApiError(await other.task(task.id, "release", lease), 409, "conflict", stale);
    expect(await f.one("SELECT count(*)::int AS failures FROM task_failures WHERE task_id = $id", { id: task.id })).toEqual({ failures: 0 });
  });

  test("a bad body or path is a 400 or 404 in the API's shape", async () => {
    const { agent, task } = await leased("ike");
    await expectApiError(await agent.task(task.id, "heartbeat", { leaseToken: "nope", progress: 2 }), 400, "bad_request", /leaseToken.*progress/s);
    await expectApiError(await agent.call("POST", "/agent/tasks/abc/complete", { leaseToken: task.leaseToken }), 404, "not_found", /No task abc/);
    await expectApiError(await agent.call("PUT", "/agent/claim", {}), 400, "bad_request", /PUT is not supported here; use POST/);
  });

  test("release puts the task back in the queue without a failure; the released lease is stale", async () => {
    const { agent, task } = await leased("jo");
    expect(await expectJson(await agent.task(task.id, "release", { leaseToken: task.leaseToken }), 200)).toEqual({ taskStatus: "queued" });
    expect(await f.one("SELECT status, worker_id, attempts FROM tasks WHERE id = $id", { id: task.id })).toEqual({
      status: "queued",
      worker_id: null,
      attempts: 1,
    });
    expect(await f.one("SELECT count(*)::int AS failures FROM task_failures WHERE task_id = $id", { id: task.id })).toEqual({ failures: 0 });
    await expectApiError(await agent.task(task.id, "heartbeat", { leaseToken: task.leaseToken, progress: 0 }), 409, "conflict", /not leased/);
    // The same worker may take it again: a release is no failure.
    expect((await agent.claim()).id).toBe(task.id);
  });

  test("failed by 3 different workers, the task fails and the render with it, each error kept", async () => {
    const { user, userToken, agent, task, renderId } = await leased("kim");
    // Two more machines: a failure sends the task on only while another worker may take it.
    const others: AgentApi[] = [];
    for (const name of ["kim-2", "kim-3"]) others.push(new AgentApi(server, (await createWorkerWithToken(server, user.id, { name })).token));
    const first = failResponseSchema.parse(
      await expectJson(await agent.task(task.id, "fail", { leaseToken: task.leaseToken, error: "Error: Out of memory", logTail: "Fra:1 …" }), 200),
    );
    expect(first).toEqual({ taskStatus: "queued", renderStatus: "rendering", workerBlocklisted: false, blame: "machine" });
    // Never again to the worker that failed it.
    await agent.claimNothing();

    for (const [index, next] of others.entries()) {
      const again = await next.claim();
      expect(again.id).toBe(task.id);
      const answer = await expectJson(await next.task(task.id, "fail", { leaseToken: again.leaseToken, error: `Error: crash ${index + 2}` }), 200);
      expect(answer).toEqual(
        index === 0 ? { ...first } : { taskStatus: "failed", renderStatus: "failed", workerBlocklisted: false, blame: "machine", because: "workers" },
      );
    }
    expect(await f.one("SELECT status FROM tasks WHERE id = $id", { id: task.id })).toEqual({ status: "failed" });
    expect(await f.one("SELECT status, finished_at IS NOT NULL AS finished FROM renders WHERE id = $renderId", { renderId })).toEqual({
      status: "failed",
      finished: true,
    });
    const failures = await f.all("SELECT error, log_tail FROM task_failures WHERE task_id = $id ORDER BY id", { id: task.id });
    expect(failures).toEqual([
      { error: "Error: Out of memory", log_tail: "Fra:1 …" },
      { error: "Error: crash 2", log_tail: null },
      { error: "Error: crash 3", log_tail: null },
    ]);
    // The owner reads why on the render (GET /api/v1/renders/:id).
    const render = await fetch(`${server.url}/api/v1/renders/${renderId}`, { headers: { Authorization: `Bearer ${userToken}` } });
    expect(await expectJson(render, 200)).toMatchObject({ status: "failed", failure: "Frame 1 failed on 3 workers; the last error: Error: crash 3" });
  });

  test("an agent's calls mark its worker seen, at most one write every few seconds", async () => {
    const { worker, agent, task } = await leased("lou");
    await f.one("UPDATE workers SET last_seen_at = now() - interval '1 hour' WHERE id = $id RETURNING id", { id: worker.id });
    await expectJson(await agent.task(task.id, "heartbeat", { leaseToken: task.leaseToken, progress: 0.1 }), 200);
    const seen = (await worker.reload()).lastSeenAt!;
    expect(Date.now() - seen.getTime()).toBeLessThan(5000);
    await expectJson(await agent.task(task.id, "heartbeat", { leaseToken: task.leaseToken, progress: 0.2 }), 200);
    expect((await Worker.findByPk(worker.id))!.lastSeenAt).toEqual(seen);
  });
});
