import pg from "pg";
import type { Sequelize } from "sequelize";
import { afterAll, beforeAll, expect, test } from "vitest";
import { connectDatabase } from "../../app/lib/db.server";
import {
  RENDER_EVENTS_CHANNEL,
  applyRenderEvent,
  claimTask,
  completeTask,
  failTask,
  insertRender,
  recordResult,
} from "../../db/sql/queue";
import { createTestDatabase } from "../helpers/db";
import { farm, type Farm } from "../helpers/farm";

// The one writer of a render's status and its outbox: every change is a render_events
// row written in the same transaction, with a NOTIFY on commit; refused events write nothing.

let databaseUrl: string;
let sequelize: Sequelize;
let f: Farm;

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  sequelize = connectDatabase(databaseUrl);
  f = farm(sequelize);
});
afterAll(() => sequelize.close());

interface EventRow {
  event: string;
  from_status: string | null;
  to_status: string;
  notice: string | null;
  detail: Record<string, unknown> | null;
}
const eventsOf = (renderId: number) =>
  f.all<EventRow>(
    `SELECT event, from_status, to_status, notice, detail FROM render_events WHERE render_id = $renderId ORDER BY id`,
    { renderId },
  );
const statusOf = async (renderId: number) =>
  (await f.one<{ status: string }>(`SELECT status FROM renders WHERE id = $renderId`, { renderId })).status;

async function requested(userId: number, skipsSampling = true) {
  const archiveId = await f.archive(userId);
  const { project_id: projectId } = await f.one<{ project_id: number }>(`SELECT project_id FROM archives WHERE id = $archiveId`, {
    archiveId,
  });
  return sequelize.transaction((transaction) =>
    insertRender(
      sequelize,
      {
        archiveId,
        projectId,
        createdBy: userId,
        frameStart: 1,
        frameEnd: 2,
        frameStep: 1,
        chunkSize: 1,
        outputFormat: "PNG",
        priceMilli: 0,
        needsDenoiser: false,
        sampleFrames: skipsSampling ? [] : [1],
        estimateOnly: false,
        scene: null,
        camera: null,
        viewLayer: null,
        resolutionPercentage: null,
        samples: null,
        engine: null,
        outputWidth: null,
        outputHeight: null,
      },
      transaction,
    ),
  );
}

test("a new render starts its history: estimating, or queued with nothing to sample", async () => {
  const user = await f.user();
  const sampled = await requested(user, false);
  const direct = await requested(user, true);
  expect(sampled.status).toBe("estimating");
  expect(await eventsOf(sampled.id)).toEqual([
    { event: "requested", from_status: null, to_status: "estimating", notice: null, detail: null },
  ]);
  expect(await statusOf(direct.id)).toBe("queued");
});

test("each change is one outbox row; a refused event changes and records nothing", async () => {
  const user = await f.user();
  const renderId = await f.render(user, { frames: "1-3" });
  expect(await applyRenderEvent(sequelize, renderId, "paused")).toMatchObject({ from: "queued", to: "paused" });
  expect(await applyRenderEvent(sequelize, renderId, "paused")).toBeNull();
  expect(await applyRenderEvent(sequelize, renderId, "confirmed")).toBeNull();
  expect(await applyRenderEvent(sequelize, renderId, "resumed")).toMatchObject({ to: "queued" });
  expect(await applyRenderEvent(sequelize, renderId, "cancelled")).toMatchObject({ to: "cancelled" });
  expect(await applyRenderEvent(sequelize, renderId, "resumed")).toBeNull();
  expect((await eventsOf(renderId)).map((row) => `${row.from_status}→${row.to_status}`)).toEqual([
    "queued→paused",
    "paused→queued",
    "queued→cancelled",
  ]);
  expect(await applyRenderEvent(sequelize, 987_654_321, "cancelled")).toBeNull();
});

test("the status and its outbox row commit together or not at all", async () => {
  const user = await f.user();
  const renderId = await f.render(user);
  await expect(
    sequelize.transaction(async (transaction) => {
      await applyRenderEvent(sequelize, renderId, "paused", { transaction });
      throw new Error("the caller's work failed");
    }),
  ).rejects.toThrow("the caller's work failed");
  expect(await statusOf(renderId)).toBe("queued");
  expect(await eventsOf(renderId)).toEqual([]);
});

test("the queue's own changes go through the outbox: started, finished, failed with its error", async () => {
  const user = await f.user();
  const workerId = await f.worker(user);
  const renderId = await f.render(user, { frames: "1" });
  const task = (await claimTask(sequelize, { workerId }))!;
  const lease = { taskId: task.id, workerId, leaseToken: task.leaseToken };
  await recordResult(sequelize, lease, {
    frame: 1,
    imageKey: "k",
    imageBytes: 1,
    thumbnailKey: null,
    width: 1,
    height: 1,
    renderTimeMs: 1,
    blenderVersion: null,
  });
  await completeTask(sequelize, lease);
  expect(await eventsOf(renderId)).toEqual([
    { event: "started", from_status: "queued", to_status: "rendering", notice: null, detail: null },
    { event: "finished", from_status: "rendering", to_status: "done", notice: "render-finished", detail: null },
  ]);

  const failing = await f.render(user, { frames: "1-3" });
  const workers = [workerId, await f.worker(user), await f.worker(user)];
  for (const id of workers) {
    const claimed = (await claimTask(sequelize, { workerId: id }))!;
    expect(claimed.frameStart).toBe(1);
    await failTask(sequelize, { taskId: claimed.id, workerId: id, leaseToken: claimed.leaseToken, error: "Error: no camera" });
  }
  const last = (await eventsOf(failing)).at(-1)!;
  expect(last).toMatchObject({ event: "failed", to_status: "failed", notice: "render-failed", detail: { error: "Error: no camera" } });
  // A failed render leaves nothing queued.
  expect(await f.all(`SELECT id FROM tasks WHERE render_id = $failing AND status = 'queued'`, { failing })).toEqual([]);
});

test("a NOTIFY on the outbox's channel comes with each committed change", async () => {
  const listener = new pg.Client({ connectionString: databaseUrl });
  await listener.connect();
  try {
    const heard: { renderId: number; eventId: number; userId: number; to: string }[] = [];
    listener.on("notification", (message) => heard.push(JSON.parse(message.payload!)));
    await listener.query(`LISTEN ${RENDER_EVENTS_CHANNEL}`);
    const user = await f.user();
    const renderId = await f.render(user);
    await applyRenderEvent(sequelize, renderId, "paused");
    await expect.poll(() => heard.length).toBe(1);
    const { id } = await f.one<{ id: number }>(`SELECT id FROM render_events WHERE render_id = $renderId`, { renderId });
    expect(heard[0]).toEqual({ renderId, eventId: Number(id), userId: user, to: "paused" });
  } finally {
    await listener.end();
  }
});
