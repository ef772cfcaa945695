import { describe, expect, test } from "vitest";
import { checkRender } from "./scene-check";
import { type FileFacts, type SceneOfFile, fileFactsOf, frameSizeAt } from "./scene-facts";

// Facts as agent/scripts/inspect.py reports them; the first ones are those of files
// Blender itself ships (Debian's 3.4.1, /usr/share/blender/scripts/…).

function scene(overrides: Partial<SceneOfFile> = {}): SceneOfFile {
  return {
    name: "Scene",
    frameStart: 1,
    frameEnd: 250,
    frameStep: 1,
    fps: 24,
    resolutionX: 1920,
    resolutionY: 1080,
    resolutionPercentage: 100,
    outputWidth: 1920,
    outputHeight: 1080,
    border: null,
    engine: "BLENDER_EEVEE",
    samples: 64,
    denoising: false,
    outputFormat: "PNG",
    cameras: ["Camera"],
    activeCamera: "Camera",
    viewLayers: [{ name: "View Layer", use: true }],
    ...overrides,
  };
}

function file(scenes: SceneOfFile[], overrides: Partial<FileFacts> = {}): FileFacts {
  return { scene: scenes[0].name, scenes, cameraObjects: ["Camera"], scripts: [], missingFiles: [], ...overrides };
}

/** bl_app_templates_system/Sculpting/startup.blend: a camera in the scene, but not the scene's camera. */
const sculpting = file([scene({ activeCamera: null })]);
/** addons/materials_library_vx/templates.blend (saved by 2.78): no camera at all, its only view layer off. */
const materialTemplates = file(
  [
    scene({
      engine: "CYCLES",
      samples: 10,
      resolutionPercentage: 50,
      outputWidth: 960,
      outputHeight: 540,
      cameras: [],
      activeCamera: null,
      viewLayers: [{ name: "RenderLayer", use: false }],
    }),
  ],
  { cameraObjects: [] },
);

