import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { archiveSchema, type ArchiveDto, type ClaimedTask } from "../../contract";
import { Archive, Result } from "../../db/models";
import { framePaths, renderFrames } from "../../agent/blender";
import { inspectScene } from "../../agent/scene-facts";
import { AgentApi, createWorkerWithToken, expectJson, HELLO, SCENE_FACTS } from "../helpers/agent-api";
import { ArchiveApi, blend, expectApiError, sha256, uploaded } from "../helpers/archive-api";
import { farm, type Farm } from "../helpers/farm";
import { BLENDER, makeScene } from "../helpers/scenes";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken, testDatabase } from "../helpers/users";

// Archives on the agent's side: every new archive is inspected by one of its owner's agents
// (here with the real Blender and the agent's own inspection script), its bytes go only to
// an agent holding a task of it, and the facts it reports decide how frames are checked.

let server: TestServer;
let f: Farm;
let workDir: string;
let sceneBytes: Buffer;

beforeAll(async () => {
  server = await startTestServer();
  f = farm(testDatabase(server));
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-agent-archives-"));
  // tests/helpers/scenes.ts: 12 frames, 64×48, Cycles with 4 samples.
  sceneBytes = await fs.readFile(await makeScene());
});
afterAll(async () => {
  await closeTestDatabase();
  await server.close();
  await fs.rm(workDir, { recursive: true, force: true });
});

/** A user who uploads through the API, with one worker and its agent. */
async function owner(name: string) {
  const { user, token } = await createUserWithToken(server, name);
  const { worker, token: workerToken } = await createWorkerWithToken(server, user.id, { name: `${name}-pc` });
  const archives = new ArchiveApi(server, token);
  return { user, worker, archives, agent: new AgentApi(server, workerToken) };
}

const inspectTasksOf = (archiveId: number) =>
  f.all("SELECT status FROM tasks WHERE archive_id = $archiveId AND kind = 'inspect'", { archiveId });

async function getArchive(archives: ArchiveApi, id: number): Promise<ArchiveDto> {
  return archiveSchema.parse(await expectJson(await archives.call(`/archives/${id}`), 200));
}

/** Downloads the task's archive as the agent would, checking its length and hash. */
async function download(agent: AgentApi, task: ClaimedTask): Promise<string> {
  const response = await agent.downloadArchive(task.archive.hash);
  expect(response.status).toBe(200);
  const bytes = Buffer.from(await response.arrayBuffer());
  expect([bytes.length, sha256(bytes)]).toEqual([task.archive.size, task.archive.hash]);
  const file = path.join(workDir, `${task.archive.hash}.blend`);
  await fs.writeFile(file, bytes);
  return file;
}

