import { afterAll, beforeAll, expect, test } from "vitest";
import { AGENTS_START_MS, startFarm, type Farm, type FarmAgent, type FarmProcess } from "../helpers/e2e-farm";
import { makeScene } from "../helpers/scenes";

// An agent killed with -9 while its Blender renders a frame: its lease runs out (short
// here), the reaper puts the task back, the other agent renders that frame again — once.

let farm: Farm;
let victim: FarmAgent;
let survivor: FarmAgent;

beforeAll(async () => {
  farm = await startFarm({ env: { CACTUS_LEASE_SECONDS: "4", CACTUS_REAPER_SECONDS: "1" } });
  [victim, survivor] = await Promise.all([farm.addAgent({ name: "victim" }), farm.addAgent({ name: "survivor" })]);
}, AGENTS_START_MS);
afterAll(() => farm?.stop());

interface TaskRow {
  id: number;
  frame_start: number;
  status: string;
  worker_id: number | null;
  attempts: number;
}

test("kill -9 of an agent mid-frame: its frame is rendered again, once, by the other, and all 12 frames end up done", async () => {
  const archive = await farm.uploadScene(await makeScene(), "cube.blend");
  await farm.waitForFacts(archive.id);
  const { id } = await farm.requestRender({ archiveId: archive.id, frames: "1-12" });
  await farm.waitForRender(id, (render) => render.frames.done >= 2, 30_000);

  // Mid-frame: the victim holds a lease and its Blender has been running a moment.
  let blender: FarmProcess | undefined;
  let seenAt = 0;
  let held: TaskRow | undefined;
  await farm.waitFor(
    "the victim's Blender renders a frame",
    async () => {
      const [running] = farm.blenderOf(victim);
      if (running?.pid !== blender?.pid) [blender, seenAt] = [running, Date.now()];
      if (!blender || Date.now() - seenAt < 300) return false;
      [held] = await farm.query<TaskRow>("SELECT * FROM tasks WHERE render_id = $id AND worker_id = $worker AND status = 'leased'", {
        id,
        worker: victim.workerId,
      });
      return held !== undefined && farm.blenderOf(victim).some((process) => process.pid === blender!.pid);
    },
    30_000,
  );
  await farm.killAgent(victim);
  const killed = held!;
  // Its Blender is an orphan now (if the broken pipe did not end it): nothing may leak.
  await farm.killLeftovers(victim);
  expect(farm.blenderOf(victim)).toEqual([]);

  const render = await farm.waitForRender(id, (r) => r.status !== "rendering" && r.status !== "queued", 60_000);
  expect(render, farm.logs()).toMatchObject({ status: "done", frames: { total: 12, done: 12, failed: 0, queued: 0, rendering: 0 } });

  // The killed frame: leased twice, rendered by the survivor, one result in all.
  const [task] = await farm.query<TaskRow>("SELECT * FROM tasks WHERE id = $id", { id: killed.id });
  expect(task).toMatchObject({ status: "done", attempts: 2, worker_id: survivor.workerId });
  const results = await farm.query<{ frame: number; worker_id: number; accepted: boolean }>(
    "SELECT frame, worker_id, accepted FROM results WHERE render_id = $id ORDER BY frame",
    { id },
  );
  expect(results.map((result) => [result.frame, result.accepted])).toEqual(Array.from({ length: 12 }, (_, index) => [index + 1, true]));
  expect(results.find((result) => result.frame === killed.frame_start)).toMatchObject({ worker_id: survivor.workerId });
  // An expired lease is not a failure of the worker.
  expect(await farm.query("SELECT * FROM task_failures WHERE render_id = $id", { id })).toEqual([]);
  expect(survivor.alive()).toBe(true);
}, 90_000);
