import { afterAll, beforeAll, expect, test } from "vitest";
import { apiErrorSchema, frameListSchema } from "../../contract";
import { inspectImage } from "../../domain/image";
import { AGENTS_START_MS, startFarm, type Farm } from "../helpers/e2e-farm";
import { pngText } from "../helpers/png";
import { makeScene } from "../helpers/scenes";

// Scenes read by a real agent with real Blender, then asked for as a person would: what
// cannot render is refused with what to do, a missing texture is a warning (a refusal
// when strict), and each of a render's options shows in the frames Blender wrote — their
// size, and the metadata Blender keeps in each PNG (Camera, cycles.<view layer>.samples).

let farm: Farm;
beforeAll(async () => {
  farm = await startFarm();
  await farm.addAgent({ name: "box" });
}, AGENTS_START_MS);
afterAll(() => farm?.stop());

/** A request that must be refused: its error's message. */
async function refused(body: object): Promise<string> {
  const response = await farm.call("/renders", { body });
  const text = await response.text();
  expect(response.status, text).toBe(422);
  return apiErrorSchema.parse(JSON.parse(text)).error.message;
}

/** Frame `frame` of a render that is done: its PNG's size and metadata. */
async function frameOf(renderId: number, frame: number) {
  const { frames } = frameListSchema.parse(await farm.json(`/renders/${renderId}/frames`));
  expect(frames.find((each) => each.frame === frame)?.status).toBe("done");
  const response = await farm.call(`/renders/${renderId}/frames/${frame}`);
  const png = Buffer.from(await response.arrayBuffer());
  return { image: inspectImage(png), metadata: pngText(png) };
}

test("no camera set: refused naming the file's cameras; with --camera it renders through that one", async () => {
  const archive = await farm.uploadScene(await makeScene({ frames: 2, activeCamera: false, extraCamera: "Close up" }), "sculpting-like.blend");
  expect((await farm.waitForFacts(archive.id)).sceneCheck?.refusals).toHaveLength(1);
  expect(await refused({ archiveId: archive.id })).toBe(
    'Scene "Scene" has no camera; the file has the camera objects "Camera" and "Close up": pass --camera Camera (or choose it as the render\'s camera).',
  );
  const render = await farm.requestRender({ archiveId: archive.id, frames: "2", camera: "Close up" });
  await farm.waitForRender(render.id, (now) => now.status === "done", 60_000);
  expect((await frameOf(render.id, 2)).metadata).toMatchObject({ Camera: "Close up", Scene: "Scene" });
}, 90_000);

test("no view layer that renders: refused", async () => {
  const archive = await farm.uploadScene(await makeScene({ frames: 1, viewLayers: [{ name: "Beauty", use: false }] }), "layer-off.blend");
  await farm.waitForFacts(archive.id);
  expect(await refused({ archiveId: archive.id })).toMatch(/^Scene "Scene" has no view layer that renders: "Beauty" has "Use for Rendering" off/);
}, 60_000);

test("a missing texture: warned when requested and on the render; refused when strict", async () => {
  const archive = await farm.uploadScene(await makeScene({ frames: 1, missingTexture: true }), "no-texture.blend");
  const read = await farm.waitForFacts(archive.id);
  expect(read.facts.missingFiles).toEqual(["//textures/wood.png"]);
  expect(await refused({ archiveId: archive.id, strict: true })).toMatch(/"\/\/textures\/wood\.png".*Refused because strict is on/);
  const render = await farm.requestRender({ archiveId: archive.id });
  expect(render.warnings).toEqual([expect.stringMatching(/^A file the scene uses is not in the archive: "\/\/textures\/wood\.png"/)]);
  expect((await farm.waitForRender(render.id, (now) => now.status === "done", 60_000)).warnings).toEqual(render.warnings);
}, 90_000);

test("each option applied: the frames' size, the camera, the view layer and the samples Blender says it rendered", async () => {
  const archive = await farm.uploadScene(
    await makeScene({
      frames: 2,
      samples: 8,
      extraCamera: "Close up",
      viewLayers: [
        { name: "Beauty", use: true },
        { name: "Mist", use: false },
      ],
    }),
    "options.blend",
  );
  await farm.waitForFacts(archive.id);
  const plain = await farm.requestRender({ archiveId: archive.id, frames: "1" });
  const changed = await farm.requestRender({
    archiveId: archive.id,
    frames: "1",
    camera: "Close up",
    viewLayer: "Mist",
    resolutionPercentage: 50,
    samples: 2,
  });
  expect(changed.scene).toMatchObject({ camera: "Close up", viewLayers: ["Mist"], samples: 2, width: 32, height: 24 });
  for (const render of [plain, changed]) await farm.waitForRender(render.id, (now) => now.status === "done", 60_000);

  expect(await frameOf(plain.id, 1)).toMatchObject({
    image: { width: 64, height: 48 },
    metadata: { Camera: "Camera", "cycles.Beauty.samples": "8" },
  });
  const frame = await frameOf(changed.id, 1);
  expect(frame).toMatchObject({ image: { width: 32, height: 24 }, metadata: { Camera: "Close up", "cycles.Mist.samples": "2" } });
  expect(frame.metadata).not.toHaveProperty("cycles.Beauty.samples");
}, 120_000);