describe("refused at request time, saying what to do", () => {
  test("a scene without its camera set names the file's camera and the flag that picks it", () => {
    expect(checkRender(sculpting).refusals).toEqual([
      'Scene "Scene" has no camera; the file has the camera object "Camera": pass --camera Camera (or choose it as the render\'s camera).',
    ]);
    const chosen = checkRender(sculpting, { camera: "Camera" });
    expect(chosen.refusals).toEqual([]);
    expect(chosen.scene).toMatchObject({ camera: "Camera", engine: "BLENDER_EEVEE", width: 1920, height: 1080 });
  });

  test("no camera in the file and no view layer that renders: both said at once", () => {
    expect(checkRender(materialTemplates).refusals).toEqual([
      'Scene "Scene" has no camera, and the file has no camera object to render through; add a camera in Blender, make it the scene\'s camera, and upload the file again.',
      'Scene "Scene" has no view layer that renders: "RenderLayer" has "Use for Rendering" off, so every frame would come out empty; turn it on in Blender, or pass --view-layer RenderLayer.',
    ]);
    // Choosing the layer turns it on; a camera cannot be conjured.
    expect(checkRender(materialTemplates, { viewLayer: "RenderLayer" }).refusals).toHaveLength(1);
    expect(checkRender(materialTemplates, { camera: "Camera" }).refusals[0]).toBe(
      'The file has no camera object "Camera"; it has no camera at all: add a camera in Blender, make it the scene\'s camera, and upload the file again.',
    );
  });

  test("names with spaces are quoted for the shell; several cameras are listed, the scene's own first", () => {
    const facts = file([scene({ activeCamera: null, cameras: ["Close up"] })], { cameraObjects: ["A wide", "Close up"] });
    expect(checkRender(facts).refusals[0]).toBe(
      'Scene "Scene" has no camera; the file has the camera objects "A wide" and "Close up": pass --camera \'Close up\' (or choose it as the render\'s camera).',
    );
  });

  test("a scene, camera or view layer the file does not have", () => {
    const facts = file([scene(), scene({ name: "Previz", engine: "BLENDER_WORKBENCH", samples: 8 })]);
    expect(checkRender(facts, { scene: "Final" })).toEqual({
      scene: null,
      refusals: ['The file has no scene "Final"; its scenes are "Scene" and "Previz".'],
      warnings: [],
    });
    expect(checkRender(facts, { camera: "Drone" }).refusals).toEqual(['The file has no camera object "Drone"; its camera is "Camera".']);
    expect(checkRender(facts, { viewLayer: "Fog" }).refusals).toEqual(['Scene "Scene" has no view layer "Fog"; its view layers: "View Layer".']);
  });

  test("samples for Workbench, which has none; an add-on's engine the farm cannot load", () => {
    const facts = file([scene(), scene({ name: "Previz", engine: "BLENDER_WORKBENCH", samples: 8 })]);
    expect(checkRender(facts, { scene: "Previz", samples: 4 }).refusals).toEqual([
      'Scene "Previz" renders with Workbench, which has no samples to set; leave the samples out.',
    ]);
    expect(checkRender(file([scene({ engine: "LUXCORE" })])).refusals).toEqual([
      'Scene "Scene" renders with "LUXCORE", an add-on\'s engine the farm\'s Blender does not load; switch it to Cycles, Eevee or Workbench in Blender and upload the file again.',
    ]);
  });

  test("an empty render region, or a percentage that leaves no pixel", () => {
    const region = file([scene({ resolutionX: 32, resolutionY: 24, border: { minX: 0.5, maxX: 0.5, minY: 0, maxY: 1, crop: false } })]);
    expect(checkRender(region).refusals[0]).toMatch(/^Scene "Scene"'s render region \(Render Region in the Output properties\) is empty/);
    const small = file([scene({ resolutionX: 32, resolutionY: 24, outputWidth: 32, outputHeight: 24 })]);
    expect(checkRender(small, { resolutionPercentage: 3 }).refusals).toEqual([
      'At 3 % Scene "Scene" is 0×0 pixels, too small for an image; ask for a larger resolution percentage.',
    ]);
  });
});

describe("what renders, and the warnings that go with it", () => {
  test("the overrides, applied: scene, its frames, percentage, samples, view layer", () => {
    const facts = file([
      scene(),
      scene({ name: "Shot 2", frameStart: 101, frameEnd: 148, frameStep: 2, engine: "CYCLES", samples: 512, denoising: true,
        viewLayers: [{ name: "Beauty", use: true }, { name: "Mist", use: true }] }),
    ]);
    expect(checkRender(facts, { scene: "Shot 2", resolutionPercentage: 25, samples: 16, viewLayer: "Mist" })).toEqual({
      scene: {
        name: "Shot 2",
        engine: "CYCLES",
        camera: "Camera",
        viewLayers: ["Mist"],
        samples: 16,
        resolutionPercentage: 25,
        width: 480,
        height: 270,
        denoising: true,
        frameStart: 101,
        frameEnd: 148,
        frameStep: 2,
      },
      refusals: [],
      warnings: [],
    });
  });

  test("missing files warn, strict refuses them; Python the farm will not run warns", () => {
    const facts = file([scene()], { missingFiles: ["//textures/wood.png"], scripts: ["registered text setup.py"] });
    const lenient = checkRender(facts);
    expect(lenient.refusals).toEqual([]);
    expect(lenient.warnings).toEqual([
      'A file the scene uses is not in the archive: "//textures/wood.png". Blender renders without them (missing textures come out pink); upload a .zip with them beside the .blend, at the paths the scene uses.',
      'The file has Python the farm never runs ("registered text setup.py"); whatever it would do (drivers, handlers, setup) is not in the frames.',
    ]);
    const strict = checkRender(facts, {}, { strict: true });
    expect(strict.refusals).toEqual([expect.stringMatching(/^A file the scene uses is not in the archive: .* Refused because strict is on; turn it off \(--strict, or the box on the form\) to render anyway\.$/)]);
    expect(strict.warnings).toHaveLength(1);
  });
});

describe("frameSizeAt: Blender's arithmetic", () => {
  test("an integer percentage, and a cropping region truncated to pixels", () => {
    const shot = { resolutionX: 64, resolutionY: 48, border: null };
    expect(frameSizeAt(shot, 50).output).toEqual({ width: 32, height: 24 });
    expect(frameSizeAt(shot, 37).output).toEqual({ width: 23, height: 17 });
    // The crop of agent/blender.real.test.ts, checked there against the PNG Blender wrote.
    const cropped = { ...shot, border: { minX: 0.13, maxX: 0.77, minY: 0.21, maxY: 0.9, crop: true } };
    expect(frameSizeAt(cropped, 37)).toEqual({ output: { width: 15, height: 12 }, rendered: { width: 15, height: 12 } });
    expect(frameSizeAt({ ...cropped, border: { ...cropped.border, crop: false } }, 37).output).toEqual({ width: 23, height: 17 });
  });
});

test("facts from an older inspection (the active scene alone) still check what they can", () => {
  const old = fileFactsOf({
    frameStart: 1, frameEnd: 12, frameStep: 1, fps: 24, resolutionX: 64, resolutionY: 48, resolutionPercentage: 100,
    outputWidth: 64, outputHeight: 48, engine: "CYCLES", samples: 4, denoising: false, outputFormat: "PNG",
    cameras: [], activeCamera: null, scripts: [], missingFiles: [],
  });
  expect(old.scenes).toHaveLength(1);
  expect(checkRender(old).refusals).toEqual([expect.stringMatching(/^Scene "Scene" has no camera, and the file has no camera object/)]);
  expect(checkRender({ ...old, scenes: [{ ...old.scenes[0], activeCamera: "Camera" }] }).scene).toMatchObject({ viewLayers: null, width: 64 });
});