describe("a scene uploaded, inspected and rendered by its owner's agent", () => {
  let ann: Awaited<ReturnType<typeof owner>>;
  let archive: ArchiveDto;

  test("the upload queues an inspect task that only the owner's agents get", async () => {
    ann = await owner("ann");
    const projectId = (await ann.archives.createProject("Shots")).id;
    archive = await uploaded(await ann.archives.upload(projectId, sceneBytes, { filename: "shot.blend" }));
    expect(await inspectTasksOf(archive.id)).toEqual([{ status: "queued" }]);
    expect(archive.facts).toMatchObject({ blenderVersion: "3.4", frameStart: null, resolutionX: null, engine: null });

    const stranger = await owner("bob");
    await stranger.agent.claimNothing();
    await expectApiError(await stranger.agent.downloadArchive(archive.hash), 404, "not_found", /only downloads the archive of a task it holds/);
  });

  test("the agent holding it downloads the bytes, whole or from where a cut download stopped", async () => {
    const task = await ann.agent.claim();
    expect(task).toMatchObject({
      kind: "inspect",
      renderId: null,
      frameStart: null,
      frameEnd: null,
      format: null,
      archive: { id: archive.id, hash: archive.hash, size: sceneBytes.length, kind: "blend", mainPath: null },
      expected: null,
    });
    const whole = await ann.agent.downloadArchive(archive.hash);
    expect(whole.status).toBe(200);
    expect([whole.headers.get("content-length"), whole.headers.get("accept-ranges")]).toEqual([String(sceneBytes.length), "bytes"]);
    expect(sha256(Buffer.from(await whole.arrayBuffer()))).toBe(archive.hash);

    const rest = await ann.agent.downloadArchive(archive.hash, { Range: "bytes=1000-" });
    expect(rest.status).toBe(206);
    expect(rest.headers.get("content-range")).toBe(`bytes 1000-${sceneBytes.length - 1}/${sceneBytes.length}`);
    expect(Buffer.from(await rest.arrayBuffer()).equals(sceneBytes.subarray(1000))).toBe(true);
    const middle = await ann.agent.downloadArchive(archive.hash, { Range: "bytes=10-19" });
    expect([middle.status, middle.headers.get("content-length")]).toEqual([206, "10"]);
    expect(Buffer.from(await middle.arrayBuffer()).equals(sceneBytes.subarray(10, 20))).toBe(true);

    const past = await ann.agent.downloadArchive(archive.hash, { Range: `bytes=${sceneBytes.length}-` });
    expect(past.headers.get("content-range")).toBe(`bytes */${sceneBytes.length}`);
    await expectApiError(past, 416, "range_not_satisfiable", new RegExp(`has ${sceneBytes.length} bytes`));
    await expectApiError(await ann.agent.downloadArchive("not-a-hash"), 404, "not_found", /not an archive's sha256/);

    // Blender reads the scene with the agent's own script; the facts go on the archive.
    const outcome = await inspectScene({ blender: BLENDER, blendFile: await download(ann.agent, task) });
    if (!outcome.ok) throw new Error(`Inspection failed: ${outcome.error}\n${outcome.logTail.join("\n")}`);
    const answer = await ann.agent.task(task.id, "inspection", { leaseToken: task.leaseToken, facts: outcome.facts });
    expect(await expectJson(answer, 200)).toEqual({ archiveId: archive.id });

    // Every fact, in the archive's API answer, and what a render of it as it is meets: nothing.
    const { scenes, scene, border, ...facts } = SCENE_FACTS;
    expect(border).toBeNull();
    const read = await getArchive(ann.archives, archive.id);
    expect(read.facts).toEqual({ ...facts, compression: "none", scene, scenes });
    expect(read.inspection).toEqual({ status: "done", error: null, at: expect.any(String) });
    expect(read.sceneCheck).toEqual({ refusals: [], warnings: [] });
    const row = (await Archive.findByPk(archive.id))!;
    expect(row.inspectedAt).not.toBeNull();
    expect(row.sceneFacts).toMatchObject({ outputWidth: 64, outputHeight: 48, cameras: ["Camera"], missingFiles: [] });
    expect(await inspectTasksOf(archive.id)).toEqual([{ status: "done" }]);
    // The task is done, so the bytes are no longer this agent's to fetch.
    await expectApiError(await ann.agent.downloadArchive(archive.hash), 404, "not_found", /claim one first/);
  });

  test("a frame Blender renders from it is checked against the facts' size and accepted", async () => {
    const renderId = await f.render(ann.user.id, { archiveId: archive.id, frames: "5" });
    const task = await ann.agent.claim();
    expect(task).toMatchObject({ kind: "render", renderId, frameStart: 5, frameEnd: 5, format: "PNG", expected: { width: 64, height: 48 } });
    const job = { blendFile: await download(ann.agent, task), outputDir: workDir, format: "PNG" as const, frameStart: 5, frameEnd: 5, threads: 1 };
    const rendered = await renderFrames({ job, blender: BLENDER });
    if (!rendered.ok) throw new Error(`Blender failed: ${rendered.errors.join("\n")}\n${rendered.logTail.join("\n")}`);
    const [file] = framePaths(job);
    const response = await ann.agent.uploadFrame(task.id, 5, await fs.readFile(file), { leaseToken: task.leaseToken, renderTimeMs: 800 });
    expect(await expectJson(response, 201)).toEqual({ frame: 5, accepted: true, width: 64, height: 48, duplicate: false });
    expect(await expectJson(await ann.agent.task(task.id, "complete", { leaseToken: task.leaseToken }), 200)).toEqual({ renderStatus: "done" });

    const result = (await Result.findOne({ where: { renderId, frame: 5 } }))!;
    const thumbnail = await sharp(path.join(server.dataDir, "blobs", result.thumbnailKey!)).metadata();
    expect([thumbnail.format, thumbnail.width, thumbnail.height]).toEqual(["webp", 64, 48]);
  });

  test("the same bytes added to another project carry the facts and are not inspected again", async () => {
    const projectId = (await ann.archives.createProject("Copies")).id;
    const response = await ann.archives.call(`/projects/${projectId}/archives/dedupe`, {
      body: { sha256: archive.hash, filename: "copy.blend" },
    });
    const copy = await uploaded(response, 201);
    expect(copy.facts).toEqual((await getArchive(ann.archives, archive.id)).facts);
    expect(await inspectTasksOf(copy.id)).toEqual([]);
    await ann.agent.claimNothing();
  });
});

describe("inspection", () => {
  test("bytes not yet inspected get an inspect task for each new row, uploaded or deduplicated", async () => {
    const { archives } = await owner("cat");
    const bytes = blend(3000);
    const first = await uploaded(await archives.upload((await archives.createProject()).id, bytes));
    const response = await archives.call(`/projects/${(await archives.createProject()).id}/archives/dedupe`, {
      body: { sha256: first.hash, filename: "again.blend" },
    });
    const second = await uploaded(response, 201);
    expect(await inspectTasksOf(first.id)).toEqual([{ status: "queued" }]);
    expect(await inspectTasksOf(second.id)).toEqual([{ status: "queued" }]);
    // The same bytes into the same project add no row, and so no task.
    await uploaded(await archives.upload(first.projectId, bytes), 200);
    expect(await f.one("SELECT count(*)::int AS tasks FROM tasks WHERE kind = 'inspect' AND archive_id IN ($a, $b)", { a: first.id, b: second.id })).toEqual({
      tasks: 2,
    });
  });

  test("an inspect task takes scene facts, not frames or complete; a render task takes no facts", async () => {
    const { user, archives, agent } = await owner("fox");
    const archive = await uploaded(await archives.upload((await archives.createProject()).id, blend(2200)));
    const inspect = await agent.claim();
    const lease = { leaseToken: inspect.leaseToken };
    await expectApiError(await agent.task(inspect.id, "complete", lease), 400, "bad_request", /inspect task: post its scene facts to …\/inspection/);
    await expectApiError(await agent.uploadFrame(inspect.id, 1, Buffer.from("png"), lease), 400, "bad_request", /inspect task: it takes scene facts/);
    await expectJson(await agent.task(inspect.id, "inspection", { ...lease, facts: SCENE_FACTS }), 200);

    await f.render(user.id, { archiveId: archive.id, frames: "1" });
    const render = await agent.claim();
    await expectApiError(
      await agent.task(render.id, "inspection", { leaseToken: render.leaseToken, facts: SCENE_FACTS }),
      400,
      "bad_request",
      /render task: upload its frames/,
    );
    expect(await f.one("SELECT status FROM tasks WHERE id = $id", { id: render.id })).toEqual({ status: "leased" });
  });

  test("an archive Blender cannot read, failed by 3 of the owner's agents, records why", async () => {
    const { user, archives, agent } = await owner("dee");
    const archive = await uploaded(await archives.upload((await archives.createProject()).id, blend(2000)));
    const agents = [agent];
    for (const name of ["dee-2", "dee-3"]) agents.push(new AgentApi(server, (await createWorkerWithToken(server, user.id, { name })).token));
    for (const [index, each] of agents.entries()) {
      const task = await each.claim();
      expect([task.kind, task.archive.id]).toEqual(["inspect", archive.id]);
      const answer = await each.task(task.id, "fail", { leaseToken: task.leaseToken, error: "Error: File format is not supported" });
      expect(await expectJson(answer, 200)).toEqual({
        taskStatus: index < 2 ? "queued" : "failed",
        renderStatus: null,
        workerBlocklisted: false,
        blame: "machine",
        ...(index < 2 ? {} : { because: "workers" }),
      });
    }
    const row = (await Archive.findByPk(archive.id))!;
    expect([row.inspectedAt !== null, row.inspectionError]).toEqual([true, "Error: File format is not supported"]);
    await agent.claimNothing();
  });

  test("facts that say the scene denoises send a render asked for before them only to workers with a denoiser", async () => {
    const { user, archives, agent, worker } = await owner("eli");
    const archive = await uploaded(await archives.upload((await archives.createProject()).id, blend(2500)));
    const renderId = await f.render(user.id, { archiveId: archive.id, frames: "1" });
    const inspect = await agent.claim();
    expect(inspect.kind).toBe("inspect");
    const facts = { ...SCENE_FACTS, denoising: true };
    await expectJson(await agent.task(inspect.id, "inspection", { leaseToken: inspect.leaseToken, facts }), 200);
    expect(await f.one("SELECT needs_denoiser FROM renders WHERE id = $renderId", { renderId })).toEqual({ needs_denoiser: true });

    await agent.claimNothing();
    await expectJson(await agent.hello({ ...HELLO, capabilities: { denoiser: true, threads: 4 } }), 200);
    expect((await agent.claim()).renderId).toBe(renderId);
    expect((await worker.reload()).capabilities).toMatchObject({ denoiser: true });
  });
});

describe("looking ahead", () => {
  test("an agent sees the archives of the work it will likely get next, and may fetch them before it holds a task of them", async () => {
    const cai = await owner("cyd");
    const projectId = (await cai.archives.createProject("Next")).id;
    const bytes = blend(4096);
    const next = await uploaded(await cai.archives.upload(projectId, bytes, { filename: "next.blend" }));
    expect(await expectJson(await cai.agent.call("GET", "/agent/next-archives"), 200)).toEqual({
      archives: [{ hash: next.hash, size: bytes.length, kind: "blend", mainPath: null }],
    });
    // Fetched with no task held, and leasing nothing.
    const response = await cai.agent.downloadArchive(next.hash);
    expect(response.status).toBe(200);
    expect(sha256(Buffer.from(await response.arrayBuffer()))).toBe(next.hash);
    expect(await f.all("SELECT status FROM tasks WHERE archive_id = $id", { id: next.id })).toEqual([{ status: "queued" }]);

    const dee = await owner("dora");
    expect(await expectJson(await dee.agent.call("GET", "/agent/next-archives"), 200)).toEqual({ archives: [] });
    await expectApiError(await dee.agent.downloadArchive(next.hash), 404, "not_found", /task it holds or is likely to get next/);
  });
});
