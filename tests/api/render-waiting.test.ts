import type { Sequelize } from "sequelize";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { AgentApi, createWorkerWithToken, HELLO } from "../helpers/agent-api";
import { ArchiveApi, blend, uploaded } from "../helpers/archive-api";
import { farm } from "../helpers/farm";
import { createWorker, renderOf, setWorkerEnabled } from "../helpers/renders";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken, testDatabase } from "../helpers/users";

// A render whose frames no worker can take says why (`waiting`), instead of staying
// queued without a word: no workers, none enabled, or a denoising scene and no enabled
// worker's Blender with a denoiser — unless another person's worker takes it.

let server: TestServer;
let sequelize: Sequelize;
let users = 0;

beforeAll(async () => {
  server = await startTestServer();
  sequelize = testDatabase(server);
});
afterAll(async () => {
  await closeTestDatabase();
  await server?.close();
});

const NO_WORKERS = "You have no workers to render it; add one on the Workers page (`cactus worker create NAME`) and start its agent.";
const NONE_ENABLED =
  "None of your workers is enabled; enable one on the Workers page (`cactus worker enable NAME`) or add one (`cactus worker create NAME`).";
const NO_DENOISER =
  "This scene denoises, and none of your enabled workers' Blender has a denoiser (OpenImageDenoise); " +
  "turn denoising off in the scene or add a worker whose Blender has one.";

/** A new user with an archive whose scene was read (denoising or not). */
async function newOwner({ denoising = false } = {}) {
  const created = await createUserWithToken(server, `waiter-${++users}`);
  const api = new ArchiveApi(server, created.token);
  const archive = await uploaded(await api.upload((await api.createProject()).id, blend(4000 + users)));
  await sequelize.query(`UPDATE archives SET inspected_at = now(), frame_start = 1, frame_end = 3, denoising = $denoising WHERE id = $id`, {
    bind: { id: archive.id, denoising },
  });
  const requestRender = async () => renderOf(await api.call("/renders", { body: { archiveId: archive.id } }), 201);
  const waitingOf = async (id: number) => (await renderOf(await api.call(`/renders/${id}`))).waiting;
  const setEnabled = (workerId: number, enabled: boolean) => setWorkerEnabled(api, workerId, enabled);
  /** A worker whose agent said hello (which a disabled worker cannot: it is disabled after), with or without a denoiser. */
  const agent = async (denoiser: boolean, enabled = true) => {
    const { worker, token } = await createWorkerWithToken(server, created.user.id);
    const agentApi = new AgentApi(server, token);
    expect((await agentApi.hello({ ...HELLO, capabilities: { ...HELLO.capabilities, denoiser } })).status).toBe(200);
    if (!enabled) await setEnabled(worker.id, false);
    return { id: worker.id, agent: agentApi };
  };
  return { api, requestRender, waitingOf, agent, setEnabled };
}

describe("no worker to take the frames", () => {
  test("without any worker: the render, and the list, say to add one", async () => {
    const owner = await newOwner();
    const render = await owner.requestRender();
    expect(render).toMatchObject({ status: "queued", waiting: NO_WORKERS, failure: null });
    const { renders } = (await (await owner.api.call("/renders")).json()) as { renders: { waiting: string | null }[] };
    expect(renders.map((each) => each.waiting)).toEqual([NO_WORKERS]);
  });

  test("with every worker disabled: to enable one; once one is, nothing", async () => {
    const owner = await newOwner();
    const workerId = await createWorker(owner.api, "studio-pc");
    await owner.setEnabled(workerId, false);
    const render = await owner.requestRender();
    expect(render.waiting).toBe(NONE_ENABLED);
    await owner.setEnabled(workerId, true);
    expect(await owner.waitingOf(render.id)).toBeNull();
  });

  test("with no worker of hers, another person's worker that accepted it takes it: nothing to say, until she switches it off", async () => {
    const f = farm(sequelize);
    const owner = await createUserWithToken(server, `waiter-${++users}`);
    const api = new ArchiveApi(server, owner.token);
    await f.grant(owner.user.id, 100);
    const render = await f.confirmed(owner.user.id, { frames: "1-3", priceMilli: 1000 });
    const waitingOf = async () => (await renderOf(await api.call(`/renders/${render}`))).waiting;
    expect(await waitingOf()).toBe(NO_WORKERS);
    const helper = await f.user();
    const worker = await f.helperWorker(helper);
    await sequelize.query(`INSERT INTO render_request_acks (render_id, user_id, decision) VALUES ($render, $helper, 'accepted')`, {
      bind: { render, helper },
    });
    expect(await waitingOf()).toBeNull();
    expect((await api.call(`/renders/${render}/workers/${worker}`, { method: "PUT", body: { allowed: false } })).status).toBe(200);
    expect(await waitingOf()).toBe(NO_WORKERS);
  });

  test("a paused or finished render waits for nothing", async () => {
    const owner = await newOwner();
    const render = await owner.requestRender();
    const paused = await renderOf(await owner.api.call(`/renders/${render.id}/pause`, { method: "POST" }));
    expect(paused).toMatchObject({ status: "paused", waiting: null });
    const cancelled = await renderOf(await owner.api.call(`/renders/${render.id}/cancel`, { method: "POST" }));
    expect(cancelled).toMatchObject({ status: "cancelled", waiting: null });
  });
});

describe("a scene that denoises", () => {
  test("with only workers whose Blender has no denoiser: says so; a disabled one with a denoiser does not count", async () => {
    const owner = await newOwner({ denoising: true });
    const plain = await owner.agent(false);
    const disabled = await owner.agent(true, false);
    const render = await owner.requestRender();
    expect(render.waiting).toBe(NO_DENOISER);
    // As the claim says: the worker without a denoiser gets nothing of it.
    await plain.agent.claimNothing();

    await owner.setEnabled(disabled.id, true);
    expect(await owner.waitingOf(render.id)).toBeNull();
    expect((await disabled.agent.claim()).renderId).toBe(render.id);
  });

  test("the same workers render a scene that does not denoise: nothing to say", async () => {
    const owner = await newOwner({ denoising: false });
    await owner.agent(false);
    expect((await owner.requestRender()).waiting).toBeNull();
  });

  test("a worker whose agent has not said hello yet may have a denoiser: nothing to say until it has", async () => {
    const owner = await newOwner({ denoising: true });
    const workerId = await createWorker(owner.api, "new-box");
    const render = await owner.requestRender();
    expect(render.waiting).toBeNull();
    await sequelize.query(`UPDATE workers SET capabilities = '{"denoiser": false}' WHERE id = $id`, { bind: { id: workerId } });
    expect(await owner.waitingOf(render.id)).toBe(NO_DENOISER);
  });
});
