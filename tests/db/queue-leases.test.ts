import type { Sequelize } from "sequelize";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { connectDatabase } from "../../app/lib/db.server";
import type { RenderEvent } from "../../domain/render-lifecycle";
import {
  applyRenderEvent,
  claimTask,
  completeInspection,
  completeTask,
  createInspectTask,
  failTask,
  findLeasedTask,
  heartbeatTask,
  reapExpiredLeases,
  recordResult,
  rejectResult,
  releaseTask,
  workerHoldsArchive,
  type Lease,
} from "../../db/sql/queue";
import { createTestDatabase } from "../helpers/db";
import { farm, type Farm } from "../helpers/farm";

// The life of a lease: heartbeats, results, completion, failures, expiry, cancel.

let sequelize: Sequelize;
let f: Farm;

beforeAll(async () => {
  sequelize = connectDatabase(await createTestDatabase());
  f = farm(sequelize);
});
afterAll(() => sequelize.close());

/** A user with one worker holding the lease of the first task of a new render. */
async function leased(options: Parameters<Farm["render"]>[1] = {}) {
  const user = await f.user();
  const workerId = await f.worker(user);
  const renderId = await f.render(user, options);
  const task = (await claimTask(sequelize, { workerId }))!;
  const lease: Lease = { taskId: task.id, workerId, leaseToken: task.leaseToken };
  return { user, workerId, renderId, task, lease };
}

const frame = (n: number) => ({
  frame: n,
  imageKey: `renders/frame-${n}.png`,
  imageBytes: 1000 + n,
  thumbnailKey: null,
  width: 64,
  height: 48,
  renderTimeMs: 1500,
  blenderVersion: "3.4.1",
});

/** Applies a lifecycle event; whether the render took it. */
const changed = async (renderId: number, event: RenderEvent) => (await applyRenderEvent(sequelize, renderId, event)) !== null;
const expireLease = (taskId: number) =>
  sequelize.query(`UPDATE tasks SET lease_expires_at = now() - interval '1 second' WHERE id = $taskId`, { bind: { taskId } });

const renderStatus = async (renderId: number) =>
  (await f.one<{ status: string }>(`SELECT status FROM renders WHERE id = $renderId`, { renderId })).status;

test("a render from claim to done: heartbeat, frames, complete", async () => {
  const { user, workerId, renderId, task, lease } = await leased({ frames: "1-3", chunk: 2 });
  expect(await findLeasedTask(sequelize, lease)).toMatchObject({ id: task.id, frameStart: 1, frameEnd: 2, frameStep: 1 });
  await sequelize.query(`UPDATE tasks SET lease_expires_at = now() + interval '5 seconds' WHERE id = $id`, {
    bind: { id: task.id },
  });

  const beat = await heartbeatTask(sequelize, { ...lease, progress: 0.4 });
  expect(beat).toMatchObject({ keepRunning: true });
  expect(beat !== "stale" && beat.keepRunning && beat.leaseExpiresAt.getTime() - Date.now()).toBeGreaterThan(55_000);

  expect(await recordResult(sequelize, lease, frame(1))).toMatchObject({ ok: true, duplicate: false });
  expect(await completeTask(sequelize, lease)).toEqual({ ok: false, reason: "missing-frames", frames: [2] });
  expect(await recordResult(sequelize, lease, frame(3))).toEqual({ ok: false, reason: "not-in-task" });
  expect(await recordResult(sequelize, lease, frame(2))).toMatchObject({ ok: true });
  expect(await completeTask(sequelize, lease)).toEqual({ ok: true, renderId, renderStatus: "rendering" });
  expect(await completeTask(sequelize, lease)).toEqual({ ok: false, reason: "stale" });

  const last = (await claimTask(sequelize, { workerId }))!;
  const lastLease = { taskId: last.id, workerId, leaseToken: last.leaseToken };
  await recordResult(sequelize, lastLease, frame(3));
  expect(await completeTask(sequelize, lastLease)).toEqual({ ok: true, renderId, renderStatus: "done" });

  const render = await f.one<{ status: string; finished_at: Date | null }>(
    `SELECT status, finished_at FROM renders WHERE id = $renderId`,
    { renderId },
  );
  expect(render.status).toBe("done");
  expect(render.finished_at).not.toBeNull();
  const results = await f.all<{ frame: number; author_id: number; worker_id: number }>(
    `SELECT frame, author_id, worker_id FROM results WHERE render_id = $renderId AND accepted ORDER BY frame`,
    { renderId },
  );
  expect(results).toEqual([1, 2, 3].map((n) => ({ frame: n, author_id: user, worker_id: workerId })));
});

