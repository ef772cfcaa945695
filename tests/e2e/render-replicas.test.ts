import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { frameListSchema, renderSchema, type RenderDto } from "../../contract";
import { inspectImage } from "../../domain/image";
import { createTestDatabase } from "../helpers/db";
import { AGENTS_START_MS, startFarm, type Farm, type FarmAgent } from "../helpers/e2e-farm";
import { unzip } from "../helpers/fixtures";
import { Replica } from "../helpers/replicas";
import { startTestS3, type TestS3 } from "../helpers/s3";
import { makeScene } from "../helpers/scenes";
import { watchRender } from "../helpers/sse";

// Past one machine: two server replicas (each `node build/server.js` in a process of its
// own, with its own data dir) on one Postgres and one S3 store (s3rver), real agents with
// real Blender spread over both. No task goes out twice, the events of a render reach
// clients of either replica, every frame comes back from either; and the farm loses no
// frame when a replica is killed mid-render or the store stops answering for a while.

let s3: TestS3;
let replicas: { a: Replica; b: Replica };
let farm: Farm;
/** Agents talking to replica a, and to replica b. */
let onA: FarmAgent[];
let onB: FarmAgent[];
let archiveId: number;

beforeAll(async () => {
  s3 = await startTestS3();
  const databaseUrl = await createTestDatabase();
  // Short leases, a reaper every second: a killed replica's agents' work is handed out
  // again within seconds. Not shorter: agents beat 3 times a lease, and on a loaded
  // machine a 4 s lease ran out under live agents.
  const env = { ...s3.env, CACTUS_LEASE_SECONDS: "10", CACTUS_REAPER_SECONDS: "1" };
  // Started together, as a deploy starts them: the admin is made once, neither fails.
  const [a, b] = await Promise.all(["a", "b"].map((name) => Replica.start({ name, databaseUrl, env })));
  replicas = { a, b };
  farm = await startFarm({ place: { databaseUrl }, server: async () => a });
  // All four at once: an idle agent asks less and less often (1 s, doubling to 30 s), and
  // agents started ten seconds before the others (each tests its engines before its hello)
  // waited out the whole render once, so only the other replica's agents rendered it.
  const places: [string, Replica][] = [["alpha", a], ["bravo", a], ["charlie", b], ["delta", b]];
  const agents = await Promise.all(places.map(([name, replica]) => farm.addAgent({ name, server: replica.url })));
  onA = agents.slice(0, 2);
  onB = agents.slice(2);
  const archive = await farm.uploadScene(await makeScene(), "cube.blend");
  archiveId = archive.id;
  await farm.waitForFacts(archiveId);
}, 2 * AGENTS_START_MS);
afterAll(async () => {
  if (process.env.CACTUS_E2E_LOGS && replicas) {
    for (const replica of Object.values(replicas)) process.stderr.write(`--- replica ${replica.name} ---\n${replica.log.join("\n")}\n`);
  }
  await farm?.stop();
  await Promise.all(Object.values(replicas ?? {}).map((replica) => replica.remove()));
  await s3?.close();
});

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/** A call to `replica`'s API with the farm user's token; its JSON, which must come with `status`. */
async function api<T>(replica: Replica, urlPath: string, body?: unknown, status = body === undefined ? 200 : 201): Promise<T> {
  const response = await fetch(`${replica.url}/api/v1${urlPath}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { Authorization: `Bearer ${farm.token}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== status) throw new Error(`${replica.name}: ${urlPath} answered ${response.status}, not ${status}: ${text}`);
  return JSON.parse(text) as T;
}

async function download(replica: Replica, urlPath: string): Promise<Buffer> {
  const response = await fetch(`${replica.url}/api/v1${urlPath}`, { headers: { Authorization: `Bearer ${farm.token}` } });
  if (response.status !== 200) throw new Error(`${replica.name}: ${urlPath} answered ${response.status}: ${await response.text()}`);
  return Buffer.from(await response.arrayBuffer());
}

const finished = (render: RenderDto) => render.status !== "queued" && render.status !== "rendering";

