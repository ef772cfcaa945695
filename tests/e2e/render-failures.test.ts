import { afterAll, beforeAll, expect, test } from "vitest";
import { renderFailureListSchema } from "../../contract";
import { startFarm, type Farm, type FarmAgent } from "../helpers/e2e-farm";
import { makeScene } from "../helpers/scenes";

// What becomes of renders real Blender cannot do here: a scene that denoises on workers
// whose Blender has no denoiser (never handed to them), and a scene without a camera
// (Blender says "Error: Cannot render, no camera"; failed on every worker, then failed).

let farm: Farm;
let agents: FarmAgent[];

beforeAll(async () => {
  farm = await startFarm();
  agents = await Promise.all([farm.addAgent({ name: "one" }), farm.addAgent({ name: "two" })]);
});
afterAll(() => farm?.stop());

interface TaskRow {
  id: number;
  status: string;
  attempts: number;
  worker_id: number | null;
}
interface FailureRow {
  task_id: number;
  worker_id: number;
  error: string;
  log_tail: string | null;
}

test("a denoising scene waits for a worker with a denoiser; a scene without a camera fails on each agent with Blender's Error: line", async () => {
  const [denoising, cameraless] = await Promise.all([
    farm.uploadScene(await makeScene({ frames: 2, denoise: true }), "denoised.blend"),
    farm.uploadScene(await makeScene({ frames: 2, camera: false }), "no-camera.blend"),
  ]);
  expect((await farm.waitForFacts(denoising.id)).facts).toMatchObject({ denoising: true, frameEnd: 2 });
  await farm.waitForFacts(cameraless.id);
  const workers = await farm.query<{ capabilities: { denoiser: boolean } }>("SELECT capabilities FROM workers");
  expect(workers.map((worker) => worker.capabilities.denoiser)).toEqual([false, false]);

  // The denoising render is older, so first in line: claims pass over it to the other one.
  const waiting = await farm.requestRender({ archiveId: denoising.id, frames: "1-2" });
  const failing = await farm.requestRender({ archiveId: cameraless.id, frames: "1-2" });

  // Each of the 2 tasks fails on both agents: 4 failures, and then no worker may take them.
  let failures: FailureRow[] = [];
  await farm.waitFor(
    "both tasks failed on both agents",
    async () => (failures = await farm.query<FailureRow>("SELECT * FROM task_failures WHERE render_id = $id", { id: failing.id })).length >= 4,
    60_000,
  );
  expect(failures.map((failure) => `${failure.task_id}/${failure.worker_id}`).sort()).toEqual(
    (await farm.query<TaskRow>("SELECT id FROM tasks WHERE render_id = $id", { id: failing.id }))
      .flatMap((task) => agents.map((agent) => `${task.id}/${agent.workerId}`))
      .sort(),
  );
  for (const failure of failures) {
    expect(failure.error).toMatch(/^Cannot render, no camera$/m);
    expect(failure.log_tail).toMatch(/^Error: Cannot render, no camera$/m);
  }
  // 2 workers cannot fail a task (3 must): it waits in the queue, and the API says why.
  const stuck = await farm.render(failing.id);
  expect(stuck.status).toBe("rendering");
  expect(stuck.failure).toMatch(/^Frame [12] failed on 2 workers and waits for another worker .*; the last error: Cannot render, no camera/);
  const tasks = await farm.query<TaskRow>("SELECT * FROM tasks WHERE render_id = $id", { id: failing.id });
  expect(tasks.map(({ status, attempts }) => ({ status, attempts }))).toEqual([
    { status: "queued", attempts: 2 },
    { status: "queued", attempts: 2 },
  ]);

  // The API gives each failure with Blender's own log.
  const listed = renderFailureListSchema.parse(await farm.json(`/renders/${failing.id}/failures`));
  expect(listed.total).toBe(4);
  for (const failure of listed.failures) expect(failure.logTail).toMatch(/^Error: Cannot render, no camera$/m);

  // Never handed out: no worker here has a denoiser, and the render says so.
  expect(await farm.render(waiting.id)).toMatchObject({
    status: "queued",
    frames: { total: 2, queued: 2 },
    workers: [],
    waiting: expect.stringMatching(/^This scene denoises, and none of your enabled workers' Blender has a denoiser/),
  });
  const untouched = await farm.query<TaskRow>("SELECT * FROM tasks WHERE render_id = $id", { id: waiting.id });
  expect(untouched.map(({ status, attempts, worker_id }) => ({ status, attempts, worker_id }))).toEqual([
    { status: "queued", attempts: 0, worker_id: null },
    { status: "queued", attempts: 0, worker_id: null },
  ]);

  // A third worker fails them too: the third different worker fails the task, and the render.
  await farm.addAgent({ name: "three" });
  const failed = await farm.waitForRender(failing.id, (render) => render.status === "failed", 60_000);
  expect(failed.failure).toMatch(/^Frame [12] failed on 3 workers; the last error: Cannot render, no camera/);
  expect(await farm.render(waiting.id)).toMatchObject({ status: "queued", workers: [] });
}, 90_000);
