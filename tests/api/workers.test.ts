import { QueryTypes, type Sequelize } from "sequelize";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createdWorkerSchema, workerListSchema, workerSchema, type WorkerDto } from "../../contract";
import { hashSecret } from "../../app/lib/secrets.server";
import { ArchiveApi, blend, expectApiError, uploaded } from "../helpers/archive-api";
import { lease, renderOf } from "../helpers/renders";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken, testDatabase } from "../helpers/users";

// A user's worker machines over HTTP: created with a token shown once, listed with a
// status derived from when the agent was last seen, renamed, enabled, disabled, removed.

let server: TestServer;
let sequelize: Sequelize;
let api: ArchiveApi;
let other: ArchiveApi;

beforeAll(async () => {
  server = await startTestServer();
  sequelize = testDatabase(server);
  api = new ArchiveApi(server, (await createUserWithToken(server, "owner")).token);
  other = new ArchiveApi(server, (await createUserWithToken(server, "neighbour")).token);
});
afterAll(async () => {
  await closeTestDatabase();
  await server?.close();
});

const row = async <T extends object>(sql: string, bind: Record<string, unknown>) =>
  (await sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT }))[0];

async function create(name: string, as = api) {
  const response = await as.call("/workers", { body: { name } });
  const body: unknown = await response.json();
  expect({ status: response.status, body }).toMatchObject({ status: 201 });
  return createdWorkerSchema.parse(body);
}

const list = async (as = api): Promise<WorkerDto[]> => workerListSchema.parse(await (await as.call("/workers")).json()).workers;
const patch = (id: number, body: object, as = api) => as.call(`/workers/${id}`, { method: "PATCH", body });

