import { engineHasSamples, engineLabel, isRenderEngine } from "./engines";
import { type FileFacts, type SceneOfFile, frameSizeAt, sceneNamed } from "./scene-facts";

// What a render of a file would render, and whether it can (docs/design.md §5): a scene
// Blender cannot make an image of (no camera, no view layer that renders, an empty render
// region) is refused when it is requested, with what to do, instead of failing on every
// worker. Missing files are a warning, or a refusal for a strict request. Pure: the
// request (app/models/render.server.ts), the archive's page and `cactus archive show` ask.

/** What a render may change of the scene it renders; validated here against the file's facts. */
export interface RenderOptions {
  scene?: string | null;
  camera?: string | null;
  viewLayer?: string | null;
  resolutionPercentage?: number | null;
  samples?: number | null;
}

export const RENDER_OPTION_LIMITS = {
  resolutionPercentage: { min: 1, max: 1000 },
  samples: { min: 1, max: 1_000_000 },
} as const;

/** The scene as a render with these options renders it. */
export interface RenderedScene {
  name: string;
  engine: string;
  camera: string | null;
  /** The view layers that render. */
  viewLayers: string[] | null;
  samples: number | null;
  resolutionPercentage: number;
  width: number;
  height: number;
  denoising: boolean;
  frameStart: number;
  frameEnd: number;
  frameStep: number;
}

export interface SceneCheck {
  /** Null when the scene asked for is not in the file. */
  scene: RenderedScene | null;
  /** Why Blender could not render it, each with what to do: the request is refused with these. */
  refusals: string[];
  /** What renders, but maybe not as the artist meant. */
  warnings: string[];
}

export function checkRender(facts: FileFacts, options: RenderOptions = {}, { strict = false } = {}): SceneCheck {
  const refusals: string[] = [];
  const warnings: string[] = [];
  const scene = sceneNamed(facts, options.scene);
  if (!scene) {
    const names = facts.scenes.map((each) => each.name);
    refusals.push(`The file has no scene ${quote(options.scene!)}; its scene${names.length === 1 ? " is" : "s are"} ${list(names)}.`);
    return { scene: null, refusals, warnings };
  }
  const where = `Scene ${quote(scene.name)}`;
  if (!isRenderEngine(scene.engine)) {
    refusals.push(
      `${where} renders with ${quote(scene.engine)}, an add-on's engine the farm's Blender does not load; ` +
        "switch it to Cycles, Eevee or Workbench in Blender and upload the file again.",
    );
  }
  const camera = checkCamera(facts, scene, options.camera, refusals);
  const viewLayers = checkViewLayers(scene, options.viewLayer, refusals);
  const percentage = options.resolutionPercentage ?? scene.resolutionPercentage;
  const size = frameSizeAt(scene, percentage);
  if (size.rendered.width < 1 || size.rendered.height < 1) {
    const region = frameSizeAt(scene, 100).rendered;
    refusals.push(
      scene.border && (region.width < 1 || region.height < 1)
        ? `${where}'s render region (Render Region in the Output properties) is empty, so Blender has nothing to render; ` +
            "draw one or turn it off in Blender, and upload the file again."
        : `At ${percentage} % ${where} is ${size.rendered.width}×${size.rendered.height} pixels, too small for an image; ` +
            "ask for a larger resolution percentage.",
    );
  }
  if (options.samples != null && !engineHasSamples(scene.engine)) {
    refusals.push(`${where} renders with ${engineLabel(scene.engine)}, which has no samples to set; leave the samples out.`);
  }
  if (facts.missingFiles.length > 0) {
    const missing =
      `${facts.missingFiles.length === 1 ? "A file" : `${facts.missingFiles.length} files`} the scene uses ` +
      `${facts.missingFiles.length === 1 ? "is" : "are"} not in the archive: ${list(facts.missingFiles, 5)}. ` +
      "Blender renders without them (missing textures come out pink); upload a .zip with them beside the .blend, at the paths the scene uses.";
    if (strict) refusals.push(`${missing} Refused because strict is on; turn it off (--strict, or the box on the form) to render anyway.`);
    else warnings.push(missing);
  }
  if (facts.scripts.length > 0) {
    warnings.push(
      `The file has Python the farm never runs (${list(facts.scripts, 3)}); whatever it would do (drivers, handlers, setup) is not in the frames.`,
    );
  }
  // The inspection's own size when nothing changes it: Blender's word over our arithmetic.
  const output = options.resolutionPercentage == null ? { width: scene.outputWidth, height: scene.outputHeight } : size.output;
  return {
    scene: {
      name: scene.name,
      engine: scene.engine,
      camera,
      viewLayers,
      samples: options.samples ?? scene.samples,
      resolutionPercentage: percentage,
      ...output,
      denoising: scene.denoising,
      frameStart: scene.frameStart,
      frameEnd: scene.frameEnd,
      frameStep: scene.frameStep,
    },
    refusals,
    warnings,
  };
}