/** Every frame and its thumbnail, from each replica: the same bytes, a 64×48 PNG each, all different. */
async function expectEveryFrameFromEither(renderId: number, frames: number): Promise<void> {
  const { frames: listed } = frameListSchema.parse(await api(replicas.b, `/renders/${renderId}/frames`));
  expect(listed.filter((frame) => frame.status === "done")).toHaveLength(frames);
  const images = new Set<string>();
  for (const { frame } of listed) {
    const [fromA, fromB] = await Promise.all([replicas.a, replicas.b].map((replica) => download(replica, `/renders/${renderId}/frames/${frame}`)));
    expect(sha256(fromA), `frame ${frame}`).toBe(sha256(fromB));
    expect(inspectImage(fromA), `frame ${frame}`).toEqual({ format: "PNG", width: 64, height: 48 });
    images.add(sha256(fromA));
    const thumbnails = await Promise.all([replicas.a, replicas.b].map((replica) => download(replica, `/renders/${renderId}/frames/${frame}/thumbnail`)));
    expect(thumbnails[0].equals(thumbnails[1])).toBe(true);
  }
  expect(images.size).toBe(frames);
}

/** Each frame accepted once, none refused; the tasks' attempts. */
async function expectEachFrameOnce(renderId: number, frames: number): Promise<{ attempts: number[] }> {
  const results = await farm.query<{ frame: number; accepted: boolean }>(
    "SELECT frame, accepted FROM results WHERE render_id = $id ORDER BY frame",
    { id: renderId },
  );
  expect(results, farm.logs()).toEqual(Array.from({ length: frames }, (_, index) => ({ frame: index + 1, accepted: true })));
  expect(await farm.query("SELECT * FROM task_failures WHERE render_id = $id", { id: renderId })).toEqual([]);
  const tasks = await farm.query<{ attempts: number }>("SELECT attempts FROM tasks WHERE render_id = $id ORDER BY frame_start", { id: renderId });
  return { attempts: tasks.map((task) => task.attempts) };
}

test("agents on two replicas render one render: no task twice, events on both, every frame from either, blobs only in S3", async () => {
  // Requested on b, of an archive uploaded to a; watched on both.
  const requested = renderSchema.parse(await api(replicas.b, "/renders", { archiveId, frames: "1-12" }));
  const [watchA, watchB] = await Promise.all([replicas.a, replicas.b].map((replica) => watchRender(replica.url, farm.token, requested.id)));
  const render = await farm.waitForRender(requested.id, finished, 90_000);
  expect(render, farm.logs()).toMatchObject({ status: "done", frames: { total: 12, done: 12, failed: 0 } });

  const { attempts } = await expectEachFrameOnce(render.id, 12);
  expect(attempts, "no task handed out twice").toEqual(Array(12).fill(1));
  // Agents of both replicas rendered some of it.
  const byWorker = await farm.query<{ worker_id: number; frames: number }>(
    "SELECT worker_id, count(*)::int AS frames FROM results WHERE render_id = $id GROUP BY worker_id",
    { id: render.id },
  );
  const framesOf = (agents: FarmAgent[]) =>
    byWorker.filter((row) => agents.some((agent) => agent.workerId === row.worker_id)).reduce((sum, row) => sum + row.frames, 0);
  expect(framesOf(onA), farm.logs()).toBeGreaterThan(0);
  expect(framesOf(onB), farm.logs()).toBeGreaterThan(0);

  // The render's events reached the clients of both replicas, up to its end.
  for (const watch of [watchA, watchB]) {
    await watch.ended;
    expect(watch.events.at(-1)).toMatchObject({ id: render.id, status: "done", frames: { done: 12 } });
    const done = watch.events.map((event) => event.frames.done);
    expect(done).toEqual([...done].sort((x, y) => x - y));
    expect(done.some((count) => count > 0 && count < 12), `progress on the way: ${done.join(", ")}`).toBe(true);
  }

  await expectEveryFrameFromEither(render.id, 12);
  const zip = await unzip(await download(replicas.a, `/renders/${render.id}/download.zip`));
  expect(zip).toHaveLength(12);

  // The blobs are in the bucket, none on the replicas' disks (uploads pass through and go).
  expect(await s3.keys("archives/")).toHaveLength(1);
  expect((await s3.keys("results/")).length).toBeGreaterThanOrEqual(12);
  for (const replica of Object.values(replicas)) {
    await expect(fs.readdir(path.join(replica.dataDir, "blobs"))).rejects.toThrow(/ENOENT/);
    expect(await fs.readdir(path.join(replica.dataDir, "uploads"))).toEqual([]);
  }
}, 150_000);

