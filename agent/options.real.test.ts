import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { classifyFailure } from "../domain/blender-failure";
import { inspectImage } from "../domain/image";
import { pngText } from "../tests/helpers/png";
import { BLENDER, makeScene } from "../tests/helpers/scenes";
import { type RenderOptions, framePaths, renderFrames } from "./blender";
import { testEngines } from "./engines";
import { inspectScene } from "./scene-facts";

// A render's options applied by the agent's own script (agent/scripts/render.py) in
// Debian's Blender 3.4.1, for real, and seen in what Blender wrote: the image's size, and
// the metadata Blender puts in each PNG (Camera, Scene, cycles.<view layer>.samples).

let dir: string;
/** Two scenes (Cycles "Scene", Workbench "Preview"), two cameras, two view layers of which one is off. */
let shot: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-options-"));
  shot = await makeScene({
    frames: 4,
    extraCamera: "Close up",
    viewLayers: [
      { name: "Beauty", use: true },
      { name: "Mist", use: false },
    ],
    extraScene: { name: "Preview", engine: "BLENDER_WORKBENCH", frames: 3 },
  });
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

const NONE: RenderOptions = { scene: null, camera: null, viewLayer: null, resolutionPercentage: null, samples: null };

async function render(name: string, options: Partial<RenderOptions>) {
  const job = { blendFile: shot, outputDir: path.join(dir, name), format: "PNG" as const, frameStart: 2, frameEnd: 2, threads: 2 };
  const result = await renderFrames({ blender: BLENDER, job: { ...job, options: { ...NONE, ...options } } });
  const file = framePaths(job)[0];
  const png = result.ok ? await fs.readFile(file) : null;
  return { result, image: png && inspectImage(png), metadata: png && pngText(png) };
}

describe("render options, for real", () => {
  test("inspection reads every scene, camera object and view layer", async () => {
    const outcome = await inspectScene({ blender: BLENDER, blendFile: shot });
    if (!outcome.ok) throw new Error(outcome.error);
    const { facts } = outcome;
    expect(facts).toMatchObject({ scene: "Scene", cameraObjects: ["Camera", "Close up"], engine: "CYCLES", cameras: ["Camera", "Close up"] });
    expect(facts.viewLayers).toEqual([
      { name: "Beauty", use: true },
      { name: "Mist", use: false },
    ]);
    // In Blender's order (by name), whichever the file opens with.
    expect(facts.scenes?.map(({ name, engine, frameEnd, activeCamera }) => ({ name, engine, frameEnd, activeCamera }))).toEqual([
      { name: "Preview", engine: "BLENDER_WORKBENCH", frameEnd: 3, activeCamera: "Camera" },
      { name: "Scene", engine: "CYCLES", frameEnd: 4, activeCamera: "Camera" },
    ]);
  });

  test("as the file is: its camera, its view layer that renders, its size and samples", async () => {
    const { result, image, metadata } = await render("plain", {});
    expect(result.ok).toBe(true);
    expect(image).toMatchObject({ width: 64, height: 48 });
    expect(metadata).toMatchObject({ Camera: "Camera", Scene: "Scene", "cycles.Beauty.samples": "4" });
    expect(metadata).not.toHaveProperty("cycles.Mist.samples");
  });

  test("camera, view layer (off in the file), resolution percentage and samples, each applied", async () => {
    const { result, image, metadata } = await render("all", { camera: "Close up", viewLayer: "Mist", resolutionPercentage: 50, samples: 2 });
    expect(result.ok).toBe(true);
    expect(result.settings).toMatchObject({ scene: "Scene", camera: "Close up", viewLayers: ["Mist"], samples: 2, width: 32, height: 24 });
    expect(image).toMatchObject({ width: 32, height: 24 });
    expect(metadata).toMatchObject({ Camera: "Close up", Scene: "Scene", "cycles.Mist.samples": "2" });
    expect(metadata).not.toHaveProperty("cycles.Beauty.samples");
  });

  test("another scene of the file, with its own engine (Blender's -S)", async () => {
    const { result, image, metadata } = await render("preview", { scene: "Preview", resolutionPercentage: 25 });
    expect(result.ok).toBe(true);
    expect(result.settings).toMatchObject({ scene: "Preview", engine: "BLENDER_WORKBENCH", width: 16, height: 12 });
    expect(image).toMatchObject({ width: 16, height: 12 });
    expect(metadata).toMatchObject({ Scene: "Preview" });
  });

  test("an option the scene cannot take fails with the script's Error: line, which is the scene's fault", async () => {
    const { result } = await render("nope", { camera: "Drone" });
    expect(result).toMatchObject({ ok: false, exitCode: 3 });
    expect(result.errors[0]).toBe('cactus render settings: the file has no camera object "Drone"');
    expect(classifyFailure({ error: result.errors.join("\n"), logTail: result.logTail.join("\n") })).toMatchObject({ blame: "scene" });
    const scene = await render("no-scene", { scene: "Final" });
    expect(scene.result.errors[0]).toMatch(/^cactus render settings: the file has no scene "Final"/);
  });
});

test("the engine test: a tiny frame with each engine this Blender has", async () => {
  const tests = await testEngines(BLENDER);
  const byEngine = Object.fromEntries(tests.map((each) => [each.engine, each]));
  // Debian's 3.4.1: Cycles on the CPU, Eevee and Workbench through EGL's software fallback.
  for (const engine of ["CYCLES", "BLENDER_EEVEE", "BLENDER_WORKBENCH"]) {
    expect(byEngine[engine], engine).toMatchObject({ ok: true, error: null });
  }
  expect(byEngine.BLENDER_EEVEE_NEXT).toMatchObject({ ok: false, error: "this Blender has no BLENDER_EEVEE_NEXT engine" });
}, 60_000);
