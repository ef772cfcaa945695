import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, expect, test } from "vitest";
import { renderFailureListSchema } from "../../contract";
import { startFarm, type Farm } from "../helpers/e2e-farm";
import { BLENDER, makeScene } from "../helpers/scenes";

// What becomes of renders real Blender cannot do: a scene error (Blender's "Cannot render,
// no camera") fails the render once on a farm of one worker and blames nobody; a machine
// error (a Blender that crashes) goes to another worker, which renders the frame; a
// denoising scene is never handed to workers whose Blender has no denoiser.

let farm: Farm | undefined;
afterEach(async () => {
  await farm?.stop();
  farm = undefined;
});

interface TaskRow {
  id: number;
  status: string;
  attempts: number;
  worker_id: number | null;
}
interface FailureRow {
  worker_id: number;
  error: string;
  log_tail: string | null;
  blames_worker: boolean;
}

test("a scene error on a farm of one worker: the render fails within one task, Blender's line shown, the worker not blocklisted", async () => {
  const f = (farm = await startFarm());
  // Asked for before any agent read the scene, so nothing could refuse it at request time.
  const cameraless = await f.uploadScene(await makeScene({ frames: 3, camera: false }), "no-camera.blend");
  const render = await f.requestRender({ archiveId: cameraless.id, frames: "1-3" });
  expect(render.scene).toBeNull();
  const agent = await f.addAgent({ name: "only" });

  const failed = await f.waitForRender(render.id, (now) => now.status === "failed", 60_000);
  expect(failed.failure).toBe(
    'Frame 1 has an error in the scene, which every worker would hit, so the render stopped at once: Blender says "Cannot render, no camera". ' +
      "Give the scene a camera in Blender (and make it the scene's camera), or request the render again with --camera NAME.",
  );
  expect(failed.frames).toMatchObject({ total: 3, failed: 1, queued: 0, rendering: 0, done: 0 });
  // One Blender run: the other frames were never handed out.
  const tasks = await f.query<TaskRow>("SELECT id, status, attempts FROM tasks WHERE render_id = $id ORDER BY frame_start", { id: render.id });
  expect(tasks.map(({ status, attempts }) => [status, attempts])).toEqual([
    ["failed", 1],
    ["cancelled", 0],
    ["cancelled", 0],
  ]);
  const failures = await f.query<FailureRow>("SELECT * FROM task_failures WHERE render_id = $id", { id: render.id });
  expect(failures).toEqual([expect.objectContaining({ worker_id: agent.workerId, blames_worker: false })]);
  expect(failures[0].log_tail).toMatch(/^Error: Cannot render, no camera$/m);
  const listed = renderFailureListSchema.parse(await f.json(`/renders/${render.id}/failures`));
  expect(listed.failures.map((failure) => failure.blame)).toEqual(["scene"]);

  // The worker is as good as before: its next render renders.
  const good = await f.uploadScene(await makeScene({ frames: 1 }), "good.blend");
  await f.waitForFacts(good.id);
  const next = await f.requestRender({ archiveId: good.id });
  expect((await f.waitForRender(next.id, (now) => now.status === "done", 60_000)).workers).toEqual([
    expect.objectContaining({ name: "only", framesDone: 1 }),
  ]);
}, 300_000);

test("a machine error (Blender crashing) sends the frame to another worker, which renders it", async () => {
  const f = (farm = await startFarm());
  // A machine whose Blender crashes on every render, and renders nothing else wrong: it reads
  // scenes and passes its engine test. The real Blender, sent SIGSEGV a second into each render.
  const crashing = path.join(f.root, "crashing-blender");
  await fs.writeFile(
    crashing,
    `#!/bin/sh\ncase " $* " in\n  *" -o "*) ${BLENDER} "$@" & pid=$!; sleep 1; kill -SEGV $pid; wait $pid; exit $? ;;\n  *) exec ${BLENDER} "$@" ;;\nesac\n`,
    { mode: 0o755 },
  );
  const scene = await f.uploadScene(await makeScene({ frames: 1, samples: 64 }), "crash.blend");
  // Unsandboxed: the sandbox's private /tmp would hide the script, which lives under the farm's temp dir.
  const flaky = await f.addAgent({ name: "flaky", env: { CACTUS_BLENDER: crashing, CACTUS_SANDBOX: "off" } });
  await f.waitForFacts(scene.id);
  // The second worker exists (it may take the frame) but its agent starts only after the crash.
  const steady = await f.createWorker("steady");
  const render = await f.requestRender({ archiveId: scene.id });

  let failures: FailureRow[] = [];
  await f.waitFor(
    "flaky's Blender crashed",
    async () => (failures = await f.query<FailureRow>("SELECT * FROM task_failures WHERE render_id = $id", { id: render.id })).length > 0,
    60_000,
  );
  expect(failures).toEqual([expect.objectContaining({ worker_id: flaky.workerId, blames_worker: true })]);
  expect(failures[0].error).toMatch(/^Blender exited with code 139\.$/m);
  const waiting = await f.render(render.id);
  expect(waiting).toMatchObject({ status: "rendering", frames: { queued: 1, failed: 0 } });
  expect(waiting.failure).toMatch(/^Frame 1 failed on 1 worker and waits for another worker/);

  await f.addAgent({ worker: steady });
  const done = await f.waitForRender(render.id, (now) => now.status === "done", 60_000);
  expect(done.workers).toEqual([expect.objectContaining({ name: "steady", framesDone: 1 })]);
}, 300_000);

test("a denoising scene is never handed to workers whose Blender has no denoiser, and the render says why", async () => {
  const f = (farm = await startFarm());
  await Promise.all([f.addAgent({ name: "one" }), f.addAgent({ name: "two" })]);
  const denoising = await f.uploadScene(await makeScene({ frames: 2, denoise: true }), "denoised.blend");
  expect((await f.waitForFacts(denoising.id)).facts).toMatchObject({ denoising: true, frameEnd: 2 });
  const workers = await f.query<{ capabilities: { denoiser: boolean } }>("SELECT capabilities FROM workers");
  expect(workers.map((worker) => worker.capabilities.denoiser)).toEqual([false, false]);

  const waiting = await f.requestRender({ archiveId: denoising.id, frames: "1-2" });
  // Give the agents time to claim: they get nothing of it.
  const other = await f.uploadScene(await makeScene({ frames: 1, width: 32 }), "other.blend");
  await f.waitForFacts(other.id);
  expect(await f.render(waiting.id)).toMatchObject({
    status: "queued",
    frames: { total: 2, queued: 2 },
    workers: [],
    waiting: expect.stringMatching(/^This scene denoises, and none of your enabled workers' Blender has a denoiser/),
  });
  const untouched = await f.query<TaskRow>("SELECT * FROM tasks WHERE render_id = $id", { id: waiting.id });
  expect(untouched.map(({ status, attempts, worker_id }) => ({ status, attempts, worker_id }))).toEqual([
    { status: "queued", attempts: 0, worker_id: null },
    { status: "queued", attempts: 0, worker_id: null },
  ]);
}, 120_000);
