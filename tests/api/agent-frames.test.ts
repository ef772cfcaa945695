import fs from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { frameResultSchema, type ClaimedTask } from "../../contract";
import { Result } from "../../db/models";
import {
  AgentApi,
  createWorkerWithToken,
  damagedPngBytes,
  exrHeaderBytes,
  expectJson,
  pngBytes,
} from "../helpers/agent-api";
import { expectApiError, sha256 } from "../helpers/archive-api";
import { exrBytes } from "../helpers/exr";
import { farm, type Farm } from "../helpers/farm";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken, testDatabase } from "../helpers/users";

// Frame uploads over real HTTP: checked by magic bytes, size and a full decode, stored
// content-addressed with a thumbnail, accepted once; refusals count as the worker's failure.

const MAX_FRAME_BYTES = 64 * 1024;
let server: TestServer;
let f: Farm;

beforeAll(async () => {
  server = await startTestServer({ CACTUS_MAX_FRAME_BYTES: String(MAX_FRAME_BYTES) });
  f = farm(testDatabase(server));
});
afterAll(async () => {
  await closeTestDatabase();
  await server.close();
});

const blob = (key: string) => path.join(server.dataDir, "blobs", key);
const exists = (file: string) => fs.access(file).then(() => true, () => false);

let users = 0;
/**
 * A user's agent holding the first task of a new 64×48 render of `frames`; the user has a
 * second worker, so a refused frame has another to go to.
 */
async function leased({ frames = "1-4", chunk = 1, format = "PNG" }: { frames?: string; chunk?: number; format?: string } = {}) {
  const { user, token: userToken } = await createUserWithToken(server, `frames-${++users}`);
  const { worker, token } = await createWorkerWithToken(server, user.id);
  await createWorkerWithToken(server, user.id);
  const archiveId = await f.archive(user.id, { resolutionX: 128, resolutionY: 96, resolutionPercentage: 50 });
  const renderId = await f.render(user.id, { archiveId, frames, chunk });
  await f.one("UPDATE renders SET output_format = $format WHERE id = $renderId RETURNING id", { format, renderId });
  const agent = new AgentApi(server, token);
  const task = await agent.claim();
  return { user, userToken, worker, agent, renderId, task };
}

const failuresOf = (task: ClaimedTask) =>
  f.all("SELECT worker_id, error FROM task_failures WHERE task_id = $id", { id: task.id }) as Promise<{ worker_id: number; error: string }[]>;