test("replica a killed (kill -9) mid-render: b's reaper hands its agents' tasks out again, a comes back, no frame lost", async () => {
  const { a, b } = replicas;
  const requested = renderSchema.parse(await api(a, "/renders", { archiveId, frames: "1-12" }));
  const watchB = await watchRender(b.url, farm.token, requested.id);
  const watchA = await watchRender(a.url, farm.token, requested.id);
  const heldByA = () =>
    farm.query<{ id: number }>(
      `SELECT id FROM tasks WHERE render_id = $id AND status = 'leased' AND worker_id = ANY($workers::bigint[])`,
      { id: requested.id, workers: onA.map((agent) => agent.workerId) },
    );
  let held: { id: number }[] = [];
  await farm.waitFor("a's agents render", async () => (held = await heldByA()).length > 0, 60_000);
  // An idle agent's held claim takes a frame at once: a's agents may be rendering before a's
  // stream sent its first event, which the test reads after a dies.
  await farm.waitFor("a's stream sent the render", async () => watchA.events.length > 0, 30_000);

  await a.kill();
  // What a's agents held when it died: their leases run out, and only b can re-queue them.
  const orphaned = held.map((task) => task.id);
  await farm.waitFor(
    "the tasks a's agents held are handed out again",
    async () => {
      const tasks = await farm.query<{ attempts: number; status: string }>("SELECT attempts, status FROM tasks WHERE id = ANY($ids::bigint[])", {
        ids: orphaned,
      });
      return tasks.every((task) => task.attempts >= 2 || task.status === "done");
    },
    60_000,
  );
  expect(b.log.join("\n")).toMatch(/Re-queued \d+ task\(s\) whose lease expired/);
  // The stream of a's client ended with a, before the render did; the one on b goes on.
  await watchA.ended;
  expect(watchA.events.length).toBeGreaterThan(0);
  expect(watchA.events.some(finished)).toBe(false);

  await a.restart();
  const render = await farm.waitForRender(requested.id, finished, 90_000);
  expect(render, farm.logs()).toMatchObject({ status: "done", frames: { total: 12, done: 12, failed: 0 } });
  await expectEachFrameOnce(render.id, 12);
  await watchB.ended;
  expect(watchB.events.at(-1)).toMatchObject({ status: "done", frames: { done: 12 } });
  // a's agents waited for it and carried on.
  for (const agent of onA) {
    expect(agent.alive()).toBe(true);
    expect(agent.log.join("\n")).toMatch(/ECONNREFUSED.*trying again in/);
  }
  await expectEveryFrameFromEither(render.id, 12);
}, 180_000);

test("the S3 store stops answering for 3 s mid-render: uploads fail, agents retry, no frame lost", async () => {
  const requested = renderSchema.parse(await api(replicas.b, "/renders", { archiveId, frames: "1-12" }));
  await farm.waitForRender(requested.id, (render) => render.frames.done >= 2, 60_000);
  await s3.stop();
  // Down until an upload has met it (the replica could not store the frame, the agent
  // heard a 500), then 3 s more.
  const refused = /The upload of frame \d+ of task \d+ failed on the server: The farm's file store is not answering right now/;
  const agents = [...onA, ...onB];
  await farm.waitFor("an upload fails for want of the store", () => agents.some((agent) => agent.log.some((line) => refused.test(line))), 60_000);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  await s3.start();

  const render = await farm.waitForRender(requested.id, finished, 120_000);
  expect(render, farm.logs()).toMatchObject({ status: "done", frames: { total: 12, done: 12, failed: 0 } });
  await expectEachFrameOnce(render.id, 12);
  await expectEveryFrameFromEither(render.id, 12);
}, 180_000);
