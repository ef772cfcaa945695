import type { Sequelize } from "sequelize";
import { afterAll, beforeAll, expect, test } from "vitest";
import { connectDatabase } from "../../app/lib/db.server";
import {
  claimTask,
  completeTask,
  confirmRender,
  createRenderTasks,
  failTask,
  insertRender,
  readEstimates,
  recordResult,
  refreshEstimate,
  type ClaimedTask,
} from "../../db/sql/queue";
import type { Estimate } from "../../domain/estimate";
import { parseFrameRange } from "../../domain/frames";
import { planSamples, sampleTasks } from "../../domain/sampling";
import { createTestDatabase } from "../helpers/db";
import { farm, type Farm } from "../helpers/farm";

// Work units on the real database, without HTTP: a render samples, is quoted, confirmed,
// rendered; each frame's WU is priced with the worker's speed calibrated on it; a worker
// that joins mid-render is calibrated from the frames next to its own.

let sequelize: Sequelize;
let f: Farm;

beforeAll(async () => {
  sequelize = connectDatabase(await createTestDatabase());
  f = farm(sequelize);
});
afterAll(() => sequelize.close());

/** A worker whose benchmark said `wupm`. */
async function benchmarked(userId: number, wupm: number): Promise<number> {
  const id = await f.worker(userId);
  await sequelize.query(`UPDATE workers SET wupm = $wupm WHERE id = $id`, { bind: { id, wupm } });
  return id;
}

async function request(
  userId: number,
  frames: string,
  { workers, estimateOnly = false, engine = null }: { workers: number; estimateOnly?: boolean; engine?: string | null },
) {
  const archiveId = await f.archive(userId);
  const { project_id: projectId } = await f.one<{ project_id: number }>(`SELECT project_id FROM archives WHERE id = $archiveId`, { archiveId });
  const range = parseFrameRange(frames);
  const sample = planSamples(range, { workers, estimateOnly })!;
  const render = await sequelize.transaction(async (transaction) => {
    const made = await insertRender(
      sequelize,
      {
        archiveId,
        projectId,
        createdBy: userId,
        frameStart: range.start,
        frameEnd: range.end,
        frameStep: range.step,
        chunkSize: 1,
        outputFormat: "PNG",
        priceMilli: 500,
        needsDenoiser: false,
        sampleFrames: sample,
        estimateOnly,
        scene: null,
        camera: null,
        viewLayer: null,
        resolutionPercentage: null,
        samples: null,
        engine,
        outputWidth: null,
        outputHeight: null,
      },
      transaction,
    );
    await createRenderTasks(sequelize, made.id, sampleTasks(sample), { transaction });
    return made;
  });
  return { ...render, sample };
}

/** Frame costs along the timeline, in WU: a ramp. */
const cost = (frame: number) => 1 + frame / 24;

/** Renders the claimed task's frame as a worker of true speed `speed` WUPM, uploads it, refreshes the estimate, completes. */
async function render(task: ClaimedTask, workerId: number, speed: number) {
  const lease = { taskId: task.id, workerId, leaseToken: task.leaseToken };
  const frame = task.frameStart!;
  const answer = await recordResult(sequelize, lease, {
    frame,
    imageKey: `renders/${task.renderId}-${frame}.png`,
    imageBytes: 100,
    thumbnailKey: null,
    width: 64,
    height: 48,
    renderTimeMs: Math.round((cost(frame) / speed) * 60_000),
    blenderVersion: "3.4.1",
  });
  expect(answer).toMatchObject({ ok: true, duplicate: false });
  await refreshEstimate(sequelize, task.renderId!);
  return completeTask(sequelize, lease);
}

const statusOf = async (renderId: number) => (await f.one<{ status: string }>(`SELECT status FROM renders WHERE id = $renderId`, { renderId })).status;
const speedsOf = (renderId: number) =>
  f.all<{ worker_id: number; wupm: number; calibrated: boolean }>(
    `SELECT worker_id, wupm, calibrated FROM render_speeds WHERE render_id = $renderId ORDER BY worker_id`,
    { renderId },
  );
const resultsOf = (renderId: number) =>
  f.all<{ frame: number; worker_id: number; render_time_ms: number; wu: number; wupm: number }>(
    `SELECT frame, worker_id, render_time_ms, wu, wupm FROM results WHERE render_id = $renderId AND accepted ORDER BY frame`,
    { renderId },
  );
const liveEstimate = async (renderId: number) =>
  (await f.one<{ estimate: Estimate }>(`SELECT estimate FROM render_estimates WHERE render_id = $renderId`, { renderId })).estimate;