describe("an accepted frame", () => {
  test("is stored under its sha256 with a WebP thumbnail, and recorded with its size and render time", async () => {
    const { userToken, worker, agent, renderId, task } = await leased();
    expect(task.expected).toEqual({ width: 64, height: 48 });
    const png = pngBytes(64, 48);
    const response = await agent.uploadFrame(task.id, 1, png, { leaseToken: task.leaseToken, renderTimeMs: 2345 });
    expect(frameResultSchema.parse(await expectJson(response, 201))).toEqual({ frame: 1, accepted: true, width: 64, height: 48, duplicate: false });

    const result = (await Result.findOne({ where: { renderId, frame: 1 } }))!;
    const hash = sha256(png);
    expect(result).toMatchObject({
      taskId: task.id,
      workerId: worker.id,
      authorId: worker.userId,
      imageKey: `results/${hash.slice(0, 2)}/${hash}`,
      thumbnailKey: `thumbnails/${hash.slice(0, 2)}/${hash}.webp`,
      width: 64,
      height: 48,
      renderTimeMs: 2345,
      accepted: true,
      rejectReason: null,
    });
    expect(sha256(await fs.readFile(blob(result.imageKey!)))).toBe(hash);
    const thumbnail = await sharp(await fs.readFile(blob(result.thumbnailKey!))).metadata();
    expect([thumbnail.format, thumbnail.width, thumbnail.height]).toEqual(["webp", 64, 48]);
    // Nothing left behind in the temporary uploads.
    expect(await fs.readdir(blob(".tmp"))).toEqual([]);

    // The owner gets both back through the renders API.
    const get = (url: string) => fetch(`${server.url}/api/v1/renders/${renderId}/frames/1${url}`, { headers: { Authorization: `Bearer ${userToken}` } });
    const image = await get("");
    expect([image.status, image.headers.get("content-type")]).toEqual([200, "image/png"]);
    expect(sha256(Buffer.from(await image.arrayBuffer()))).toBe(hash);
    const small = await get("/thumbnail");
    expect([small.status, small.headers.get("content-type")]).toEqual([200, "image/webp"]);
  });

  test("a thumbnail fits in 320×320, keeping the frame's shape", async () => {
    const { agent, task, renderId } = await leased();
    await f.one("UPDATE renders SET output_width = 640, output_height = 400 WHERE id = $renderId RETURNING id", { renderId });
    const png = await sharp({ create: { width: 640, height: 400, channels: 3, background: "#3a7" } }).png().toBuffer();
    await expectJson(await agent.uploadFrame(task.id, 1, png, { leaseToken: task.leaseToken }), 201);
    const hash = sha256(png);
    const thumbnail = await sharp(blob(`thumbnails/${hash.slice(0, 2)}/${hash}.webp`)).metadata();
    expect([thumbnail.width, thumbnail.height]).toEqual([320, 200]);
  });

  test("is accepted once: the same frame again answers 200 with the first result and stores nothing", async () => {
    const { agent, renderId, task } = await leased();
    const first = pngBytes(64, 48, 1);
    await expectJson(await agent.uploadFrame(task.id, 1, first, { leaseToken: task.leaseToken }), 201);
    const again = pngBytes(64, 48, 2);
    const response = await agent.uploadFrame(task.id, 1, again, { leaseToken: task.leaseToken });
    expect(await expectJson(response, 200)).toEqual({ frame: 1, accepted: true, width: 64, height: 48, duplicate: true });
    const results = await Result.findAll({ where: { renderId, frame: 1 } });
    expect(results.map((result) => [result.accepted, result.imageKey?.endsWith(sha256(first))])).toEqual([[true, true]]);
    expect(await exists(blob(`results/${sha256(again).slice(0, 2)}/${sha256(again)}`))).toBe(false);
  });

  test("an OpenEXR frame is checked by its structure and stored without a thumbnail", async () => {
    const { agent, renderId, task } = await leased({ format: "OPEN_EXR" });
    expect(task.format).toBe("OPEN_EXR");
    const exr = exrBytes(64, 48);
    await expectJson(await agent.uploadFrame(task.id, 1, exr, { leaseToken: task.leaseToken, contentType: "image/x-exr" }), 201);
    const result = (await Result.findOne({ where: { renderId, frame: 1 } }))!;
    expect([result.imageKey, result.thumbnailKey]).toEqual([`results/${sha256(exr).slice(0, 2)}/${sha256(exr)}`, null]);
  });

  test("an OpenEXR header with nothing after it, or a frame cut short, is refused (422)", async () => {
    for (const bytes of [exrHeaderBytes(64, 48), exrBytes(64, 48).subarray(0, 2000)]) {
      const { agent, task } = await leased({ format: "OPEN_EXR" });
      const response = await agent.uploadFrame(task.id, 1, bytes, { leaseToken: task.leaseToken, contentType: "image/x-exr" });
      await expectApiError(response, 422, "unprocessable", /Frame 1 was refused: the OpenEXR image is damaged: (its header lacks .* channels|chunk \d+ (points outside the file|runs past the end))/);
    }
  });
});

