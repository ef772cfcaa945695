import fs from "node:fs/promises";
import path from "node:path";
import type { Sequelize } from "sequelize";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { frameListSchema } from "../../contract";
import { ArchiveApi, blend, expectApiError, uploaded } from "../helpers/archive-api";
import { unzip } from "../helpers/fixtures";
import { createAgent, renderOf, sha256, type TestAgent } from "../helpers/renders";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken, testDatabase } from "../helpers/users";

// A render's frames once agents delivered them (over the real agent protocol): the list,
// one frame and its thumbnail, the zip.

let server: TestServer;
let sequelize: Sequelize;
let api: ArchiveApi;
let other: ArchiveApi;
let agent: TestAgent;
let renderId: number;
/** Frames 1-3 of 1-4 rendered, frame 4 leased. */
const images = new Map<number, Buffer>();

beforeAll(async () => {
  server = await startTestServer();
  sequelize = testDatabase(server);
  api = new ArchiveApi(server, (await createUserWithToken(server, "editor")).token);
  other = new ArchiveApi(server, (await createUserWithToken(server, "outsider")).token);
  const project = await api.createProject();
  const archive = await uploaded(await api.upload(project.id, blend(2000), { filename: "shot.blend" }));
  // As an inspection would: the scene renders 64×48, so uploads are checked against that.
  await sequelize.query(
    `UPDATE archives SET inspected_at = now(), frame_start = 1, frame_end = 4, resolution_x = 64, resolution_y = 48,
            resolution_percentage = 100 WHERE id = $id`,
    { bind: { id: archive.id } },
  );
  renderId = (await renderOf(await api.call("/renders", { body: { archiveId: archive.id } }), 201)).id;
  ({ agent } = await createAgent(api, "studio-pc"));
  for (let task = 0; task < 3; task++) for (const [frame, image] of await agent.renderNext()) images.set(frame, image);
  await agent.claim();
});
afterAll(async () => {
  await closeTestDatabase();
  await server?.close();
});

const get = (path: string, as = api) => as.call(`/renders/${renderId}${path}`);

test("the frame list: each frame's status, worker, time, size, file name and bytes", async () => {
  const { frames } = frameListSchema.parse(await (await get("/frames")).json());
  expect(frames).toEqual([
    ...[1, 2, 3].map((frame) => ({
      frame,
      status: "done",
      workerName: "studio-pc",
      renderTimeMs: 1000 + frame,
      width: 64,
      height: 48,
      filename: `shot_0000${frame}.png`,
      bytes: images.get(frame)!.length,
    })),
    { frame: 4, status: "rendering", workerName: "studio-pc", renderTimeMs: null, width: null, height: null, filename: "shot_00004.png", bytes: null },
  ]);
});

test("a frame's bytes come from its result row, not from its image on disk; older rows without them from the disk", async () => {
  const blob = (frame: number) => {
    const hash = sha256(images.get(frame)!);
    return path.join(server.dataDir, "blobs", "results", hash.slice(0, 2), hash);
  };
  const setBytes = (frame: number, bytes: number | null) =>
    sequelize.query(`UPDATE results SET image_bytes = $bytes WHERE render_id = $renderId AND frame = $frame AND accepted`, {
      bind: { bytes, renderId, frame },
    });
  // The upload recorded each image's size.
  const [recorded] = await sequelize.query(`SELECT frame, image_bytes FROM results WHERE render_id = $renderId AND accepted ORDER BY frame`, {
    bind: { renderId },
  });
  expect(recorded).toEqual([1, 2, 3].map((frame) => ({ frame, image_bytes: images.get(frame)!.length })));

  await fs.rename(blob(1), `${blob(1)}.away`);
  await setBytes(2, null);
  try {
    const { frames } = frameListSchema.parse(await (await get("/frames")).json());
    expect(frames.slice(0, 3).map((frame) => frame.bytes)).toEqual([1, 2, 3].map((frame) => images.get(frame)!.length));
    const zip = await get("/download.zip?frames=2");
    expect(zip.status).toBe(200);
    expect((await unzip(Buffer.from(await zip.arrayBuffer()))).map((entry) => entry.data.length)).toEqual([images.get(2)!.length]);
  } finally {
    await fs.rename(`${blob(1)}.away`, blob(1));
    await setBytes(2, images.get(2)!.length);
  }
});