test("the last two tasks completed at once leave the render done", async () => {
  const user = await f.user();
  const workers = [await f.worker(user), await f.worker(user)];
  const renderId = await f.render(user, { frames: "1-2" });
  const leases = await Promise.all(
    workers.map(async (workerId) => {
      const task = (await claimTask(sequelize, { workerId }))!;
      const lease = { taskId: task.id, workerId, leaseToken: task.leaseToken };
      await recordResult(sequelize, lease, frame(task.frameStart!));
      return lease;
    }),
  );
  await Promise.all(leases.map((lease) => completeTask(sequelize, lease)));
  expect(await renderStatus(renderId)).toBe("done");
});

describe("stale leases are refused", () => {
  test("an expired lease: heartbeat, result, complete, fail", async () => {
    const { task, lease } = await leased({ frames: "1" });
    await expireLease(task.id);

    expect(await heartbeatTask(sequelize, { ...lease, progress: 0.5 })).toBe("stale");
    expect(await recordResult(sequelize, lease, frame(1))).toEqual({ ok: false, reason: "stale" });
    expect(await completeTask(sequelize, lease)).toEqual({ ok: false, reason: "stale" });
    expect(await failTask(sequelize, { ...lease, error: "late" })).toBe("stale");
    expect(await findLeasedTask(sequelize, lease)).toBeNull();
  });

  test("another token, another worker, or not a token at all", async () => {
    const { user, lease } = await leased({ frames: "1" });
    const otherWorker = await f.worker(user);
    for (const wrong of [
      { ...lease, leaseToken: "00000000-0000-4000-8000-000000000000" },
      { ...lease, workerId: otherWorker },
      { ...lease, leaseToken: "not-a-token" },
    ]) {
      expect(await heartbeatTask(sequelize, { ...wrong, progress: 0.1 })).toBe("stale");
      expect(await recordResult(sequelize, wrong, frame(1))).toEqual({ ok: false, reason: "stale" });
      expect(await completeTask(sequelize, wrong)).toEqual({ ok: false, reason: "stale" });
      expect(await releaseTask(sequelize, wrong)).toBe("stale");
    }
    expect(await heartbeatTask(sequelize, { ...lease, progress: 0.1 })).toMatchObject({ keepRunning: true });
  });
});

test("the reaper puts expired leases back in the queue, and only those", async () => {
  await reapExpiredLeases(sequelize); // what earlier tests left expired
  const user = await f.user();
  const [gone, alive] = [await f.worker(user), await f.worker(user)];
  const render = await f.render(user, { frames: "1-2" });
  const lost = (await claimTask(sequelize, { workerId: gone }))!;
  const kept = (await claimTask(sequelize, { workerId: alive }))!;
  await expireLease(lost.id);

  expect(await reapExpiredLeases(sequelize)).toEqual([render]);

  const rows = await f.all<{ id: number; status: string; worker_id: number | null; lease_token: string | null }>(
    `SELECT id, status, worker_id, lease_token FROM tasks WHERE id IN ($lost, $kept) ORDER BY frame_start`,
    { lost: lost.id, kept: kept.id },
  );
  expect(rows).toEqual([
    { id: lost.id, status: "queued", worker_id: null, lease_token: null },
    { id: kept.id, status: "leased", worker_id: alive, lease_token: kept.leaseToken },
  ]);
  expect(await reapExpiredLeases(sequelize)).toEqual([]);
  // An expiry is not a failure: the same machine may take the task again.
  expect((await claimTask(sequelize, { workerId: gone }))?.id).toBe(lost.id);
  expect(await heartbeatTask(sequelize, { taskId: lost.id, workerId: gone, leaseToken: lost.leaseToken, progress: 0 })).toBe(
    "stale",
  );
});

