import { afterAll, beforeAll, expect, test } from "vitest";
import { AGENTS_START_MS, startFarm, type Farm, type FarmAgent } from "../helpers/e2e-farm";
import { makeScene } from "../helpers/scenes";

// The server stops while both agents render and comes back on the same port, database and
// data dir: the agents retry with backoff, keep their leases and carry on.

let farm: Farm;
let agents: FarmAgent[];

beforeAll(async () => {
  // Leases long enough to outlive the restart: the work in flight is not handed out again.
  farm = await startFarm({ env: { CACTUS_LEASE_SECONDS: "30" } });
  agents = await Promise.all([farm.addAgent({ name: "left" }), farm.addAgent({ name: "right" })]);
}, AGENTS_START_MS);
afterAll(() => farm?.stop());

test("a server restarted mid-render: the agents retry, carry on, and the render completes", async () => {
  const archive = await farm.uploadScene(await makeScene(), "cube.blend");
  await farm.waitForFacts(archive.id);
  const { id } = await farm.requestRender({ archiveId: archive.id, frames: "1-8" });
  await farm.waitForRender(id, (render) => render.frames.done >= 1, 30_000);
  await farm.waitFor("both agents' Blender render", () => agents.every((agent) => farm.blenderOf(agent).length > 0), 30_000);

  const before = await farm.render(id);
  // Down longer than a heartbeat (5 s with these leases): each agent's next call meets the
  // closed port, however long a loaded machine takes over a frame between its calls.
  await farm.restartServer(6000);

  const render = await farm.waitForRender(id, (r) => r.status !== "rendering" && r.status !== "queued", 60_000);
  expect(render, farm.logs()).toMatchObject({ status: "done", frames: { total: 8, done: 8, failed: 0 } });
  expect(before.frames.done, "the restart came before the end").toBeLessThan(8);

  // Both saw the server gone and tried again.
  for (const agent of agents) {
    expect(agent.log.join("\n"), farm.logs()).toMatch(/no answer from http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\).*trying again in/);
    expect(agent.alive()).toBe(true);
  }
  // Carried on: no lease was lost, so no task went out twice and each frame was accepted once.
  const tasks = await farm.query<{ attempts: number }>("SELECT attempts FROM tasks WHERE render_id = $id", { id });
  expect(tasks.map((task) => task.attempts), farm.logs()).toEqual(Array(8).fill(1));
  const results = await farm.query<{ frame: number; accepted: boolean }>(
    "SELECT frame, accepted FROM results WHERE render_id = $id ORDER BY frame",
    { id },
  );
  expect(results).toEqual(Array.from({ length: 8 }, (_, index) => ({ frame: index + 1, accepted: true })));
}, 90_000);
