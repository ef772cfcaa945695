import { QueryTypes, type Sequelize } from "sequelize";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { renderListSchema, type RenderDto } from "../../contract";
import { failTask } from "../../db/sql/queue";
import { ArchiveApi, blend, expectApiError, uploaded } from "../helpers/archive-api";
import { createWorker, deliverFrame, lease, renderNextTask, renderOf } from "../helpers/renders";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken, testDatabase } from "../helpers/users";
import { sceneFacts } from "../helpers/scenes";

// Requesting, following and stopping renders over HTTP. Frames, images and the zip:
// render-frames.test.ts; the event stream: render-events.test.ts.

let server: TestServer;
let sequelize: Sequelize;
let api: ArchiveApi;
let other: ArchiveApi;
let uploads = 0;

beforeAll(async () => {
  server = await startTestServer();
  sequelize = testDatabase(server);
  api = new ArchiveApi(server, (await createUserWithToken(server, "director")).token);
  other = new ArchiveApi(server, (await createUserWithToken(server, "stranger")).token);
});
afterAll(async () => {
  await closeTestDatabase();
  await server?.close();
});

/** A fresh archive of the caller's (different bytes each time, so no dedupe). */
async function newArchive(as = api) {
  const project = await as.createProject();
  return uploaded(await as.upload(project.id, blend(1000 + ++uploads), { filename: "shot.blend" }));
}

/** The scene facts an inspection would have written. */
async function inspected(archiveId: number, facts: { start: number; end: number; step?: number; denoising?: boolean }) {
  const read = sceneFacts({ frameStart: facts.start, frameEnd: facts.end, frameStep: facts.step ?? 1, denoising: facts.denoising ?? false });
  await sequelize.query(
    `UPDATE archives SET frame_start = $start, frame_end = $end, denoising = $denoising, inspected_at = now(),
            scene_facts = $facts::jsonb WHERE id = $id`,
    { bind: { id: archiveId, start: facts.start, end: facts.end, denoising: read.denoising, facts: JSON.stringify(read) } },
  );
}

const request = (body: object, as = api) => as.call("/renders", { body });

const row = async <T extends object>(sql: string, bind: Record<string, unknown> = {}) =>
  (await sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT }))[0];

/**
 * A user of their own with an inspected archive, for tests where workers claim: a claim
 * hands a worker any of its owner's tasks (inspections first), so they must be only this test's.
 */
async function ownFarm(name: string) {
  const owner = new ArchiveApi(server, (await createUserWithToken(server, name)).token);
  const archive = await newArchive(owner);
  await inspected(archive.id, { start: 1, end: 1 });
  return { owner, archive };
}