test("a frame is accepted once, even when a second lease renders it again", async () => {
  const { user, workerId, renderId, task, lease } = await leased({ frames: "1" });
  const first = await recordResult(sequelize, lease, frame(1));
  await expireLease(task.id);
  await reapExpiredLeases(sequelize);

  const second = await f.worker(user);
  const again = (await claimTask(sequelize, { workerId: second }))!;
  const againLease = { taskId: again.id, workerId: second, leaseToken: again.leaseToken };
  const duplicate = await recordResult(sequelize, againLease, frame(1));

  expect(first.ok && duplicate.ok && duplicate.resultId === first.resultId && duplicate.duplicate).toBe(true);
  expect(await completeTask(sequelize, againLease)).toEqual({ ok: true, renderId, renderStatus: "done" });
  const accepted = await f.all(`SELECT id FROM results WHERE render_id = $renderId AND accepted`, { renderId });
  expect(accepted).toHaveLength(1);
  expect(workerId).not.toBe(second);
});

test("a task failed by 3 different workers fails, and so does its render", async () => {
  const user = await f.user();
  const workers = [await f.worker(user), await f.worker(user), await f.worker(user), await f.worker(user)];
  const renderId = await f.render(user, { frames: "1-2" });
  const bystander = (await claimTask(sequelize, { workerId: workers[3] }))!;

  const answers: Awaited<ReturnType<typeof failTask>>[] = [];
  for (const workerId of workers.slice(0, 3)) {
    const task = (await claimTask(sequelize, { workerId }))!;
    expect(task.frameStart).toBe(2);
    answers.push(await failTask(sequelize, { taskId: task.id, workerId, leaseToken: task.leaseToken, error: "Error: boom", logTail: "…" }));
  }

  expect(answers.map((answer) => answer !== "stale" && [answer.taskStatus, answer.renderStatus])).toEqual([
    ["queued", "rendering"],
    ["queued", "rendering"],
    ["failed", "failed"],
  ]);
  expect(await renderStatus(renderId)).toBe("failed");
  expect(
    await heartbeatTask(sequelize, { taskId: bystander.id, workerId: workers[3], leaseToken: bystander.leaseToken, progress: 0.5 }),
  ).toEqual({ keepRunning: false, reason: "The render is failed." });
  const failures = await f.all<{ error: string; log_tail: string }>(
    `SELECT error, log_tail FROM task_failures WHERE render_id = $renderId`,
    { renderId },
  );
  expect(failures).toHaveLength(3);
  expect(failures[0]).toEqual({ error: "Error: boom", log_tail: "…" });
});

test("a refused image is kept with its reason and counts as a failure of that worker", async () => {
  const { user, workerId, task, lease } = await leased({ frames: "1" });
  const other = await f.worker(user);

  expect(await rejectResult(sequelize, lease, { frame: 1, reason: "the image is 10×10, the scene says 64×48" })).toMatchObject({
    taskStatus: "queued",
  });

  expect(await claimTask(sequelize, { workerId })).toBeNull();
  expect((await claimTask(sequelize, { workerId: other }))?.id).toBe(task.id);
  const refused = await f.one<{ accepted: boolean; reject_reason: string }>(
    `SELECT accepted, reject_reason FROM results WHERE task_id = $id`,
    { id: task.id },
  );
  expect(refused).toEqual({ accepted: false, reject_reason: "the image is 10×10, the scene says 64×48" });
  const failure = await f.one<{ error: string }>(`SELECT error FROM task_failures WHERE task_id = $id`, { id: task.id });
  expect(failure.error).toBe("Frame 1 was refused: the image is 10×10, the scene says 64×48");
});

test("release gives the task back without a failure", async () => {
  const { workerId, renderId, task, lease } = await leased({ frames: "1" });
  expect(await releaseTask(sequelize, lease)).toEqual({ renderId });
  expect(await releaseTask(sequelize, lease)).toBe("stale");
  expect((await claimTask(sequelize, { workerId }))?.id).toBe(task.id);
});

