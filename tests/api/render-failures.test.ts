import { QueryTypes, type Sequelize } from "sequelize";
import { afterAll, beforeAll, expect, test } from "vitest";
import { renderFailureListSchema, type RenderFailureListDto } from "../../contract";
import { failTask } from "../../db/sql/queue";
import { AgentApi, createWorkerWithToken } from "../helpers/agent-api";
import { ArchiveApi, blend, expectApiError, uploaded } from "../helpers/archive-api";
import { createWorker, lease, renderOf } from "../helpers/renders";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken, testDatabase } from "../helpers/users";

// A render's failures with the log tails the agents sent: GET /renders/:id/failures.

let server: TestServer;
let sequelize: Sequelize;
let other: ArchiveApi;
let users = 0;

beforeAll(async () => {
  server = await startTestServer();
  sequelize = testDatabase(server);
  other = new ArchiveApi(server, (await createUserWithToken(server, "stranger")).token);
});
afterAll(async () => {
  await closeTestDatabase();
  await server?.close();
});

/**
 * A user of their own with an inspected archive and a render of it: a claim hands a
 * worker any of its owner's tasks, so they must be only this test's.
 */
async function ownRender(body: object = { frames: "1-4" }) {
  const created = await createUserWithToken(server, `owner-${++users}`);
  const owner = new ArchiveApi(server, created.token);
  const archive = await uploaded(await owner.upload((await owner.createProject()).id, blend(2000 + users), { filename: "shot.blend" }));
  await sequelize.query(`UPDATE archives SET inspected_at = now(), frame_start = 1, frame_end = 4 WHERE id = $id`, { bind: { id: archive.id } });
  const render = await renderOf(await owner.call("/renders", { body: { archiveId: archive.id, ...body } }), 201);
  return { owner, userId: created.user.id, render };
}

async function failuresOf(api: ArchiveApi, renderId: number): Promise<RenderFailureListDto> {
  const response = await api.call(`/renders/${renderId}/failures`);
  const body: unknown = await response.json();
  expect({ status: response.status, body }).toMatchObject({ status: 200 });
  return renderFailureListSchema.parse(body);
}

test("a render without failures has none", async () => {
  const { owner, render } = await ownRender();
  expect(await failuresOf(owner, render.id)).toEqual({ failures: [], total: 0 });
});

test("failures reported by agents, newest first: the task's frames, the worker, the error and the log tail", async () => {
  const { owner, userId, render } = await ownRender({ frames: "1-4", chunk: 2 });
  const studio = new AgentApi(server, (await createWorkerWithToken(server, userId, { name: "studio-pc" })).token);
  // A second worker already there, so the first failure sends the task to it.
  const laptopId = await createWorker(owner, "laptop");
  const first = await studio.claim();
  const logTail = "Fra:1 Mem:12.00M | Syncing Cube\nError: Out of memory\nBlender quit";
  const failed = await studio.task(first.id, "fail", { leaseToken: first.leaseToken, error: "Error: Out of memory", logTail });
  expect(failed.status, await failed.clone().text()).toBe(200);

  // The second worker fails the same task, through the queue's own statement, without a log.
  const { lease: held } = await lease(sequelize, laptopId);
  expect(held.taskId).toBe(first.id);
  await failTask(sequelize, { ...held, error: "Blender exited with code 139" });

  const { failures, total } = await failuresOf(owner, render.id);
  expect(total).toBe(2);
  expect(failures).toEqual([
    { taskId: first.id, frameStart: 1, frameEnd: 2, workerName: "laptop", error: "Blender exited with code 139", logTail: null, blame: "machine", at: expect.any(String) },
    { taskId: first.id, frameStart: 1, frameEnd: 2, workerName: "studio-pc", error: "Error: Out of memory", logTail, blame: "machine", at: expect.any(String) },
  ]);
  expect(Date.parse(failures[0].at)).toBeGreaterThanOrEqual(Date.parse(failures[1].at));
  expect(Math.abs(Date.now() - Date.parse(failures[1].at))).toBeLessThan(60_000);
});

test("a render with many failures lists the newest 100 and says how many there are", async () => {
  const { owner, render } = await ownRender({ frames: "1" });
  const workerId = await createWorker(owner, "flaky");
  const [task] = await sequelize.query<{ id: number }>(`SELECT id FROM tasks WHERE render_id = $id`, {
    bind: { id: render.id },
    type: QueryTypes.SELECT,
  });
  // 105 tries a second apart, try n's error saying n.
  await sequelize.query(
    `INSERT INTO task_failures (task_id, render_id, worker_id, error, log_tail, created_at)
     SELECT $taskId, $renderId, $workerId, 'try ' || n, 'log of try ' || n, now() - make_interval(secs => 200 - n)
       FROM generate_series(1, 105) n`,
    { bind: { taskId: task.id, renderId: render.id, workerId } },
  );
  const { failures, total } = await failuresOf(owner, render.id);
  expect(total).toBe(105);
  expect(failures).toHaveLength(100);
  expect(failures[0]).toMatchObject({ error: "try 105", logTail: "log of try 105", workerName: "flaky", frameStart: 1, frameEnd: 1 });
  expect(failures[99].error).toBe("try 6");
});

test("another user's render, or one that never was, is not found; without a token, 401", async () => {
  const { owner, userId, render } = await ownRender({ frames: "1" });
  const agent = new AgentApi(server, (await createWorkerWithToken(server, userId)).token);
  const task = await agent.claim();
  expect((await agent.task(task.id, "fail", { leaseToken: task.leaseToken, error: "Error: secret path /home/ada" })).status).toBe(200);
  await expectApiError(await other.call(`/renders/${render.id}/failures`), 404, "not_found", new RegExp(`You have no render ${render.id}\\.`));
  await expectApiError(await owner.call("/renders/999999/failures"), 404, "not_found", /You have no render 999999/);
  await expectApiError(await owner.call(`/renders/${render.id}/failures`, { token: null }), 401, "unauthorized", /Sign in/);
  expect((await failuresOf(owner, render.id)).total).toBe(1);
});