describe("one frame", () => {
  test("is the uploaded image, as an attachment named after the scene and the frame", async () => {
    const response = await get("/frames/2");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/png");
    expect(response.headers.get("content-disposition")).toBe('attachment; filename="shot_00002.png"');
    expect(response.headers.get("content-length")).toBe(String(images.get(2)!.length));
    expect(Buffer.from(await response.arrayBuffer()).equals(images.get(2)!)).toBe(true);
  });

  test("its thumbnail is the server's WebP preview", async () => {
    const response = await get("/frames/3/thumbnail");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/webp");
    expect(response.headers.get("content-disposition")).toBe('inline; filename="shot_00003_thumbnail"');
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(bytes.subarray(8, 12).toString("latin1")).toBe("WEBP");
  });

  test.each([
    ["/frames/4", /Frame 4 of render \d+ is not rendered yet; .cactus render status/],
    ["/frames/4/thumbnail", /Frame 4 of render \d+ is not rendered yet/],
    ["/frames/0", /Render \d+ has no frame 0; its frames are 1-4\./],
    ["/frames/99", /has no frame 99; its frames are 1-4/],
    ["/frames/two", /No frame two; a frame is a number like 12\./],
  ])("%s: 404 saying why", async (path, message) => {
    await expectApiError(await get(path), 404, "not_found", message);
  });
});

describe("the zip", () => {
  test("holds exactly the accepted frames, stored as they are, and says its length up front", async () => {
    const response = await get("/download.zip");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/zip");
    expect(response.headers.get("content-disposition")).toBe(`attachment; filename="shot_render${renderId}.zip"`);
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(response.headers.get("content-length")).toBe(String(bytes.length));
    const entries = await unzip(bytes);
    expect(entries.map((entry) => [entry.name, entry.method])).toEqual([
      ["shot_00001.png", 0],
      ["shot_00002.png", 0],
      ["shot_00003.png", 0],
    ]);
    for (const entry of entries) expect(entry.data.equals(images.get(Number(entry.name.slice(5, 10)))!)).toBe(true);
  });

  test.each([
    ["2-3", ["shot_00002.png", "shot_00003.png"]],
    ["1-4:2", ["shot_00001.png", "shot_00003.png"]],
    ["3", ["shot_00003.png"]],
  ])("?frames=%s narrows it to the accepted frames of that range", async (frames, names) => {
    const response = await get(`/download.zip?frames=${frames}`);
    expect(response.status).toBe(200);
    expect((await unzip(Buffer.from(await response.arrayBuffer()))).map((entry) => entry.name)).toEqual(names);
  });

  test("a range with nothing rendered is a 404; a bad range a 400 in the frames' own words", async () => {
    await expectApiError(await get("/download.zip?frames=4"), 404, "not_found", /has no rendered frames in 4 yet/);
    await expectApiError(await get("/download.zip?frames=3-1"), 400, "bad_request", /Frames 3-1 are reversed; write 1-3\./);
    await expectApiError(await get("/download.zip?frames=all"), 400, "bad_request", /frames: Write frames as A-B/);
  });
});

test("another user gets 404 for every part of the render, as for one that never was", async () => {
  for (const path of ["/frames", "/frames/2", "/frames/2/thumbnail", "/download.zip", "/events"]) {
    await expectApiError(await get(path, other), 404, "not_found", /You have no render \d+/);
  }
  await expectApiError(await api.call("/renders/999999/download.zip"), 404, "not_found", /You have no render 999999/);
});
