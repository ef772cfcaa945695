import type { Sequelize } from "sequelize";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { connectDatabase } from "../../app/lib/db.server";
import type { RenderEvent } from "../../domain/render-lifecycle";
import { applyRenderEvent, claimTask, createInspectTask, failTask, heartbeatTask, nextArchives } from "../../db/sql/queue";
import { createTestDatabase } from "../helpers/db";
import { farm, type Farm } from "../helpers/farm";

// Who gets which task: eligibility, order, and concurrent claims.

let sequelize: Sequelize;
let f: Farm;

beforeAll(async () => {
  sequelize = connectDatabase(await createTestDatabase());
  f = farm(sequelize);
});
afterAll(() => sequelize.close());

const claim = (workerId: number) => claimTask(sequelize, { workerId });
/** Applies a lifecycle event; whether the render took it. */
const changed = async (renderId: number, event: RenderEvent) => (await applyRenderEvent(sequelize, renderId, event)) !== null;

test("50 concurrent claims never hand out one task twice", async () => {
  const user = await f.user();
  const workers = await Promise.all(Array.from({ length: 50 }, () => f.worker(user)));
  await f.render(user, { frames: "1-30" });

  const claimed = await Promise.all(workers.map((worker) => claim(worker)));

  const got = claimed.filter((task) => task !== null);
  expect(got).toHaveLength(30);
  expect(new Set(got.map((task) => task.id)).size).toBe(30);
  expect(got.map((task) => task.frameStart).sort((a, b) => a! - b!)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  const leased = await f.all<{ worker_id: number }>(
    `SELECT worker_id FROM tasks t JOIN renders r ON r.id = t.render_id WHERE r.created_by = $user AND t.status = 'leased'`,
    { user },
  );
  expect(new Set(leased.map((task) => task.worker_id)).size).toBe(30);
});

test("the claim returns what the agent needs, and the render starts", async () => {
  const user = await f.user();
  const worker = await f.worker(user);
  const archiveId = await f.archive(user, { resolutionX: 1920, resolutionY: 1080, resolutionPercentage: 50 });
  const renderId = await f.render(user, { archiveId, frames: "10-20", chunk: 5 });

  const task = await claim(worker);

  expect(task).toMatchObject({
    kind: "render",
    renderId,
    frameStart: 10,
    frameEnd: 14,
    outputFormat: "PNG",
    leaseSeconds: 60,
    archive: { id: archiveId, size: 1234, kind: "blend", mainPath: null },
    expected: { width: 960, height: 540 },
  });
  expect(task!.leaseToken).toMatch(/^[0-9a-f-]{36}$/);
  expect(task!.leaseExpiresAt.getTime() - Date.now()).toBeGreaterThan(55_000);
  const render = await f.one<{ status: string; started_at: Date | null }>(
    `SELECT status, started_at FROM renders WHERE id = $renderId`,
    { renderId },
  );
  expect(render.status).toBe("rendering");
  expect(render.started_at).not.toBeNull();
  const row = await f.one<{ attempts: number; worker_id: number }>(`SELECT attempts, worker_id FROM tasks WHERE id = $id`, {
    id: task!.id,
  });
  expect(row).toEqual({ attempts: 1, worker_id: worker });
});

test("the claim carries the render's options and the frame size recorded with them", async () => {
  const user = await f.user();
  const options = { scene: "Shot 2", camera: "Close up", viewLayer: "Mist", resolutionPercentage: 25, samples: 16 };
  await f.render(user, { frames: "1", output: { width: 480, height: 270 }, options });

  expect(await claim(await f.worker(user))).toMatchObject({ expected: { width: 480, height: 270 }, options });
});

test("a render whose scene is not read yet: no size to check, no options", async () => {
  const user = await f.user();
  await f.render(user, { frames: "1", output: null });
  expect(await claim(await f.worker(user))).toMatchObject({
    expected: null,
    options: { scene: null, camera: null, viewLayer: null, resolutionPercentage: null, samples: null },
  });
});

describe("engines", () => {
  test("a worker gets only renders of the engines it rendered a test frame with", async () => {
    const user = await f.user();
    const eevee = await f.render(user, { frames: "1", engine: "BLENDER_EEVEE", priceMilli: 500 });
    const cycles = await f.render(user, { frames: "1", engine: "CYCLES" });
    const cyclesOnly = await f.worker(user, { engines: ["CYCLES"] });
    // The dearer Eevee render is passed over for the Cycles one.
    expect((await claim(cyclesOnly))?.renderId).toBe(cycles);
    expect(await claim(cyclesOnly)).toBeNull();
    expect((await claim(await f.worker(user, { engines: ["BLENDER_EEVEE", "CYCLES"] })))?.renderId).toBe(eevee);
  });

  test("an agent too old to say which engines takes any; a render whose engine is not known goes to anyone", async () => {
    const user = await f.user();
    const eevee = await f.render(user, { frames: "1", engine: "BLENDER_EEVEE" });
    const unknown = await f.render(user, { frames: "1", engine: null });
    expect((await claim(await f.worker(user, { engines: [] })))?.renderId).toBe(unknown);
    expect((await claim(await f.worker(user)))?.renderId).toBe(eevee);
  });
});

test("highest price first, then the oldest render, samples first, then frame order", async () => {
  const user = await f.user();
  const worker = await f.worker(user);
  const hour = 3_600_000;
  const cheapOld = await f.render(user, { frames: "1", priceMilli: 100, createdAt: new Date(Date.now() - 3 * hour) });
  const dearNew = await f.render(user, { frames: "1", priceMilli: 500, createdAt: new Date(Date.now() - hour) });
  const dearOld = await f.render(user, {
    frames: "1-3",
    priceMilli: 500,
    createdAt: new Date(Date.now() - 2 * hour),
    samples: [3],
  });

  const order = [];
  for (let i = 0; i < 5; i++) {
    const task = await claim(worker);
    order.push([task!.renderId, task!.frameStart]);
  }

  expect(order).toEqual([
    [dearOld, 3],
    [dearOld, 1],
    [dearOld, 2],
    [dearNew, 1],
    [cheapOld, 1],
  ]);
  expect(await claim(worker)).toBeNull();
});

test("only the render owner's own workers get its tasks", async () => {
  const owner = await f.user();
  const stranger = await f.worker(await f.user());
  await f.render(owner, { frames: "1" });

  expect(await claim(stranger)).toBeNull();
  expect(await claim(await f.worker(owner))).not.toBeNull();
});

test("a disabled worker gets nothing", async () => {
  const user = await f.user();
  await f.render(user, { frames: "1" });

  expect(await claim(await f.worker(user, { enabled: false }))).toBeNull();
  expect(await claim(await f.worker(user))).not.toBeNull();
});

test("a render that needs a denoiser goes only to workers that have one", async () => {
  const user = await f.user();
  const renderId = await f.render(user, { frames: "1", needsDenoiser: true });

  expect(await claim(await f.worker(user))).toBeNull();
  expect((await claim(await f.worker(user, { denoiser: true })))?.renderId).toBe(renderId);
});

test("renders that are not runnable hand out nothing", async () => {
  const user = await f.user();
  const worker = await f.worker(user);
  for (const status of ["quoted", "paused", "cancelled", "failed", "done", "needs-credits"] as const) {
    await f.render(user, { frames: "1", status });
  }
  expect(await claim(worker)).toBeNull();

  const estimating = await f.render(user, { frames: "1", status: "estimating" });
  expect((await claim(worker))?.renderId).toBe(estimating);
  const stillEstimating = await f.one<{ status: string }>(`SELECT status FROM renders WHERE id = $estimating`, { estimating });
  expect(stillEstimating.status).toBe("estimating");
});

describe("pause and resume", () => {
  test("a paused render's tasks wait, its running task hears stop, and resume hands them out again", async () => {
    const user = await f.user();
    const worker = await f.worker(user);
    const renderId = await f.render(user, { frames: "1-2" });
    const running = (await claim(worker))!;

    expect(await changed(renderId, "paused")).toBe(true);

    expect(await claim(await f.worker(user))).toBeNull();
    const lease = { taskId: running.id, workerId: worker, leaseToken: running.leaseToken };
    expect(await heartbeatTask(sequelize, { ...lease, progress: 0.5 })).toEqual({
      keepRunning: false,
      reason: "The render was paused.",
    });
    expect(await changed(renderId, "paused")).toBe(false);

    expect(await changed(renderId, "resumed")).toBe(true);
    const status = await f.one<{ status: string }>(`SELECT status FROM renders WHERE id = $renderId`, { renderId });
    expect(status.status).toBe("rendering");
    expect((await claim(worker))?.frameStart).toBe(2);
    expect(await heartbeatTask(sequelize, { ...lease, progress: 0.6 })).toMatchObject({ keepRunning: true });
  });

  test("a render paused before it started resumes as queued", async () => {
    const user = await f.user();
    const renderId = await f.render(user, { frames: "1" });
    await changed(renderId, "paused");
    await changed(renderId, "resumed");
    const render = await f.one<{ status: string }>(`SELECT status FROM renders WHERE id = $renderId`, { renderId });
    expect(render.status).toBe("queued");
    expect(await changed(renderId, "resumed")).toBe(false);
  });
});

describe("blocklist", () => {
  test("a worker that failed 3 tasks of a render gets none of its tasks any more", async () => {
    const user = await f.user();
    const [clumsy, steady] = [await f.worker(user), await f.worker(user)];
    const renderId = await f.render(user, { frames: "1-5" });
    const other = await f.render(user, { frames: "1", createdAt: new Date(Date.now() + 60_000) });

    const answers: Awaited<ReturnType<typeof failTask>>[] = [];
    for (let i = 0; i < 3; i++) {
      const task = (await claim(clumsy))!;
      expect(task.renderId).toBe(renderId);
      answers.push(await failTask(sequelize, { taskId: task.id, workerId: clumsy, leaseToken: task.leaseToken, error: "boom" }));
    }
    expect(answers.map((answer) => answer !== "stale" && answer.workerBlocklisted)).toEqual([false, false, true]);

    // Two frames of the render are still untouched, but not for this worker.
    expect((await claim(clumsy))?.renderId).toBe(other);
    expect(await claim(clumsy)).toBeNull();
    expect((await claim(steady))?.renderId).toBe(renderId);
  });

  test("a worker never gets again a task it failed", async () => {
    const user = await f.user();
    const [worker, other] = [await f.worker(user), await f.worker(user)];
    await f.render(user, { frames: "1-2" });

    const first = (await claim(worker))!;
    const failed = await failTask(sequelize, { taskId: first.id, workerId: worker, leaseToken: first.leaseToken, error: "no" });
    expect(failed).toMatchObject({ taskStatus: "queued", renderStatus: "rendering", workerBlocklisted: false });

    const second = (await claim(worker))!;
    expect(second.frameStart).toBe(2);
    await failTask(sequelize, { taskId: second.id, workerId: worker, leaseToken: second.leaseToken, error: "no" });
    expect(await claim(worker)).toBeNull();
    expect((await claim(other))?.id).toBe(first.id);
  });
});

describe("inspect tasks", () => {
  test("go to the archive owner's workers, before any render task", async () => {
    const user = await f.user();
    const worker = await f.worker(user);
    await f.render(user, { frames: "1", priceMilli: 9_000 });
    const archiveId = await f.archive(user);
    await sequelize.query(`UPDATE archives SET inspected_at = NULL WHERE id = $archiveId`, { bind: { archiveId } });
    const taskId = await createInspectTask(sequelize, archiveId);

    expect(await claim(await f.worker(await f.user()))).toBeNull();
    const task = await claim(worker);

    expect(task).toMatchObject({
      id: taskId,
      kind: "inspect",
      renderId: null,
      frameStart: null,
      frameEnd: null,
      outputFormat: null,
      archive: { id: archiveId, kind: "blend" },
      expected: null,
    });
    expect((await claim(worker))?.kind).toBe("render");
  });

  test("the schema refuses a task without the owner its kind needs", async () => {
    const user = await f.user();
    const renderId = await f.render(user, { frames: "1" });
    const archiveId = await f.archive(user);
    await expect(
      sequelize.query(`INSERT INTO tasks (kind, archive_id) VALUES ('render', $archiveId)`, { bind: { archiveId } }),
    ).rejects.toThrow(/tasks_owner/);
    await expect(
      sequelize.query(`INSERT INTO tasks (kind, render_id) VALUES ('inspect', $renderId)`, { bind: { renderId } }),
    ).rejects.toThrow(/tasks_owner/);
    await expect(
      sequelize.query(`INSERT INTO tasks (kind, render_id) VALUES ('render', $renderId)`, { bind: { renderId } }),
    ).rejects.toThrow(/tasks_owner/);
    await expect(
      sequelize.query(`INSERT INTO tasks (kind, render_id, frame_start, frame_end) VALUES ('render', $renderId, 5, 4)`, {
        bind: { renderId },
      }),
    ).rejects.toThrow(/tasks_owner/);
  });

  // Migration 0005 moved these rules out of CHECK constraints (which Postgres plans again
  // on every UPDATE): they still hold.
  test("the schema refuses an unknown status or kind, progress outside 0–1, and a task moved to another owner", async () => {
    const user = await f.user();
    const renderId = await f.render(user, { frames: "1-2" });
    const archiveId = await f.archive(user);
    const { id: taskId } = await f.one<{ id: number }>(`SELECT id FROM tasks WHERE render_id = $renderId LIMIT 1`, { renderId });
    const update = (set: string) => sequelize.query(`UPDATE tasks SET ${set} WHERE id = $taskId`, { bind: { taskId, archiveId } });

    await expect(update("status = 'lost'")).rejects.toThrow(/task_status/);
    await expect(update("kind = 'bake'")).rejects.toThrow(/task_kind/);
    await expect(update("progress = 1.5")).rejects.toThrow(/fraction/);
    await expect(update("progress = -0.1")).rejects.toThrow(/fraction/);
    await expect(update("kind = 'inspect'")).rejects.toThrow(/tasks_owner/);
    await expect(update("render_id = NULL, archive_id = $archiveId")).rejects.toThrow(/tasks_owner/);
    await expect(update("frame_end = frame_start - 1")).rejects.toThrow(/tasks_owner/);
    await expect(update("status = 'leased'")).rejects.toThrow(/tasks_lease_when_leased/);
    await update("progress = 0.25, status = 'done'");
    expect(await f.one(`SELECT status, progress FROM tasks WHERE id = $taskId`, { taskId })).toEqual({ status: "done", progress: 0.25 });
  });
});

describe("the archives a worker is likely to get next (its agent fetches them while it renders)", () => {
  const hashOf = async (archiveId: number) => (await f.one<{ hash: string }>(`SELECT hash FROM archives WHERE id = $archiveId`, { archiveId })).hash;
  const next = async (workerId: number, limit = 2) => (await nextArchives(sequelize, { workerId, limit })).map((archive) => archive.hash);

  test("in the claim's order, each archive once, leasing nothing", async () => {
    const user = await f.user();
    const workerId = await f.worker(user);
    const [cheap, dear, uninspected] = [await f.archive(user), await f.archive(user), await f.archive(user)];
    await f.render(user, { archiveId: cheap, frames: "1-4", priceMilli: 1 });
    await f.render(user, { archiveId: dear, frames: "1-2", priceMilli: 5 });
    await f.render(user, { archiveId: dear, frames: "3-4", priceMilli: 4 });
    await sequelize.query(`UPDATE archives SET inspected_at = NULL WHERE id = $uninspected`, { bind: { uninspected } });
    await createInspectTask(sequelize, uninspected);
    expect(await next(workerId, 3)).toEqual([await hashOf(uninspected), await hashOf(dear), await hashOf(cheap)]);
    expect(await next(workerId)).toEqual([await hashOf(uninspected), await hashOf(dear)]);
    const [archive] = await nextArchives(sequelize, { workerId, limit: 1 });
    expect(archive).toEqual({ hash: await hashOf(uninspected), size: 1234, kind: "blend", mainPath: null });
    expect(await f.all(`SELECT id FROM tasks WHERE worker_id = $workerId`, { workerId })).toEqual([]);
  });

  test("only work the claim would hand this worker: not a stranger's, not a render it may not take", async () => {
    const user = await f.user();
    const workerId = await f.worker(user);
    await f.render(await f.user(), { frames: "1-2" });
    await f.render(user, { frames: "1", needsDenoiser: true });
    await f.render(user, { frames: "1", status: "paused" });
    expect(await next(workerId)).toEqual([]);
    const mine = await f.archive(user);
    await f.render(user, { archiveId: mine, frames: "1" });
    expect(await next(workerId)).toEqual([await hashOf(mine)]);
    // Its one task claimed: nothing left to look ahead to.
    await claim(workerId);
    expect(await next(workerId)).toEqual([]);
    expect(await next(await f.worker(user, { enabled: false }))).toEqual([]);
  });
});
