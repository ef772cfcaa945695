import type { Sequelize } from "sequelize";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { connectDatabase } from "../../app/lib/db.server";
import { claimTask, createInspectTask, failTask } from "../../db/sql/queue";
import { noteWorkerFailing } from "../../db/sql/worker-events";
import { FAILURES_TO_FAIL_RENDER } from "../../domain/scheduler";
import { createTestDatabase } from "../helpers/db";
import { farm, type Farm } from "../helpers/farm";

// What a failure does (db/sql/failures.ts): a scene error fails the render at once and
// blames nobody; a machine error sends the task on while another worker may take it.

let sequelize: Sequelize;
let f: Farm;

beforeAll(async () => {
  sequelize = connectDatabase(await createTestDatabase());
  f = farm(sequelize);
});
afterAll(() => sequelize.close());

const NO_CAMERA = { error: "Cannot render, no camera\nBlender exited with code 1.", logTail: "Error: Cannot render, no camera\n\nBlender quit" };
const CRASH = { error: "Blender was killed by SIGSEGV.", logTail: "Writing: /tmp/shot.crash.txt" };

/** The worker claims its next task and fails it with `failure`. */
async function claimAndFail(workerId: number, failure: { error: string; logTail?: string }) {
  const task = (await claimTask(sequelize, { workerId }))!;
  const answer = await failTask(sequelize, { taskId: task.id, workerId, leaseToken: task.leaseToken, ...failure });
  if (answer === "stale") throw new Error("stale");
  return { task, answer };
}

const taskStatuses = (renderId: number) =>
  f.all<{ status: string }>(`SELECT status FROM tasks WHERE render_id = $renderId ORDER BY frame_start`, { renderId }).then((rows) =>
    rows.map((row) => row.status),
  );
const failedEvent = (renderId: number) =>
  f.one<{ to_status: string; notice: string; detail: Record<string, unknown> }>(
    `SELECT to_status, notice, detail FROM render_events WHERE render_id = $renderId AND event = 'failed'`,
    { renderId },
  );

describe("a scene error", () => {
  test("fails the task and the render at once, with Blender's line, and blames no worker", async () => {
    const user = await f.user();
    const workers = [await f.worker(user), await f.worker(user), await f.worker(user)];
    const renderId = await f.render(user, { frames: "1-4" });
    const other = (await claimTask(sequelize, { workerId: workers[1] }))!;

    const { task, answer } = await claimAndFail(workers[0], NO_CAMERA);

    expect(answer).toEqual({ renderId, taskStatus: "failed", renderStatus: "failed", workerBlocklisted: false, blame: "scene", because: "scene-error" });
    // Nothing left to hand out: the other tasks are cancelled (the leased one hears "stop").
    expect(await taskStatuses(renderId)).toEqual(["cancelled", "failed", "cancelled", "cancelled"]);
    expect(task.frameStart).toBe(2);
    expect(other.frameStart).toBe(1);
    expect(await claimTask(sequelize, { workerId: workers[2] })).toBeNull();
    expect(await failedEvent(renderId)).toEqual({
      to_status: "failed",
      notice: "render-failed",
      detail: expect.objectContaining({ because: "scene-error", line: "Cannot render, no camera", frameStart: 2, frameEnd: 2, workers: 1 }),
    });
    const failures = await f.all<{ blames_worker: boolean }>(`SELECT blames_worker FROM task_failures WHERE render_id = $renderId`, { renderId });
    expect(failures).toEqual([{ blames_worker: false }]);
  });

  test("never counts towards a worker's blocklist, nor as the worker failing (no push to its owner)", async () => {
    const user = await f.user();
    const workerId = await f.worker(user);
    for (let i = 0; i < 3; i++) {
      await f.render(user, { frames: "1" });
      expect((await claimAndFail(workerId, NO_CAMERA)).answer.workerBlocklisted).toBe(false);
    }
    const blaming = await f.one<{ n: number }>(`SELECT count(*)::int AS n FROM task_failures WHERE worker_id = $workerId AND blames_worker`, {
      workerId,
    });
    expect(blaming.n).toBe(0);
    expect(await noteWorkerFailing(sequelize, workerId, 3)).toBe(false);
    // The same three failures blaming the machine: the worker keeps failing.
    await f.render(user, { frames: "1-3" });
    await claimAndFail(workerId, CRASH);
    await f.render(user, { frames: "1" });
    await claimAndFail(workerId, CRASH);
    await f.render(user, { frames: "1" });
    await claimAndFail(workerId, CRASH);
    expect(await noteWorkerFailing(sequelize, workerId, 3)).toBe(true);
  });
});