test("cancel stops the render's tasks: nothing handed out, running agents hear stop", async () => {
  const { workerId, renderId, lease } = await leased({ frames: "1-3" });

  expect(await changed(renderId, "cancelled")).toBe(true);
  expect(await changed(renderId, "cancelled")).toBe(false);

  expect(await claimTask(sequelize, { workerId })).toBeNull();
  expect(await heartbeatTask(sequelize, { ...lease, progress: 0.9 })).toEqual({
    keepRunning: false,
    reason: "The render is cancelled.",
  });
  expect(await recordResult(sequelize, lease, frame(1))).toEqual({ ok: false, reason: "stale" });
  expect(await completeTask(sequelize, lease)).toEqual({ ok: false, reason: "stale" });
  const statuses = await f.all<{ status: string }>(`SELECT DISTINCT status FROM tasks WHERE render_id = $renderId`, {
    renderId,
  });
  expect(statuses).toEqual([{ status: "cancelled" }]);
  expect(await renderStatus(renderId)).toBe("cancelled");
});

test("cancelling while workers claim and fail neither deadlocks nor leaves work out", async () => {
  for (let round = 0; round < 5; round++) {
    const user = await f.user();
    const workers = await Promise.all(Array.from({ length: 12 }, () => f.worker(user)));
    const renderId = await f.render(user, { frames: "1-40" });
    const failing = await Promise.all(workers.slice(0, 4).map((workerId) => claimTask(sequelize, { workerId })));

    await Promise.all([
      ...workers.slice(4).map((workerId) => claimTask(sequelize, { workerId })),
      ...failing.map((task, i) =>
        failTask(sequelize, { taskId: task!.id, workerId: workers[i], leaseToken: task!.leaseToken, error: "x" }),
      ),
      changed(renderId, "cancelled"),
    ]);

    const left = await f.all(`SELECT id FROM tasks WHERE render_id = $renderId AND status IN ('queued', 'leased')`, {
      renderId,
    });
    expect(left).toEqual([]);
    expect(await renderStatus(renderId)).toBe("cancelled");
  }
});

describe("inspection", () => {
  async function uninspected() {
    const user = await f.user();
    const archiveId = await f.archive(user);
    await sequelize.query(`UPDATE archives SET inspected_at = NULL WHERE id = $archiveId`, { bind: { archiveId } });
    await createInspectTask(sequelize, archiveId);
    return { user, archiveId };
  }

  test("the agent's facts are saved with the lease check, and the archive is inspected", async () => {
    const { user, archiveId } = await uninspected();
    const workerId = await f.worker(user);
    const task = (await claimTask(sequelize, { workerId }))!;
    const lease = { taskId: task.id, workerId, leaseToken: task.leaseToken };
    const hash = (await f.one<{ hash: string }>(`SELECT hash FROM archives WHERE id = $archiveId`, { archiveId })).hash;
    expect(await workerHoldsArchive(sequelize, workerId, hash)).toBe(true);
    expect(await workerHoldsArchive(sequelize, await f.worker(user), hash)).toBe(false);

    const saved: number[] = [];
    const answer = await completeInspection(sequelize, lease, async (id, transaction) => {
      saved.push(id);
      await sequelize.query(`UPDATE archives SET engine = 'CYCLES' WHERE id = $id`, { bind: { id }, transaction });
    });

    expect(answer).toBe("done");
    expect(saved).toEqual([archiveId]);
    const archive = await f.one<{ engine: string; inspected_at: Date | null }>(
      `SELECT engine, inspected_at FROM archives WHERE id = $archiveId`,
      { archiveId },
    );
    expect(archive.engine).toBe("CYCLES");
    expect(archive.inspected_at).not.toBeNull();
    expect(await workerHoldsArchive(sequelize, workerId, hash)).toBe(false);
    expect(await completeInspection(sequelize, lease, async () => undefined)).toBe("stale");
  });

  test("3 workers failing it end the inspection with the error", async () => {
    const { user, archiveId } = await uninspected();
    const workers = [await f.worker(user), await f.worker(user), await f.worker(user), await f.worker(user)];
    for (const workerId of workers.slice(0, 3)) {
      const task = (await claimTask(sequelize, { workerId }))!;
      expect(task.kind).toBe("inspect");
      await failTask(sequelize, { taskId: task.id, workerId, leaseToken: task.leaseToken, error: "Blender crashed" });
    }
    const archive = await f.one<{ inspection_error: string; inspected_at: Date | null }>(
      `SELECT inspection_error, inspected_at FROM archives WHERE id = $archiveId`,
      { archiveId },
    );
    expect(archive.inspection_error).toBe("Blender crashed");
    expect(archive.inspected_at).not.toBeNull();
    expect(await claimTask(sequelize, { workerId: workers[3] })).toBeNull();
  });
});
