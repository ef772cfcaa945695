import { afterAll, beforeAll, expect, test } from "vitest";
import { AGENTS_START_MS, startFarm, type Farm, type FarmAgent } from "../helpers/e2e-farm";
import { makeScene } from "../helpers/scenes";

// Cancelling a render while both agents' Blender sample its frames: the next heartbeat
// answers "stop", the agents kill Blender, drop the tasks and go back to claiming.

/** A 3 s lease: the agents heartbeat every second (a third of it). */
const LEASE_SECONDS = 3;
const HEARTBEAT_MS = (LEASE_SECONDS * 1000) / 3;
/** Time for the heartbeat's answer, Blender's SIGTERM and its exit on this busy machine. */
const MARGIN_MS = 2000;

let farm: Farm;
let agents: FarmAgent[];

beforeAll(async () => {
  farm = await startFarm({ env: { CACTUS_LEASE_SECONDS: String(LEASE_SECONDS), CACTUS_REAPER_SECONDS: "1" } });
  agents = await Promise.all([farm.addAgent({ name: "north" }), farm.addAgent({ name: "south" })]);
}, AGENTS_START_MS);
afterAll(() => farm?.stop());

test("cancelling a render stops both agents' Blender by the next heartbeat; the agents carry on claiming", async () => {
  // Frames of several seconds each (4096 samples), and a quick scene for afterwards.
  const [slow, quick] = await Promise.all([
    farm.uploadScene(await makeScene({ frames: 4, samples: 4096 }), "slow.blend"),
    farm.uploadScene(await makeScene({ frames: 2 }), "quick.blend"),
  ]);
  await Promise.all([farm.waitForFacts(slow.id), farm.waitForFacts(quick.id)]);
  const { id } = await farm.requestRender({ archiveId: slow.id, frames: "1-4" });

  // Both Blenders are sampling: their heartbeats carried progress.
  await farm.waitFor(
    "both agents' Blender sample a frame",
    async () => {
      const sampling = await farm.query("SELECT id FROM tasks WHERE render_id = $id AND status = 'leased' AND progress > 0", { id });
      return sampling.length === 2 && agents.every((agent) => farm.blenderOf(agent).length === 1);
    },
    30_000,
  );
  const cancelled = await farm.json<{ status: string }>(`/renders/${id}/cancel`, { method: "POST" });
  expect(cancelled.status).toBe("cancelled");
  const at = Date.now();
  await farm.waitFor("no Blender renders any more", () => agents.every((agent) => farm.blenderOf(agent).length === 0), 10_000);
  const tookMs = Date.now() - at;
  expect(tookMs, farm.logs()).toBeLessThan(HEARTBEAT_MS + MARGIN_MS);

  for (const agent of agents) {
    expect(agent.alive()).toBe(true);
    await farm.waitForLog(agent, /Task \d+ dropped \(cancelled\): The render is cancelled\./, 5000);
  }
  const tasks = await farm.query<{ status: string }>("SELECT status FROM tasks WHERE render_id = $id", { id });
  expect(tasks.map((task) => task.status)).toEqual(Array(4).fill("cancelled"));
  // Nothing was uploaded, completed or failed for it.
  expect(await farm.query("SELECT id FROM results WHERE render_id = $id", { id })).toEqual([]);
  expect(await farm.query("SELECT id FROM task_failures WHERE render_id = $id", { id })).toEqual([]);

  // Back to claiming: the next render is taken and done.
  const next = await farm.requestRender({ archiveId: quick.id, frames: "1-2" });
  const done = await farm.waitForRender(next.id, (render) => render.status === "done", 30_000);
  expect(done.frames).toMatchObject({ total: 2, done: 2 });
}, 90_000);
