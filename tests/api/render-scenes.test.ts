import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { archiveSchema, renderFailureListSchema, renderListSchema, type SceneFacts } from "../../contract";
import { AgentApi, createWorkerWithToken, expectJson, HELLO, pngBytes } from "../helpers/agent-api";
import { ArchiveApi, blend, expectApiError, uploaded } from "../helpers/archive-api";
import { renderOf } from "../helpers/renders";
import { sceneFacts } from "../helpers/scenes";
import { startTestServer, type TestServer } from "../helpers/server";
import { closeTestDatabase, createUserWithToken } from "../helpers/users";

// Scenes the farm understands, over HTTP: what an agent's inspection found, in the
// archive's answer; a request the scene cannot render refused with what to do; the
// render's options checked, recorded, shown and sent to the agent; a scene error failing
// the render once.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await closeTestDatabase();
  await server?.close();
});

/** The whole message, as a pattern. */
const exactly = (text: string) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);

let users = 0;
/** A new user with one worker whose agent read the archive's scene as `facts`. */
async function withScene(facts: SceneFacts) {
  const created = await createUserWithToken(server, `scenes-${++users}`);
  const owner = new ArchiveApi(server, created.token);
  const { worker, token } = await createWorkerWithToken(server, created.user.id);
  const agent = new AgentApi(server, token);
  await expectJson(await agent.hello(HELLO), 200);
  const archive = await uploaded(await owner.upload((await owner.createProject()).id, blend(7000 + users)));
  const inspect = await agent.claim();
  await expectJson(await agent.task(inspect.id, "inspection", { leaseToken: inspect.leaseToken, facts }), 200);
  const request = (body: object) => owner.call("/renders", { body: { archiveId: archive.id, ...body } });
  const read = async () => archiveSchema.parse(await (await owner.call(`/archives/${archive.id}`)).json());
  const listRenders = async () => renderListSchema.parse(await (await owner.call("/renders")).json()).renders;
  return { owner, agent, worker, archive, request, read, listRenders, userId: created.user.id };
}

/** Blender's Sculpting template: a camera in the scene, but not the scene's camera. */
const NO_ACTIVE_CAMERA = sceneFacts({ activeCamera: null });

describe("refused at request time, saying what to do", () => {
  test("a scene with no camera set: 422 naming the file's camera; with --camera it renders through it", async () => {
    const { request, read, agent, listRenders } = await withScene(NO_ACTIVE_CAMERA);
    const refusal =
      'Scene "Scene" has no camera; the file has the camera object "Camera": pass --camera Camera (or choose it as the render\'s camera).';
    expect((await read()).sceneCheck).toEqual({ refusals: [refusal], warnings: [] });
    await expectApiError(await request({ frames: "1-2" }), 422, "unprocessable", exactly(refusal));
    // Refused before it exists: no render estimates or waits for anything.
    expect(await listRenders()).toEqual([]);

    const render = await renderOf(await request({ frames: "1-2", camera: "Camera" }), 201);
    expect(render.options).toEqual({ scene: null, camera: "Camera", viewLayer: null, resolutionPercentage: null, samples: null });
    expect(render.scene).toEqual({
      name: "Scene",
      engine: "CYCLES",
      camera: "Camera",
      viewLayers: ["ViewLayer"],
      samples: 4,
      resolutionPercentage: 100,
      width: 64,
      height: 48,
    });
    // The agent is told, as data for its own script.
    expect((await agent.claim()).options).toEqual(render.options);
  });

  test("no view layer that renders: 422; choosing one renders it", async () => {
    const { request } = await withScene(sceneFacts({ viewLayers: [{ name: "RenderLayer", use: false }] }));
    await expectApiError(
      await request({ frames: "1" }),
      422,
      "unprocessable",
      /^Scene "Scene" has no view layer that renders: "RenderLayer" has "Use for Rendering" off, so every frame would come out empty; turn it on in Blender, or pass --view-layer RenderLayer\.$/,
    );
    const render = await renderOf(await request({ frames: "1", viewLayer: "RenderLayer" }), 201);
    expect(render.scene?.viewLayers).toEqual(["RenderLayer"]);
  });

  test("names the file does not have, and samples Workbench has none of", async () => {
    const { request } = await withScene(sceneFacts({ engine: "BLENDER_WORKBENCH", samples: 8 }));
    await expectApiError(await request({ frames: "1", scene: "Final" }), 422, "unprocessable", exactly('The file has no scene "Final"; its scene is "Scene".'));
    await expectApiError(await request({ frames: "1", camera: "Drone" }), 422, "unprocessable", /no camera object "Drone"; its camera is "Camera"/);
    await expectApiError(await request({ frames: "1", samples: 4 }), 422, "unprocessable", /Workbench, which has no samples to set/);
    await expectApiError(await request({ frames: "1", resolutionPercentage: 0 }), 400, "bad_request", /resolutionPercentage: The resolution percentage is at least 1/);
  });

  test("missing files: a warning with the render (and before it, on the archive); refused when strict", async () => {
    const { request, read } = await withScene(sceneFacts({ missingFiles: ["//textures/wood.png"] }));
    const warning = expect.stringMatching(/^A file the scene uses is not in the archive: "\/\/textures\/wood.png"\. Blender renders without them/);
    expect((await read()).sceneCheck).toEqual({ refusals: [], warnings: [warning] });
    expect((await read()).facts.missingFiles).toEqual(["//textures/wood.png"]);
    const render = await renderOf(await request({ frames: "1" }), 201);
    expect(render.warnings).toEqual([warning]);
    await expectApiError(await request({ frames: "1", strict: true }), 422, "unprocessable", /Refused because strict is on; turn it off \(--strict, or the box on the form\) to render anyway\.$/);
  });

  test("options before an agent read the scene: 422, as nothing can check them", async () => {
    const owner = new ArchiveApi(server, (await createUserWithToken(server, `scenes-${++users}`)).token);
    const archive = await uploaded(await owner.upload((await owner.createProject()).id, blend(7900)));
    expect(archiveSchema.parse(await (await owner.call(`/archives/${archive.id}`)).json())).toMatchObject({
      inspection: { status: "waiting", error: null },
      sceneCheck: null,
    });
    await expectApiError(
      await owner.call("/renders", { body: { archiveId: archive.id, frames: "1", camera: "Camera", strict: true } }),
      422,
      "unprocessable",
      new RegExp(`^--camera, --strict need the scene's facts, and archive ${archive.id} waits for one of your agents to read its scene`),
    );
    // Without options it goes ahead, as before.
    expect((await renderOf(await owner.call("/renders", { body: { archiveId: archive.id, frames: "1" } }), 201)).scene).toBeNull();
  });
});