describe("a machine error", () => {
  test("goes to another worker, and fails the render when none that may take it is left", async () => {
    const user = await f.user();
    const [first, second] = [await f.worker(user), await f.worker(user)];
    const renderId = await f.render(user, { frames: "1" });

    const once = await claimAndFail(first, CRASH);
    expect(once.answer).toEqual({ renderId, taskStatus: "queued", renderStatus: "rendering", workerBlocklisted: false, blame: "machine" });
    const twice = await claimAndFail(second, CRASH);
    expect(twice.task.id).toBe(once.task.id);
    expect(twice.answer).toMatchObject({ taskStatus: "failed", renderStatus: "failed", blame: "machine" });
    expect((await failedEvent(renderId)).detail).toMatchObject({ because: "no-other-worker", workers: 2, error: CRASH.error });
  });

  test("on a farm of one worker, fails the render at its first failure instead of waiting for good", async () => {
    const user = await f.user();
    const workerId = await f.worker(user);
    const renderId = await f.render(user, { frames: "1-3" });
    expect((await claimAndFail(workerId, CRASH)).answer).toMatchObject({ taskStatus: "failed", renderStatus: "failed" });
    expect(await taskStatuses(renderId)).toEqual(["failed", "cancelled", "cancelled"]);
  });

  test("workers that could not take the task anyway (disabled, another engine, no denoiser) are not another worker", async () => {
    const user = await f.user();
    const eevee = await f.worker(user, { engines: ["BLENDER_EEVEE", "CYCLES"], denoiser: true });
    await f.worker(user, { engines: ["CYCLES"], denoiser: true });
    await f.worker(user, { engines: ["BLENDER_EEVEE"], denoiser: false });
    await f.worker(user, { enabled: false });
    await f.render(user, { frames: "1", engine: "BLENDER_EEVEE", needsDenoiser: true });
    expect((await claimAndFail(eevee, CRASH)).answer).toMatchObject({ taskStatus: "failed", renderStatus: "failed" });
  });

  test(`a render whose tasks failed ${FAILURES_TO_FAIL_RENDER} times in all fails, whatever frames and workers`, async () => {
    const user = await f.user();
    const workers: number[] = [];
    for (let i = 0; i < FAILURES_TO_FAIL_RENDER + 2; i++) workers.push(await f.worker(user));
    const renderId = await f.render(user, { frames: `1-${FAILURES_TO_FAIL_RENDER + 2}` });
    // Each worker holds a frame of its own, then fails it: no task fails on 3 workers, nobody is blocklisted.
    const held = [];
    for (const workerId of workers.slice(0, FAILURES_TO_FAIL_RENDER)) held.push({ workerId, task: (await claimTask(sequelize, { workerId }))! });
    const answers = [];
    for (const { workerId, task } of held) {
      const answer = await failTask(sequelize, { taskId: task.id, workerId, leaseToken: task.leaseToken, ...CRASH });
      answers.push(answer !== "stale" && answer.taskStatus);
    }
    expect(answers).toEqual([...Array(FAILURES_TO_FAIL_RENDER - 1).fill("queued"), "failed"]);
    expect((await failedEvent(renderId)).detail).toMatchObject({ because: "failure-limit", failures: FAILURES_TO_FAIL_RENDER });
  });
});

test("an archive's reading fails at once when no other of its owner's workers may try", async () => {
  const user = await f.user();
  const workerId = await f.worker(user);
  const projectId = (await f.one<{ id: number }>(`INSERT INTO projects (user_id, name) VALUES ($user, 'p') RETURNING id`, { user })).id;
  const archiveId = (
    await f.one<{ id: number }>(
      `INSERT INTO archives (project_id, uploaded_by, filename, hash, size, kind, storage_key)
       VALUES ($projectId, $user, 'a.blend', repeat('c', 64), 10, 'blend', 'k') RETURNING id`,
      { projectId, user },
    )
  ).id;
  await createInspectTask(sequelize, archiveId);
  expect((await claimAndFail(workerId, { error: "Cannot read file" })).answer).toEqual({
    renderId: null,
    taskStatus: "failed",
    renderStatus: null,
    workerBlocklisted: false,
    blame: "machine",
    because: "no-other-worker",
  });
  expect(await f.one(`SELECT inspection_error FROM archives WHERE id = $archiveId`, { archiveId })).toEqual({ inspection_error: "Cannot read file" });
});