test("estimating → quoted → confirmed → queued → done: the samples first, each frame once, its WU at the worker's calibrated speed", async () => {
  const user = await f.user();
  await f.grant(user, 1000);
  // Their benchmarks say 3 and 3; on this scene one is 3 times as fast as the other.
  const fast = await benchmarked(user, 3);
  const slow = await benchmarked(user, 3);
  const speed = new Map([
    [fast, 6],
    [slow, 2],
  ]);
  const requested = await request(user, "1-48", { workers: 2, estimateOnly: true });
  expect(requested.status).toBe("estimating");
  expect(requested.sample).toEqual([1, 2, 13, 14, 24, 25, 36, 37, 47, 48]);

  // While estimating, only sample frames are handed out, runs to both workers.
  const sampledBy = new Map<number, number>();
  for (;;) {
    const tasks = [await claimTask(sequelize, { workerId: fast }), await claimTask(sequelize, { workerId: slow })];
    if (tasks.every((task) => task === null)) break;
    for (const [i, task] of tasks.entries()) {
      if (!task) continue;
      const workerId = i === 0 ? fast : slow;
      sampledBy.set(task.frameStart!, workerId);
      await render(task, workerId, speed.get(workerId)!);
    }
  }
  expect([...sampledBy.keys()].sort((a, b) => a - b)).toEqual(requested.sample);
  expect(new Set(sampledBy.values())).toEqual(new Set([fast, slow]));

  // Quoted, and it waits: no other frame is a task yet.
  expect(await statusOf(requested.id)).toBe("quoted");
  expect(await claimTask(sequelize, { workerId: fast })).toBeNull();
  const [quoteRow] = await f.all<{ estimate: Estimate & { quotedAt: string } }>(`SELECT estimate FROM renders WHERE id = $id`, { id: requested.id });
  const truth = Array.from({ length: 48 }, (_, i) => cost(i + 1)).reduce((a, b) => a + b, 0);
  // WU on the benchmarks' scale: their geometric mean (3) stands for the mean of the true speeds (√12).
  const scale = 3 / Math.sqrt(12);
  expect(quoteRow.estimate.totalWu / (truth * scale)).toBeCloseTo(1, 1);
  expect(quoteRow.estimate.band.low).toBeLessThan(quoteRow.estimate.totalWu);
  expect(quoteRow.estimate.quotedAt).toBeTruthy();
  const calibrated = await speedsOf(requested.id);
  expect(calibrated.every((row) => row.calibrated)).toBe(true);
  const ratio = calibrated.find((row) => row.worker_id === fast)!.wupm / calibrated.find((row) => row.worker_id === slow)!.wupm;
  // Within what neighbouring frames of the ramp differ by.
  expect(ratio / 3).toBeCloseTo(1, 1);
  // The sample frames' WU are priced with that calibration.
  for (const result of await resultsOf(requested.id)) {
    expect(result.wupm).toBeCloseTo(calibrated.find((row) => row.worker_id === result.worker_id)!.wupm, 4);
  }

  const confirmed = await confirmRender(sequelize, requested.id);
  expect(confirmed?.to).toBe("queued");
  expect(await confirmRender(sequelize, requested.id)).toBeNull();
  const tasks = await f.all<{ frame_start: number; is_sample: boolean }>(
    `SELECT frame_start, is_sample FROM tasks WHERE render_id = $id ORDER BY frame_start`,
    { id: requested.id },
  );
  expect(tasks.map((task) => task.frame_start)).toEqual(Array.from({ length: 48 }, (_, i) => i + 1));
  expect(tasks.filter((task) => task.is_sample).map((task) => task.frame_start)).toEqual(requested.sample);

  // The rest, both workers, then a third joins mid-render (its benchmark said 1; it renders at 4).
  let joined: number | null = null;
  for (let round = 0; ; round += 1) {
    if (round === 6) {
      joined = await benchmarked(user, 1);
      speed.set(joined, 4);
    }
    const workers = [fast, slow, ...(joined ? [joined] : [])];
    const claimed = await Promise.all(workers.map((workerId) => claimTask(sequelize, { workerId })));
    if (claimed.every((task) => task === null)) break;
    for (const [i, task] of claimed.entries()) if (task) await render(task, workers[i], speed.get(workers[i])!);
  }
  expect(await statusOf(requested.id)).toBe("done");

  const results = await resultsOf(requested.id);
  expect(results.map((result) => result.frame)).toEqual(Array.from({ length: 48 }, (_, i) => i + 1));
  // Each frame's WU is its render minutes × the WUPM it was priced with.
  for (const result of results) expect(result.wu).toBeCloseTo((result.render_time_ms / 60_000) * result.wupm, 4);
  // The third worker was calibrated from close frames: near 4/6 of the fast one, not its benchmark of 1.
  const final = await speedsOf(requested.id);
  const third = final.find((row) => row.worker_id === joined)!;
  expect(third.calibrated).toBe(true);
  expect(third.wupm / final.find((row) => row.worker_id === fast)!.wupm).toBeCloseTo(4 / 6, 1);
  const lastOfThird = results.filter((result) => result.worker_id === joined).at(-1)!;
  expect(lastOfThird.wupm).not.toBeCloseTo(1, 1);

  // Done: the estimate is what the frames cost.
  const done = await liveEstimate(requested.id);
  const stored = results.reduce((sum, result) => sum + result.wu, 0);
  expect(done.totalWu).toBeCloseTo(stored, 3);
  expect(done.remainingWu).toBe(0);
  expect(done.curve.every((point) => point.done)).toBe(true);
  expect(done.curve.filter((point) => point.sampled).map((point) => point.frame)).toEqual(requested.sample);
});

