import type { Sequelize } from "sequelize";
import { afterAll, beforeAll, expect, test } from "vitest";
import { claimResponseSchema } from "../../contract";
import { applyRenderEvent, releaseTask } from "../../db/sql/queue";
import { AgentApi, createWorkerWithToken } from "../helpers/agent-api";
import { expectApiError } from "../helpers/archive-api";
import { farm, type Farm } from "../helpers/farm";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken, testDatabase } from "../helpers/users";

// The long-poll claim over real HTTP (decision 026): an idle agent's claim is held until
// work it may take appears. The work appears through the test's own database connection,
// as it would through another server replica: only Postgres's NOTIFY can carry it across.

let server: TestServer;
let sequelize: Sequelize;
let f: Farm;

beforeAll(async () => {
  server = await startTestServer({ CACTUS_CLAIM_WAIT_SECONDS: "20" });
  sequelize = testDatabase(server);
  f = farm(sequelize);
});
afterAll(async () => {
  await closeTestDatabase();
  await server.close();
});

async function owner(name: string) {
  const { user } = await createUserWithToken(server, name);
  const { worker, token } = await createWorkerWithToken(server, user.id, { name: `${name}-pc` });
  return { user, worker, agent: new AgentApi(server, token) };
}

/** A claim held up to `waitSeconds`: its status, task and when it was answered. */
async function heldClaim(agent: AgentApi, waitSeconds: number, signal?: AbortSignal) {
  const started = Date.now();
  const response = await fetch(`${server.url}/api/v1/agent/claim`, {
    method: "POST",
    headers: { Authorization: `Bearer ${agent.token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ waitSeconds }),
    signal,
  });
  const task = response.status === 200 ? claimResponseSchema.parse(await response.json()).task : null;
  return { status: response.status, task, answeredAt: Date.now(), tookMs: Date.now() - started };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("a held claim answers as soon as a render of its owner becomes runnable, not for a stranger's", async () => {
  const ann = await owner("ann");
  const stranger = await owner("sam");
  const annRender = await f.render(ann.user.id, { status: "paused", frames: "5" });
  const theirRender = await f.render(stranger.user.id, { status: "paused", frames: "1" });
  const claim = heldClaim(ann.agent, 15);
  await sleep(400);
  await applyRenderEvent(sequelize, theirRender, "resumed");
  await sleep(400);
  const resumedAt = Date.now();
  await applyRenderEvent(sequelize, annRender, "resumed");
  const answer = await claim;
  expect(answer.status).toBe(200);
  expect(answer.task).toMatchObject({ renderId: annRender, frameStart: 5 });
  // Held through the stranger's render, answered within a second of its own.
  expect(answer.tookMs).toBeGreaterThan(700);
  expect(answer.answeredAt - resumedAt).toBeLessThan(1000);
  expect((await ann.worker.reload()).status).toBe("rendering");
});

test("a task another worker gives back wakes a held claim", async () => {
  const bea = await owner("bea");
  const { worker: other } = await createWorkerWithToken(server, bea.user.id, { name: "bea-laptop" });
  await f.render(bea.user.id, { frames: "1" });
  const [leased] = await f.all<{ id: number; lease_token: string }>(
    `UPDATE tasks SET status = 'leased', worker_id = $other, lease_token = gen_random_uuid(), lease_expires_at = now() + interval '1 minute'
      WHERE id = (SELECT t.id FROM tasks t JOIN renders r ON r.id = t.render_id WHERE r.created_by = $user) RETURNING id, lease_token`,
    { other: other.id, user: bea.user.id },
  );
  const claim = heldClaim(bea.agent, 15);
  await sleep(300);
  const releasedAt = Date.now();
  await releaseTask(sequelize, { taskId: leased.id, workerId: other.id, leaseToken: leased.lease_token });
  const answer = await claim;
  expect(answer.task?.id).toBe(leased.id);
  expect(answer.answeredAt - releasedAt).toBeLessThan(1000);
});

test("nothing for the worker: 204 once the wait is over, and at once without waitSeconds", async () => {
  const { agent } = await owner("cai");
  const held = await heldClaim(agent, 1);
  expect(held.status).toBe(204);
  expect(held.tookMs).toBeGreaterThanOrEqual(950);
  const quick = await heldClaim(agent, 0);
  expect(quick.status).toBe(204);
  expect(quick.tookMs).toBeLessThan(900);
  await expectApiError(await agent.call("POST", "/agent/claim", { waitSeconds: 600 }), 400, "bad_request", /waitSeconds/);
});

test("an agent that hangs up on its held claim leaves the work in the queue", async () => {
  const dan = await owner("dan");
  const renderId = await f.render(dan.user.id, { status: "paused", frames: "1" });
  const hangUp = new AbortController();
  const claim = heldClaim(dan.agent, 15, hangUp.signal).catch((error: Error) => error);
  await sleep(300);
  hangUp.abort();
  expect(await claim).toBeInstanceOf(Error);
  await sleep(200);
  await applyRenderEvent(sequelize, renderId, "resumed");
  await sleep(500);
  expect(await f.all(`SELECT status, worker_id FROM tasks WHERE render_id = $renderId`, { renderId })).toEqual([
    { status: "queued", worker_id: null },
  ]);
  expect((await dan.agent.claim()).renderId).toBe(renderId);
});