describe("requesting a render", () => {
  test("by archive id: 201, estimating, its sample frames spread across the range are its only tasks so far", async () => {
    const archive = await newArchive();
    const render = await renderOf(await request({ archiveId: archive.id, frames: "1-24" }), 201);
    expect(render).toMatchObject({
      archiveId: archive.id,
      projectId: archive.projectId,
      archiveFilename: "shot.blend",
      status: "estimating",
      frameStart: 1,
      frameEnd: 24,
      frameStep: 1,
      chunkSize: 1,
      format: "PNG",
      price: 0,
      // No worker yet: a run of one frame at each of 5 points, the first frame to the last.
      tasks: 5,
      frames: { total: 24, done: 0, failed: 0, rendering: 0, queued: 5 },
      workers: [],
      failure: null,
      estimateOnly: false,
      sample: { frames: 5, done: 0 },
      estimate: null,
      startedAt: null,
      finishedAt: null,
    });
    const tasks = await sequelize.query<{ frame_start: number; is_sample: boolean }>(
      `SELECT frame_start, is_sample FROM tasks WHERE render_id = $id ORDER BY frame_start`,
      { bind: { id: render.id }, type: QueryTypes.SELECT },
    );
    expect(tasks).toEqual([1, 7, 13, 18, 24].map((frame) => ({ frame_start: frame, is_sample: true })));
  });

  test("a render too short to sample is queued at once, one task per frame", async () => {
    const archive = await newArchive();
    const render = await renderOf(await request({ archiveId: archive.id, frames: "1-7" }), 201);
    expect(render).toMatchObject({ status: "queued", tasks: 7, frames: { total: 7, queued: 7 }, sample: { frames: 0, done: 0 } });
    expect(await row(`SELECT count(*)::int AS count FROM tasks WHERE render_id = $id AND NOT is_sample`, { id: render.id })).toEqual({
      count: 7,
    });
  });

  test("--estimate-only samples even a short render, and says so", async () => {
    const archive = await newArchive();
    const render = await renderOf(await request({ archiveId: archive.id, frames: "1-7", estimateOnly: true }), 201);
    expect(render).toMatchObject({ status: "estimating", estimateOnly: true, tasks: 2, sample: { frames: 2, done: 0 } });
  });

  test("by hash, with a step, chunks, a format and a price (kept in milli-credits)", async () => {
    const archive = await newArchive();
    const stepped = await renderOf(
      await request({ archiveHash: archive.hash, frames: "1-24:5", format: "JPEG", price: 1.25 }),
      201,
    );
    expect(stepped).toMatchObject({ frameStep: 5, tasks: 5, format: "JPEG", price: 1.25, frames: { total: 5, queued: 5 } });
    expect(await row(`SELECT price_milli FROM renders WHERE id = $id`, { id: stepped.id })).toEqual({ price_milli: 1250 });
    const chunked = await renderOf(await request({ archiveId: archive.id, frames: "1-7", chunk: 3, format: "OPEN_EXR" }), 201);
    expect(chunked).toMatchObject({ chunkSize: 3, tasks: 3, format: "OPEN_EXR", frames: { total: 7, queued: 7 } });
  });

  test("without frames: the scene's own range and step once inspected; a denoising scene needs a denoiser", async () => {
    const archive = await newArchive();
    await inspected(archive.id, { start: 10, end: 20, step: 2, denoising: true });
    const render = await renderOf(await request({ archiveId: archive.id }), 201);
    expect(render).toMatchObject({ frameStart: 10, frameEnd: 20, frameStep: 2, tasks: 6 });
    expect(await row(`SELECT needs_denoiser FROM renders WHERE id = $id`, { id: render.id })).toEqual({ needs_denoiser: true });
  });

  test("without frames before the scene was read: 422 asking for --frames, and nothing stored", async () => {
    const archive = await newArchive();
    const before = await countRenders();
    await expectApiError(await request({ archiveId: archive.id }), 422, "unprocessable", /frame range is not known yet.*give --frames/);
    await sequelize.query(`UPDATE archives SET inspected_at = now(), inspection_error = 'Blender crashed' WHERE id = $id`, {
      bind: { id: archive.id },
    });
    await expectApiError(await request({ archiveId: archive.id }), 422, "unprocessable", /Blender crashed.*give --frames/);
    expect(await countRenders()).toBe(before);
  });

  test.each([
    ["an empty range", { frames: "" }, /frames: Write frames as A-B/],
    ["a reversed range", { frames: "24-1" }, /Frames 24-1 are reversed; write 1-24\./],
    ["too many frames", { frames: "0-100000" }, /100001 frames; a render has at most 100000\. Split it/],
    ["a negative frame", { frames: "-5-10" }, /Frame -5 is before Blender's first frame, 0\./],
    ["a step of 0", { frames: "1-24:0" }, /A step of 0 renders nothing/],
    ["words", { frames: "first to last" }, /frames: Write frames as A-B/],
    ["a chunk of 0", { frames: "1-24", chunk: 0 }, /chunk: /],
    ["a chunk longer than the range", { frames: "1-4", chunk: 5 }, /A chunk of 5 frames is longer than the 4 frames/],
    ["a chunk with a step", { frames: "1-24:2", chunk: 2 }, /Chunks are consecutive frames, and 1-24:2 skips frames/],
    ["a format no worker writes", { frames: "1-4", format: "TIFF" }, /format: /],
    ["a negative price", { frames: "1-4", price: -1 }, /price: /],
  ])("%s: 400 with what to write instead, and no render", async (_what, body, message) => {
    const archive = await newArchive();
    const before = await countRenders();
    await expectApiError(await request({ archiveId: archive.id, ...body }), 400, "bad_request", message);
    expect(await countRenders()).toBe(before);
  });

  test("naming the archive twice, or not at all, is a 400", async () => {
    const archive = await newArchive();
    const both = await request({ archiveId: archive.id, archiveHash: archive.hash, frames: "1" });
    await expectApiError(both, 400, "bad_request", /archiveId or by archiveHash \(one of them\)/);
    await expectApiError(await request({ frames: "1" }), 400, "bad_request", /archiveId or by archiveHash/);
  });

  test("another user's archive, by id or by hash, is not found — as one that never existed", async () => {
    const theirs = await newArchive(other);
    await expectApiError(await request({ archiveId: theirs.id, frames: "1-4" }), 404, "not_found", /You have no archive \d+/);
    await expectApiError(await request({ archiveHash: theirs.hash, frames: "1-4" }), 404, "not_found", /no archive with sha256/);
    await expectApiError(await request({ archiveId: 999_999, frames: "1-4" }), 404, "not_found", /You have no archive 999999/);
  });

  test("without a token: 401", async () => {
    await expectApiError(await api.call("/renders", { token: null, body: { archiveId: 1 } }), 401, "unauthorized", /Sign in/);
  });
});

const countRenders = async () => (await row<{ count: number }>(`SELECT count(*)::int AS count FROM renders`)).count;

describe("following renders", () => {
  test("the list has only mine, newest first, each with its frame counts", async () => {
    const newcomer = new ArchiveApi(server, (await createUserWithToken(server, "newcomer")).token);
    expect(await (await newcomer.call("/renders")).json()).toEqual({ renders: [] });
    const archive = await newArchive();
    const first = await renderOf(await request({ archiveId: archive.id, frames: "1-2" }), 201);
    const second = await renderOf(await request({ archiveId: archive.id, frames: "1-3" }), 201);
    await renderOf(await request({ archiveId: (await newArchive(other)).id, frames: "1" }, other), 201);
    const { renders } = renderListSchema.parse(await (await api.call("/renders")).json());
    expect(renders.map((render) => render.id).slice(0, 2)).toEqual([second.id, first.id]);
    expect(renders.every((render) => render.archiveFilename === "shot.blend")).toBe(true);
    expect(renders[0].frames).toEqual({ total: 3, done: 0, failed: 0, rendering: 0, queued: 3 });
    const theirs = renderListSchema.parse(await (await other.call("/renders")).json()).renders;
    expect(theirs).toHaveLength(1);
  });

  test("while rendering: frames done and rendering, and the workers on it with what they did", async () => {
    const { owner, archive } = await ownFarm("renderer");
    const render = await renderOf(await request({ archiveId: archive.id, frames: "1-6", chunk: 2 }, owner), 201);
    const studio = await createWorker(owner, "studio-pc");
    const laptop = await createWorker(owner, "laptop");
    await renderNextTask(server, sequelize, studio);
    await lease(sequelize, laptop);
    const now = await renderOf(await owner.call(`/renders/${render.id}`));
    expect(now).toMatchObject({
      status: "rendering",
      tasks: 3,
      frames: { total: 6, done: 2, rendering: 2, queued: 2, failed: 0 },
      workers: [
        { id: studio, name: "studio-pc", framesDone: 2, rendering: false },
        { id: laptop, name: "laptop", framesDone: 0, rendering: true },
      ],
    });
    expect(now.startedAt).not.toBeNull();
  });

  test("a frame of a chunk delivered before its lease was lost stays done, not queued", async () => {
    const { owner, archive } = await ownFarm("chunker");
    const render = await renderOf(await request({ archiveId: archive.id, frames: "1-4", chunk: 4 }, owner), 201);
    const worker = await createWorker(owner, "flaky");
    const { lease: held } = await lease(sequelize, worker);
    await deliverFrame(server, sequelize, held, 1);
    await sequelize.query(`UPDATE tasks SET status = 'queued', worker_id = NULL, lease_token = NULL, lease_expires_at = NULL WHERE id = $id`, {
      bind: { id: held.taskId },
    });
    expect((await renderOf(await owner.call(`/renders/${render.id}`))).frames).toEqual({
      total: 4,
      done: 1,
      failed: 0,
      rendering: 0,
      queued: 3,
    });
  });

  test("a failed render says which frames failed, on how many workers, and the last error", async () => {
    const { owner, archive } = await ownFarm("unlucky");
    const render = await renderOf(await request({ archiveId: archive.id, frames: "7-8" }, owner), 201);
    const workers = [];
    for (const name of ["w1", "w2", "w3"]) workers.push({ name, id: await createWorker(owner, name) });
    for (const { name, id } of workers) {
      const { lease: held } = await lease(sequelize, id);
      await failTask(sequelize, { ...held, error: `Error: Out of memory on ${name}`, logTail: "…" });
    }
    const failed = await renderOf(await owner.call(`/renders/${render.id}`));
    // Its other frame is not left queued: a failed render cancels what it had not rendered.
    expect(failed).toMatchObject({ status: "failed", frames: { total: 2, failed: 1, queued: 0, done: 0 } });
    expect(failed.failure).toBe("Frame 7 failed on 3 workers; the last error: Error: Out of memory on w3");
    expect(failed.finishedAt).not.toBeNull();
  });

  test("another user's render, or one that never was, is not found everywhere", async () => {
    const theirs = await renderOf(await request({ archiveId: (await newArchive(other)).id, frames: "1-2" }, other), 201);
    for (const path of [`/renders/${theirs.id}`, "/renders/999999", "/renders/abc"]) {
      await expectApiError(await api.call(path), 404, "not_found", /You have no render|No render abc/);
    }
    for (const change of ["cancel", "pause", "resume"]) {
      await expectApiError(await api.call(`/renders/${theirs.id}/${change}`, { method: "POST" }), 404, "not_found", /You have no render/);
    }
    expect((await renderOf(await other.call(`/renders/${theirs.id}`))).status).toBe("queued");
  });
});

describe("cancel, pause, resume", () => {
  const change = async (render: RenderDto, what: string) => api.call(`/renders/${render.id}/${what}`, { method: "POST" });

  test("pause and resume a queued render; each twice is a 409 that says why", async () => {
    const render = await renderOf(await request({ archiveId: (await newArchive()).id, frames: "1-3" }), 201);
    expect((await renderOf(await change(render, "pause"))).status).toBe("paused");
    await expectApiError(await change(render, "pause"), 409, "conflict", new RegExp(`already paused; .cactus render resume ${render.id}.`));
    expect((await renderOf(await change(render, "resume"))).status).toBe("queued");
    await expectApiError(await change(render, "resume"), 409, "conflict", /is queued, not paused; only a paused render can be resumed/);
  });

  test("a render that had started resumes as rendering; a paused render hands out nothing", async () => {
    const { owner, archive } = await ownFarm("pauser");
    const render = await renderOf(await request({ archiveId: archive.id, frames: "1-3" }, owner), 201);
    const worker = await createWorker(owner, "resumer");
    await renderNextTask(server, sequelize, worker);
    expect((await renderOf(await owner.call(`/renders/${render.id}/pause`, { method: "POST" }))).status).toBe("paused");
    await expect(lease(sequelize, worker)).rejects.toThrow(/got no render task/);
    expect((await renderOf(await owner.call(`/renders/${render.id}/resume`, { method: "POST" }))).status).toBe("rendering");
    await lease(sequelize, worker);
  });

  test("cancel stops the tasks; a finished render can be neither cancelled again nor paused nor resumed", async () => {
    const render = await renderOf(await request({ archiveId: (await newArchive()).id, frames: "1-3" }), 201);
    const cancelled = await renderOf(await change(render, "cancel"));
    expect(cancelled).toMatchObject({ status: "cancelled", frames: { total: 3, queued: 0, rendering: 0, done: 0 } });
    expect(cancelled.finishedAt).not.toBeNull();
    await expectApiError(await change(render, "cancel"), 409, "conflict", /already cancelled; there is nothing to cancel/);
    await expectApiError(await change(render, "pause"), 409, "conflict", /is cancelled; only a render that is still running can be paused/);
    await expectApiError(await change(render, "resume"), 409, "conflict", /is cancelled, not paused/);
  });

  test("an unknown change, or a GET of one, is an unknown endpoint", async () => {
    const render = await renderOf(await request({ archiveId: (await newArchive()).id, frames: "1" }), 201);
    await expectApiError(await change(render, "restart"), 404, "not_found", /No API endpoint POST \/api\/v1\/renders\/\d+\/restart/);
    await expectApiError(await api.call(`/renders/${render.id}/cancel`), 404, "not_found", /No API endpoint GET/);
  });
});