describe("creating a worker", () => {
  test("answers its agent token once; only the token's hash is stored", async () => {
    const worker = await create("studio-pc");
    expect(worker).toMatchObject({
      name: "studio-pc",
      enabled: true,
      status: "offline",
      lastSeenAt: null,
      blenderVersion: null,
      capabilities: {},
      wupm: null,
    });
    expect(worker.token).toMatch(/^ccw_[A-Za-z0-9_-]{32}$/);
    // With the line that installs its agent from this farm, not from a package registry.
    expect(worker.agentInstall).toBe(`curl -fsSL ${server.url}/agent/install.sh | sh -s -- --token ${worker.token}`);
    const stored = await row<{ token_hash: string }>(`SELECT token_hash FROM workers WHERE id = $id`, { id: worker.id });
    expect(stored.token_hash).toBe(hashSecret(worker.token));
    const everything = JSON.stringify(await sequelize.query(`SELECT * FROM workers`, { type: QueryTypes.SELECT }));
    expect(everything).not.toContain(worker.token);
    // Never shown again.
    const listed = (await list()).find((candidate) => candidate.id === worker.id)!;
    expect(listed).not.toHaveProperty("token");
    expect(JSON.stringify(await (await api.call("/workers")).json())).not.toContain(worker.token);
  });

  test("the token is the agent's: the server knows it by it", async () => {
    const worker = await create("token-check");
    const hello = await fetch(`${server.url}/api/v1/agent/hello`, {
      method: "POST",
      headers: { Authorization: `Bearer ${worker.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ blenderVersion: "3.4.1", capabilities: { denoiser: true, threads: 8, agentVersion: "0.1.0" } }),
    });
    expect(hello.status).toBe(200);
    const seen = (await list()).find((candidate) => candidate.id === worker.id)!;
    expect(seen).toMatchObject({ status: "idle", blenderVersion: "3.4.1", capabilities: { denoiser: true, threads: 8, agentVersion: "0.1.0", sandbox: "off" } });
    expect(seen.lastSeenAt).not.toBeNull();
  });

  test.each([
    [{ name: "" }, 400, "bad_request", /name: Give the worker a name\./],
    [{ name: "   " }, 400, "bad_request", /name: Give the worker a name\./],
    [{ name: "x".repeat(101) }, 400, "bad_request", /name: /],
    [{}, 400, "bad_request", /name: /],
  ])("%o: %i", async (body, status, code, message) => {
    const before = (await list()).length;
    await expectApiError(await api.call("/workers", { body }), status, code, message);
    expect(await list()).toHaveLength(before);
  });

  test("a name I already use, in any case, is a 409; another user may use it", async () => {
    const first = await create("Render Box");
    await expectApiError(await api.call("/workers", { body: { name: "render box" } }), 409, "conflict", new RegExp(`already have a worker named "render box" \\(worker ${first.id}\\)`));
    expect((await create("render box", other)).name).toBe("render box");
  });

  test("without a token: 401", async () => {
    await expectApiError(await api.call("/workers", { token: null, body: { name: "x" } }), 401, "unauthorized", /Sign in/);
  });
});

describe("listing", () => {
  test("only mine, by name; status from when the agent was last seen and whether it holds a lease", async () => {
    const user = new ArchiveApi(server, (await createUserWithToken(server, "lister")).token);
    const busy = await create("b-busy", user);
    const idle = await create("a-idle", user);
    const gone = await create("c-gone", user);
    const asleep = await create("d-asleep", user);
    const seen = (id: number, ago: string, status: string) =>
      sequelize.query(`UPDATE workers SET last_seen_at = now() - $ago::interval, status = $status WHERE id = $id`, {
        bind: { id, ago, status },
      });
    await seen(busy.id, "0 seconds", "idle");
    await seen(idle.id, "0 seconds", "idle");
    // Still "rendering" as last stored, but silent for longer than two minutes.
    await seen(gone.id, "3 minutes", "rendering");
    await seen(asleep.id, "30 seconds", "sleeping");
    const project = await user.createProject();
    const archive = await uploaded(await user.upload(project.id, blend(4000)));
    await sequelize.query(`UPDATE archives SET inspected_at = now() WHERE id = $id`, { bind: { id: archive.id } });
    await renderOf(await user.call("/renders", { body: { archiveId: archive.id, frames: "1" } }), 201);
    await lease(sequelize, busy.id);
    expect((await list(user)).map((worker) => [worker.name, worker.status])).toEqual([
      ["a-idle", "idle"],
      ["b-busy", "rendering"],
      ["c-gone", "offline"],
      ["d-asleep", "sleeping"],
    ]);
  });
});

describe("changing a worker", () => {
  test("rename, disable, enable: each answers the worker as it is now", async () => {
    const worker = await create("old-name");
    const renamed = workerSchema.parse(await (await patch(worker.id, { name: "new-name" })).json());
    expect(renamed).toMatchObject({ id: worker.id, name: "new-name", enabled: true });
    expect(workerSchema.parse(await (await patch(worker.id, { enabled: false })).json()).enabled).toBe(false);
    expect((await row<{ enabled: boolean }>(`SELECT enabled FROM workers WHERE id = $id`, { id: worker.id })).enabled).toBe(false);
    expect(workerSchema.parse(await (await patch(worker.id, { enabled: true, name: "NEW-name" })).json())).toMatchObject({
      name: "NEW-name",
      enabled: true,
    });
  });

  test("disabling a worker puts the task it holds back in the queue at once, no failure counted; its agent is refused", async () => {
    const user = new ArchiveApi(server, (await createUserWithToken(server, "disabler")).token);
    const worker = await create("tired", user);
    const spare = await create("spare", user);
    const project = await user.createProject();
    const archive = await uploaded(await user.upload(project.id, blend(5001)));
    await sequelize.query(`UPDATE archives SET inspected_at = now() WHERE id = $id`, { bind: { id: archive.id } });
    await renderOf(await user.call("/renders", { body: { archiveId: archive.id, frames: "1" } }), 201);
    const { lease: held } = await lease(sequelize, worker.id);

    expect(workerSchema.parse(await (await patch(worker.id, { enabled: false }, user)).json()).enabled).toBe(false);

    expect(await row(`SELECT status, worker_id FROM tasks WHERE id = $id`, { id: held.taskId })).toEqual({ status: "queued", worker_id: null });
    expect(await row(`SELECT count(*)::int AS failures FROM task_failures WHERE task_id = $id`, { id: held.taskId })).toEqual({ failures: 0 });
    expect((await lease(sequelize, spare.id)).lease.taskId).toBe(held.taskId);
    const heartbeat = await fetch(`${server.url}/api/v1/agent/tasks/${held.taskId}/heartbeat`, {
      method: "POST",
      headers: { Authorization: `Bearer ${worker.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ leaseToken: held.leaseToken, progress: 0.5 }),
    });
    expect(heartbeat.status).toBe(403);
  });

  test("its owner lets an unsandboxed worker render other people's files, and takes it back; the list says so", async () => {
    const worker = await create("bare-metal");
    expect((await list()).find((candidate) => candidate.id === worker.id)?.othersUnsandboxed).toBe(false);
    expect(workerSchema.parse(await (await patch(worker.id, { othersUnsandboxed: true })).json()).othersUnsandboxed).toBe(true);
    expect(await row(`SELECT others_unsandboxed FROM workers WHERE id = $id`, { id: worker.id })).toEqual({ others_unsandboxed: true });
    expect((await list()).find((candidate) => candidate.id === worker.id)?.othersUnsandboxed).toBe(true);
    expect(workerSchema.parse(await (await patch(worker.id, { othersUnsandboxed: false })).json()).othersUnsandboxed).toBe(false);
    await expectApiError(await patch(worker.id, { othersUnsandboxed: "yes" }), 400, "bad_request", /othersUnsandboxed: /);
  });

  test("a rename to a name in use is a 409; nothing asked, or a bad name, a 400", async () => {
    const taken = await create("taken-name");
    const worker = await create("renamer");
    await expectApiError(await patch(worker.id, { name: "TAKEN-NAME" }), 409, "conflict", /already have a worker named "TAKEN-NAME"/);
    await expectApiError(await patch(worker.id, {}), 400, "bad_request", /Send a new name, enabled or othersUnsandboxed\./);
    await expectApiError(await patch(worker.id, { name: "" }), 400, "bad_request", /Give the worker a name/);
    await expectApiError(await patch(worker.id, { enabled: "yes" }), 400, "bad_request", /enabled: /);
    expect((await list()).find((candidate) => candidate.id === taken.id)?.name).toBe("taken-name");
  });

  test("another user's worker is not found, and stays as it was", async () => {
    const theirs = await create("their-pc", other);
    await expectApiError(await patch(theirs.id, { enabled: false }), 404, "not_found", new RegExp(`You have no worker ${theirs.id}`));
    await expectApiError(await api.call(`/workers/${theirs.id}`, { method: "DELETE" }), 404, "not_found", /You have no worker/);
    await expectApiError(await patch(999_999, { enabled: false }), 404, "not_found", /You have no worker 999999/);
    expect((await list(other)).find((candidate) => candidate.id === theirs.id)).toMatchObject({ name: "their-pc", enabled: true });
  });
});