describe("the options, applied", () => {
  test("another scene's frames, engine and size; the frame check expects the overridden size", async () => {
    const shot = sceneFacts({ engine: "CYCLES" });
    const facts: SceneFacts = {
      ...shot,
      scenes: [...shot.scenes!, { ...shot.scenes![0], name: "Previz", engine: "BLENDER_EEVEE", samples: 16, frameStart: 5, frameEnd: 8, frameStep: 1 }],
    };
    const { request, agent } = await withScene(facts);
    const render = await renderOf(await request({ scene: "Previz", resolutionPercentage: 50, samples: 2 }), 201);
    expect(render).toMatchObject({ frameStart: 5, frameEnd: 8, tasks: 4 });
    expect(render.scene).toMatchObject({ name: "Previz", engine: "BLENDER_EEVEE", samples: 2, width: 32, height: 24, resolutionPercentage: 50 });
    const task = await agent.claim();
    expect(task).toMatchObject({ expected: { width: 32, height: 24 }, options: { scene: "Previz", resolutionPercentage: 50, samples: 2 } });
    // A frame of the scene's own size is not what this render asked for.
    await expectApiError(
      await agent.uploadFrame(task.id, 5, pngBytes(64, 48), { leaseToken: task.leaseToken }),
      422,
      "unprocessable",
      /Frame 5 was refused: it is 64×48 pixels; the scene renders 32×24/,
    );
  });

  test("an agent that cannot render the scene's engine is not handed it, and the render says why", async () => {
    const { request, agent, owner } = await withScene(sceneFacts({ engine: "BLENDER_EEVEE" }));
    await expectJson(await agent.hello({ ...HELLO, capabilities: { ...HELLO.capabilities, engines: ["CYCLES", "BLENDER_WORKBENCH"] } }), 200);
    const render = await renderOf(await request({ frames: "1" }), 201);
    await agent.claimNothing();
    expect((await renderOf(await owner.call(`/renders/${render.id}`))).waiting).toMatch(
      /^None of your enabled workers can render Eevee \(their agents rendered a test frame with each engine/,
    );
    await expectJson(await agent.hello({ ...HELLO, capabilities: { ...HELLO.capabilities, engines: ["BLENDER_EEVEE", "CYCLES"] } }), 200);
    expect((await agent.claim()).renderId).toBe(render.id);
  });
});

describe("the quote is of the render as changed", () => {
  test("its sample frames are claimed with the render's options and checked at its size", async () => {
    const { request, agent } = await withScene(sceneFacts({ frameStart: 1, frameEnd: 48 }));
    const render = await renderOf(await request({ resolutionPercentage: 50, samples: 2, estimateOnly: true }), 201);
    expect(render).toMatchObject({ status: "estimating", sample: { frames: 5, done: 0 } });
    const task = await agent.claim();
    // A sample frame (the first point of the timeline), rendered as every other frame of the render will be.
    expect(task).toMatchObject({
      renderId: render.id,
      frameStart: 1,
      frameEnd: 1,
      expected: { width: 32, height: 24 },
      options: { resolutionPercentage: 50, samples: 2 },
    });
    await expectApiError(
      await agent.uploadFrame(task.id, 1, pngBytes(64, 48), { leaseToken: task.leaseToken }),
      422,
      "unprocessable",
      /Frame 1 was refused: it is 64×48 pixels; the scene renders 32×24/,
    );
  });

  test("a sample run has a frame for each worker that may render the scene's engine, not each worker", async () => {
    const { request, agent, userId } = await withScene(sceneFacts({ engine: "BLENDER_EEVEE", frameStart: 1, frameEnd: 48 }));
    await expectJson(await agent.hello({ ...HELLO, capabilities: { ...HELLO.capabilities, engines: ["BLENDER_EEVEE", "CYCLES"] } }), 200);
    const other = new AgentApi(server, (await createWorkerWithToken(server, userId)).token);
    await expectJson(await other.hello({ ...HELLO, capabilities: { ...HELLO.capabilities, engines: ["CYCLES"] } }), 200);
    // One worker renders Eevee: runs of one frame at each of the 5 points.
    expect((await renderOf(await request({}), 201)).sample.frames).toBe(5);
    // Both do once the other's Blender renders Eevee too: runs of two.
    await expectJson(await other.hello({ ...HELLO, capabilities: { ...HELLO.capabilities, engines: ["BLENDER_EEVEE", "CYCLES"] } }), 200);
    expect((await renderOf(await request({}), 201)).sample.frames).toBe(10);
  });

  test("a scene error on a sample frame fails the render while it estimates, before any quote", async () => {
    const { request, agent, owner } = await withScene(sceneFacts({ frameStart: 1, frameEnd: 48 }));
    const render = await renderOf(await request({ estimateOnly: true }), 201);
    expect(render.status).toBe("estimating");
    const task = await agent.claim();
    const error = "Cannot render, no camera\nBlender exited with code 1.";
    const answer = await agent.task(task.id, "fail", { leaseToken: task.leaseToken, error, logTail: "Error: Cannot render, no camera\n\nBlender quit" });
    expect(await expectJson(answer, 200)).toMatchObject({ taskStatus: "failed", renderStatus: "failed", blame: "scene", workerBlocklisted: false });
    const failed = await renderOf(await owner.call(`/renders/${render.id}`));
    expect(failed).toMatchObject({ status: "failed", estimate: null, frames: { queued: 0, rendering: 0, failed: 1 } });
    expect(failed.failure).toMatch(/^Frame 1 has an error in the scene, which every worker would hit, so the render stopped at once/);
    await expectApiError(await owner.call(`/renders/${render.id}/confirm`, { method: "POST" }), 409, "conflict", /is failed, not quoted/);
    await agent.claimNothing();
  });
});

test("a scene error fails the render at once, Blender's line shown, and blames no worker", async () => {
  const { request, agent, owner } = await withScene(sceneFacts());
  const render = await renderOf(await request({ frames: "1-3" }), 201);
  const task = await agent.claim();
  const error = "Cannot render, no camera\nBlender exited with code 1.\nBlender did not write frame_00001.png.";
  const answer = await agent.task(task.id, "fail", { leaseToken: task.leaseToken, error, logTail: "Error: Cannot render, no camera\n\nBlender quit" });
  expect(await expectJson(answer, 200)).toEqual({
    taskStatus: "failed",
    renderStatus: "failed",
    workerBlocklisted: false,
    blame: "scene",
    because: "scene-error",
  });
  const failed = await renderOf(await owner.call(`/renders/${render.id}`));
  expect(failed).toMatchObject({ status: "failed", frames: { total: 3, failed: 1, queued: 0, rendering: 0 } });
  expect(failed.failure).toBe(
    'Frame 1 has an error in the scene, which every worker would hit, so the render stopped at once: Blender says "Cannot render, no camera". ' +
      "Give the scene a camera in Blender (and make it the scene's camera), or request the render again with --camera NAME.",
  );
  const { failures } = renderFailureListSchema.parse(await (await owner.call(`/renders/${render.id}/failures`)).json());
  expect(failures.map((failure) => failure.blame)).toEqual(["scene"]);
  await agent.claimNothing();
});