test("without --estimate-only, the last sample frame quotes and confirms it in one go", async () => {
  const user = await f.user();
  await f.grant(user, 1000);
  const worker = await benchmarked(user, 2);
  const requested = await request(user, "1-20", { workers: 1 });
  expect(requested.sample).toHaveLength(5);
  for (const frame of requested.sample) {
    expect(await statusOf(requested.id)).toBe("estimating");
    const task = (await claimTask(sequelize, { workerId: worker }))!;
    expect(task.frameStart).toBe(frame);
    await render(task, worker, 2);
  }
  expect(await statusOf(requested.id)).toBe("queued");
  const events = await f.all<{ event: string; to_status: string; notice: string | null }>(
    `SELECT event, to_status, notice FROM render_events WHERE render_id = $id ORDER BY id`,
    { id: requested.id },
  );
  expect(events).toEqual([
    { event: "requested", to_status: "estimating", notice: null },
    // Nobody waits for this quote: no "quote ready" push.
    { event: "sampled", to_status: "quoted", notice: null },
    // The owner is not told; the people whose workers it now asks for are.
    { event: "confirmed", to_status: "queued", notice: "request-awaits" },
  ]);
  expect((await f.one<{ count: number }>(`SELECT count(*)::int AS count FROM tasks WHERE render_id = $id`, { id: requested.id })).count).toBe(20);
});

test("a render whose every frame is a sample frame is done when its quote is confirmed", async () => {
  const user = await f.user();
  await f.grant(user, 1000);
  const worker = await benchmarked(user, 2);
  const requested = await request(user, "5", { workers: 1, estimateOnly: true });
  expect(requested.sample).toEqual([5]);
  expect(await render((await claimTask(sequelize, { workerId: worker }))!, worker, 2)).toMatchObject({ ok: true, renderStatus: "quoted" });
  // It waits for its owner, who is told.
  expect(
    await f.one<{ notice: string | null }>(`SELECT notice FROM render_events WHERE render_id = $id AND event = 'sampled'`, { id: requested.id }),
  ).toEqual({ notice: "quote-ready" });
  expect((await confirmRender(sequelize, requested.id))?.to).toBe("done");
});

test("a scene error on a sample frame fails the render while it estimates: no quote, nothing left queued, no worker blamed", async () => {
  const user = await f.user();
  const workers = [await benchmarked(user, 2), await benchmarked(user, 2)];
  const requested = await request(user, "1-48", { workers: 2, estimateOnly: true });
  const first = (await claimTask(sequelize, { workerId: workers[0] }))!;
  expect(requested.sample).toContain(first.frameStart);
  const answer = await failTask(sequelize, {
    taskId: first.id,
    workerId: workers[0],
    leaseToken: first.leaseToken,
    error: "Cannot render, no camera\nBlender exited with code 1.",
    logTail: "Error: Cannot render, no camera\n\nBlender quit",
  });
  // As any frame's (db/sql/failures.ts): the render fails at once, the other worker is not asked.
  expect(answer).toMatchObject({ renderStatus: "failed", blame: "scene", because: "scene-error", workerBlocklisted: false });
  expect(await statusOf(requested.id)).toBe("failed");
  expect(await claimTask(sequelize, { workerId: workers[1] })).toBeNull();
  const open = await f.one<{ n: number }>(`SELECT count(*)::int AS n FROM tasks WHERE render_id = $id AND status IN ('queued', 'leased')`, {
    id: requested.id,
  });
  expect(open.n).toBe(0);
  // Never quoted, and nothing to confirm.
  expect((await f.one<{ estimate: unknown }>(`SELECT estimate FROM renders WHERE id = $id`, { id: requested.id })).estimate).toBeNull();
  expect(await confirmRender(sequelize, requested.id)).toBeNull();
  const events = await f.all<{ event: string }>(`SELECT event FROM render_events WHERE render_id = $id ORDER BY id`, { id: requested.id });
  expect(events.map((row) => row.event)).toEqual(["requested", "failed"]);
});

test("the ETA counts only the online workers that may render the scene: its engine among theirs", async () => {
  const user = await f.user();
  const online = async (engines: string[], wupm: number) => {
    const id = await f.worker(user, { engines });
    await sequelize.query(`UPDATE workers SET wupm = $wupm, status = 'idle', last_seen_at = now() WHERE id = $id`, { bind: { id, wupm } });
    return id;
  };
  await online(["CYCLES"], 5);
  await online(["BLENDER_EEVEE", "CYCLES"], 3);
  const eevee = await request(user, "1-48", { workers: 1, engine: "BLENDER_EEVEE" });
  const cycles = await request(user, "1-48", { workers: 2, engine: "CYCLES" });
  const stored = await readEstimates(sequelize, [eevee.id, cycles.id], { offlineAfterMs: 60_000, blocklistAfter: 3 });
  expect(stored.get(eevee.id)!.onlineWupm).toEqual([3]);
  expect([...stored.get(cycles.id)!.onlineWupm].sort()).toEqual([3, 5]);
});