describe("removing a worker", () => {
  test("204; its token stops working; the task it held goes back in the queue, no failure counted", async () => {
    const user = new ArchiveApi(server, (await createUserWithToken(server, "remover")).token);
    const worker = await create("doomed", user);
    const project = await user.createProject();
    const archive = await uploaded(await user.upload(project.id, blend(5000)));
    await sequelize.query(`UPDATE archives SET inspected_at = now() WHERE id = $id`, { bind: { id: archive.id } });
    const render = await renderOf(await user.call("/renders", { body: { archiveId: archive.id, frames: "1-2" } }), 201);
    const { lease: held } = await lease(sequelize, worker.id);

    const removed = await user.call(`/workers/${worker.id}`, { method: "DELETE" });
    expect(removed.status).toBe(204);
    expect(await list(user)).toEqual([]);
    expect(await row(`SELECT status, worker_id, lease_token FROM tasks WHERE id = $id`, { id: held.taskId })).toEqual({
      status: "queued",
      worker_id: null,
      lease_token: null,
    });
    expect(await row(`SELECT count(*)::int AS failures FROM task_failures WHERE task_id = $id`, { id: held.taskId })).toEqual({ failures: 0 });
    expect((await renderOf(await user.call(`/renders/${render.id}`))).frames).toMatchObject({ queued: 2, rendering: 0 });
    const hello = await fetch(`${server.url}/api/v1/agent/hello`, {
      method: "POST",
      headers: { Authorization: `Bearer ${worker.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ blenderVersion: "3.4.1", capabilities: { denoiser: false, threads: 1 } }),
    });
    expect(hello.status).toBe(401);
    await expectApiError(await user.call(`/workers/${worker.id}`, { method: "DELETE" }), 404, "not_found", /You have no worker/);
  });
});