describe("a refused frame", () => {
  test.each([
    ["of the wrong size", () => pngBytes(32, 24), /it is 32×24 pixels; the scene renders 64×48/],
    ["damaged past its header", () => damagedPngBytes(64, 48), /the PNG image cannot be decoded/],
    ["in JPEG when the render asked for PNG", () => sharp({ create: { width: 64, height: 48, channels: 3, background: "#fff" } }).jpeg().toBuffer(), /it is a JPEG image; the render asked for PNG/],
    ["that is no image", () => Buffer.from("Error: Blender crashed\n"), /it is not a PNG, JPEG or OpenEXR image/],
    ["that is empty", () => Buffer.alloc(0), /the file is empty/],
  ])("%s is a 422, a failure of this worker, and the task goes back in the queue", async (_, image, reason) => {
    const { worker, agent, renderId, task } = await leased();
    const bytes = await image();
    const response = await agent.uploadFrame(task.id, 1, bytes, { leaseToken: task.leaseToken });
    await expectApiError(response, 422, "unprocessable", new RegExp(`Frame 1 was refused: ${reason.source}.*failure of this worker.*back to the queue`));
    const [failure, ...more] = await failuresOf(task);
    expect(more).toEqual([]);
    expect(failure.worker_id).toBe(worker.id);
    expect(failure.error).toMatch(reason);
    const rejected = await Result.findAll({ where: { renderId, frame: 1 } });
    expect(rejected.map((result) => [result.accepted, result.imageKey])).toEqual([[false, null]]);
    expect(rejected[0].rejectReason).toMatch(reason);
    expect(await f.one("SELECT status, worker_id FROM tasks WHERE id = $id", { id: task.id })).toEqual({ status: "queued", worker_id: null });
    // The lease is gone with it, and nothing was stored.
    await expectApiError(await agent.task(task.id, "fail", { leaseToken: task.leaseToken, error: "refused" }), 409, "conflict", /not leased/);
    expect(await exists(blob(`results/${sha256(bytes).slice(0, 2)}/${sha256(bytes)}`))).toBe(false);
  });

  test("a frame the task does not hold is a 400 that counts nothing", async () => {
    const { agent, task } = await leased({ frames: "1-9:2" });
    const png = pngBytes(64, 48);
    for (const frame of [0, 2, 3, -1]) {
      await expectApiError(await agent.uploadFrame(task.id, frame, png, { leaseToken: task.leaseToken }), 400, "bad_request", /not one of task \d+'s frames \(frame 1\)/);
    }
    await expectApiError(await agent.uploadFrame(task.id, "one", png, { leaseToken: task.leaseToken }), 400, "bad_request", /"one" is not a frame number/);
    expect(await failuresOf(task)).toEqual([]);
    expect(await f.one("SELECT status FROM tasks WHERE id = $id", { id: task.id })).toEqual({ status: "leased" });
  });

  test("a frame over CACTUS_MAX_FRAME_BYTES is a 413 that names the setting, before it is read", async () => {
    const { agent, task } = await leased();
    const huge = Buffer.concat([pngBytes(64, 48), Buffer.alloc(MAX_FRAME_BYTES)]);
    await expectApiError(await agent.uploadFrame(task.id, 1, huge, { leaseToken: task.leaseToken }), 413, "payload_too_large", /limit is 64 KiB.*CACTUS_MAX_FRAME_BYTES/);
    // Streamed without a length, it is cut off at the limit all the same.
    const stream = new Blob([huge]).stream();
    const query = new URLSearchParams({ leaseToken: task.leaseToken, renderTimeMs: "1" });
    const response = await fetch(`${server.url}/api/v1/agent/tasks/${task.id}/frames/1?${query}`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${agent.token}`, "Content-Type": "image/png" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    await expectApiError(response, 413, "payload_too_large", /CACTUS_MAX_FRAME_BYTES/);
    expect(await failuresOf(task)).toEqual([]);
  });
});

describe("completing a task", () => {
  test("is a 422 naming the frames still missing, then done; the render is done with its last task", async () => {
    const { agent, renderId, task } = await leased({ frames: "1-4", chunk: 2 });
    expect([task.frameStart, task.frameEnd]).toEqual([1, 2]);
    const lease = { leaseToken: task.leaseToken };
    await expectJson(await agent.uploadFrame(task.id, 2, pngBytes(64, 48, 2), lease), 201);
    await expectApiError(await agent.task(task.id, "complete", lease), 422, "unprocessable", /frame 1 have no accepted image yet/);
    await expectJson(await agent.uploadFrame(task.id, 1, pngBytes(64, 48, 1), lease), 201);
    expect(await expectJson(await agent.task(task.id, "complete", lease), 200)).toEqual({ renderStatus: "rendering" });
    expect(await f.one("SELECT status FROM tasks WHERE id = $id", { id: task.id })).toEqual({ status: "done" });

    const last = await agent.claim();
    expect([last.frameStart, last.frameEnd]).toEqual([3, 4]);
    for (const frame of [3, 4]) await expectJson(await agent.uploadFrame(last.id, frame, pngBytes(64, 48, frame), { leaseToken: last.leaseToken }), 201);
    expect(await expectJson(await agent.task(last.id, "complete", { leaseToken: last.leaseToken }), 200)).toEqual({ renderStatus: "done" });
    expect(await f.one("SELECT status, finished_at IS NOT NULL AS finished FROM renders WHERE id = $renderId", { renderId })).toEqual({
      status: "done",
      finished: true,
    });
    // Done is done: the lease now holds nothing to upload to.
    await expectApiError(await agent.uploadFrame(last.id, 4, pngBytes(64, 48), { leaseToken: last.leaseToken }), 409, "conflict", /not leased/);
  });
});