function checkCamera(facts: FileFacts, scene: SceneOfFile, wanted: string | null | undefined, refusals: string[]): string | null {
  const cameras = facts.cameraObjects;
  if (wanted != null) {
    if (cameras.includes(wanted)) return wanted;
    refusals.push(
      `The file has no camera object ${quote(wanted)}; ` +
        (cameras.length === 0
          ? "it has no camera at all: add a camera in Blender, make it the scene's camera, and upload the file again."
          : `its camera${cameras.length === 1 ? " is" : "s are"} ${list(cameras)}.`),
    );
    return null;
  }
  if (scene.activeCamera !== null) return scene.activeCamera;
  const where = `Scene ${quote(scene.name)}`;
  if (cameras.length === 0) {
    refusals.push(
      `${where} has no camera, and the file has no camera object to render through; ` +
        "add a camera in Blender, make it the scene's camera, and upload the file again.",
    );
  } else {
    // The scene's own cameras first: the likeliest one the artist meant.
    const first = [...cameras].sort((a, b) => Number(scene.cameras.includes(b)) - Number(scene.cameras.includes(a)))[0];
    refusals.push(
      `${where} has no camera; the file has the camera object${cameras.length === 1 ? "" : "s"} ${list(cameras)}: ` +
        `pass --camera ${flagValue(first)} (or choose it as the render's camera).`,
    );
  }
  return null;
}

function checkViewLayers(scene: SceneOfFile, wanted: string | null | undefined, refusals: string[]): string[] | null {
  const layers = scene.viewLayers;
  if (layers === null) return null;
  const where = `Scene ${quote(scene.name)}`;
  if (wanted != null) {
    if (layers.some((layer) => layer.name === wanted)) return [wanted];
    refusals.push(`${where} has no view layer ${quote(wanted)}; its view layers: ${list(layers.map((layer) => layer.name))}.`);
    return null;
  }
  const used = layers.filter((layer) => layer.use).map((layer) => layer.name);
  if (used.length === 0) {
    const names = layers.map((layer) => layer.name);
    refusals.push(
      `${where} has no view layer that renders: ${list(names)} ${names.length === 1 ? "has" : "have"} "Use for Rendering" off, ` +
        `so every frame would come out empty; turn it on in Blender, or pass --view-layer ${flagValue(names[0])}.`,
    );
  }
  return used;
}

const quote = (name: string) => `"${name}"`;

/** "a", "a" and "b", "a", "b" and 3 more. */
function list(names: string[], most = 10): string {
  const shown = names.slice(0, most).map(quote);
  if (names.length > most) return `${shown.join(", ")} and ${names.length - most} more`;
  if (shown.length <= 1) return shown.join("");
  return `${shown.slice(0, -1).join(", ")} and ${shown[shown.length - 1]}`;
}

/** A name as it goes after a flag in a shell: plain when it can be, else in quotes. */
function flagValue(name: string): string {
  return /^[\w.@%+:/-]+$/.test(name) ? name : `'${name.replace(/'/g, `'\\''`)}'`;
}
