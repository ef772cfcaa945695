import { afterAll, beforeAll, expect, test } from "vitest";
import { renderSchema, type RenderDto } from "../../contract";
import { ArchiveApi, blend, expectApiError, uploaded } from "../helpers/archive-api";
import { createAgent, createWorker, renderOf, setWorkerEnabled } from "../helpers/renders";
import { ADMIN, startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken, testDatabase } from "../helpers/users";

// The render's server-sent events over real HTTP, while an agent (the real protocol)
// renders it.

let server: TestServer;
let api: ArchiveApi;
let archiveId: number;

beforeAll(async () => {
  server = await startTestServer();
  const sequelize = testDatabase(server);
  api = new ArchiveApi(server, (await createUserWithToken(server, "watcher")).token);
  const project = await api.createProject();
  archiveId = (await uploaded(await api.upload(project.id, blend(3000)))).id;
  // Inspected already, so the agent is handed render tasks, not the scene's inspection.
  await sequelize.query(`UPDATE archives SET inspected_at = now() WHERE id = $id`, { bind: { id: archiveId } });
});
afterAll(async () => {
  await closeTestDatabase();
  await server?.close();
});

/** The render events of a stream, as they arrive. */
function subscribe(response: Response) {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let ended = false;
  return {
    /** The next `event: render`'s render, within the timeout. */
    async next(timeoutMs = 5000): Promise<RenderDto> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = /event: render\ndata: (.*)\n\n/.exec(buffer);
        if (match) {
          buffer = buffer.slice(match.index + match[0].length);
          return renderSchema.parse(JSON.parse(match[1]));
        }
        if (ended) throw new Error(`the stream ended; left: ${JSON.stringify(buffer)}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no event within ${timeoutMs} ms; got ${JSON.stringify(buffer)}`);
        const read = await Promise.race([reader.read(), new Promise<null>((resolve) => setTimeout(() => resolve(null), left))]);
        if (read === null) continue;
        if (read.done) ended = true;
        else buffer += read.value;
      }
    },
    /** Events until one matches, within the timeout: that one and those before it. */
    async until(matches: (render: RenderDto) => boolean, timeoutMs = 5000): Promise<{ render: RenderDto; before: RenderDto[] }> {
      const deadline = Date.now() + timeoutMs;
      const before: RenderDto[] = [];
      for (;;) {
        const render = await this.next(Math.max(1, deadline - Date.now()));
        if (matches(render)) return { render, before };
        before.push(render);
      }
    },
    async end(timeoutMs = 5000): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      while (!ended) {
        if (Date.now() > deadline) throw new Error("the stream did not end");
        const read = await reader.read();
        if (read.done) ended = true;
        else buffer += read.value;
      }
      return buffer;
    },
    cancel: () => reader.cancel(),
  };
}

test("sends the render now, again when an agent finishes a task, and its end when cancelled", async () => {
  const render = await renderOf(await api.call("/renders", { body: { archiveId, frames: "1-3" } }), 201);
  const response = await api.call(`/renders/${render.id}/events`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
  const events = subscribe(response);
  expect(await events.next()).toMatchObject({ id: render.id, status: "queued", frames: { done: 0, queued: 3 } });

  const { agent } = await createAgent(api, "studio-pc");
  const task = await agent.claim();
  // The worker's creation, its hello and the claim each wake the stream; on a busy machine it
  // may send the render between them: still queued (no longer waiting for a worker, or its
  // task out a moment before the render turns 'rendering' in the next transaction).
  const { render: rendering, before } = await events.until((sent) => sent.status === "rendering");
  expect(rendering).toMatchObject({ frames: { rendering: 1, queued: 2 }, workers: [{ name: "studio-pc", rendering: true }] });
  for (const sent of before) expect(sent).toMatchObject({ status: "queued", frames: { done: 0, failed: 0 } });
  await agent.upload(task, task.frames[0]);
  await agent.complete(task);
  // The frame is done at its upload, the task at complete: the event after both.
  const { render: afterTask } = await events.until((sent) => sent.frames.rendering === 0 && sent.workers.every((worker) => !worker.rendering));
  expect(afterTask.frames).toEqual({ total: 3, done: 1, failed: 0, rendering: 0, queued: 2 });
  expect(afterTask.workers).toEqual([{ id: expect.any(Number), name: "studio-pc", framesDone: 1, rendering: false }]);

  expect((await renderOf(await api.call(`/renders/${render.id}/cancel`, { method: "POST" }))).status).toBe("cancelled");
  expect(await events.next()).toMatchObject({ status: "cancelled" });
  expect(await events.end()).toBe("");
});

test("a finished render's stream sends it once and ends", async () => {
  const render = await renderOf(await api.call("/renders", { body: { archiveId, frames: "5" } }), 201);
  await api.call(`/renders/${render.id}/cancel`, { method: "POST" });
  const events = subscribe(await api.call(`/renders/${render.id}/events`));
  expect(await events.next()).toMatchObject({ id: render.id, status: "cancelled" });
  await events.end();
});

test("a change to the owner's workers that the render's `waiting` tells is sent too", async () => {
  const render = await renderOf(await api.call("/renders", { body: { archiveId, frames: "7" } }), 201);
  const standby = await createWorker(api, "standby");
  const { workers } = (await (await api.call("/workers")).json()) as { workers: { id: number; enabled: boolean }[] };
  const setEnabled = (id: number, enabled: boolean) => setWorkerEnabled(api, id, enabled);
  for (const worker of workers) await setEnabled(worker.id, false);
  const events = subscribe(await api.call(`/renders/${render.id}/events`));
  expect(await events.next()).toMatchObject({ status: "queued", waiting: expect.stringMatching(/^None of your workers is enabled/) });
  await setEnabled(standby, true);
  expect(await events.next()).toMatchObject({ status: "queued", waiting: null });
  await api.call(`/renders/${render.id}/cancel`, { method: "POST" });
  expect(await events.next()).toMatchObject({ status: "cancelled" });
  await events.end();
  for (const worker of workers) await setEnabled(worker.id, worker.enabled);
});

test("an unknown render is a 404 in the API's shape, not a stream", async () => {
  await expectApiError(await api.call("/renders/999999/events"), 404, "not_found", /You have no render 999999/);
  await expectApiError(await api.call("/renders/1/events", { token: null }), 401, "unauthorized", /Sign in/);
});

test("the server stops while a stream is open: the stream ends and the server closes", async () => {
  const own = await startTestServer();
  try {
    // Its admin signs in over HTTP (the test's database connection is the other server's).
    const login = await fetch(`${own.url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(ADMIN),
    });
    const ownApi = new ArchiveApi(own, ((await login.json()) as { token: string }).token);
    const project = await ownApi.createProject();
    const archive = await uploaded(await ownApi.upload(project.id, blend(3001)));
    const render = await renderOf(await ownApi.call("/renders", { body: { archiveId: archive.id, frames: "1-2" } }), 201);
    const events = subscribe(await ownApi.call(`/renders/${render.id}/events`));
    await events.next();
    const started = Date.now();
    await own.close();
    // Not held up by the open stream, nor by its connection idling out (keep-alive is 5 s).
    expect(Date.now() - started).toBeLessThan(2000);
    await events.end();
  } finally {
    await own.close().catch(() => undefined);
  }
});
