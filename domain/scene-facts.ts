// What an agent's inspection (agent/scripts/inspect.py) finds in a .blend, as the rules
// here and the pages read it: every scene of the file with its own settings, and what
// belongs to the file as a whole. contract/agent.ts holds the wire schema; this is its
// shape once read, with the gaps of older inspections filled in.

export interface ViewLayerFacts {
  name: string;
  /** "Use for Rendering": off, the layer renders nothing. */
  use: boolean;
}

/** The render region (Blender's "border"), in fractions of the frame. */
export interface RenderBorder {
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
  /** The image written is the region alone, not the whole frame. */
  crop: boolean;
}

export interface SceneOfFile {
  name: string;
  frameStart: number;
  frameEnd: number;
  frameStep: number;
  fps: number;
  resolutionX: number;
  resolutionY: number;
  resolutionPercentage: number;
  /** The size of the images Blender writes (percentage and crop applied). */
  outputWidth: number;
  outputHeight: number;
  border: RenderBorder | null;
  engine: string;
  samples: number | null;
  denoising: boolean;
  outputFormat: string;
  /** Camera objects in the scene. */
  cameras: string[];
  activeCamera: string | null;
  /** Null when an older inspection did not read them. */
  viewLayers: ViewLayerFacts[] | null;
}

export interface FileFacts {
  /** The scene Blender renders when told none. */
  scene: string;
  scenes: SceneOfFile[];
  /** Camera objects anywhere in the file: what a render may choose as its camera. */
  cameraObjects: string[];
  scripts: string[];
  missingFiles: string[];
}

/** Facts as an inspection stored them: the active scene flat at the top, maybe without what newer agents add. */
export interface StoredSceneFacts extends Omit<SceneOfFile, "name" | "border" | "viewLayers"> {
  scene?: string;
  border?: RenderBorder | null;
  viewLayers?: ViewLayerFacts[];
  scenes?: SceneOfFile[];
  cameraObjects?: string[];
  scripts: string[];
  missingFiles: string[];
}

/**
 * The file's facts whatever agent read them. An inspection from before scenes were read
 * one by one knew only the active scene, and not its name or view layers.
 */
export function fileFactsOf(stored: StoredSceneFacts): FileFacts {
  const { scene, scenes, cameraObjects, scripts, missingFiles, border = null, viewLayers = null, ...active } = stored;
  const name = scene ?? "Scene";
  return {
    scene: name,
    scenes: scenes && scenes.length > 0 ? scenes : [{ ...active, name, border, viewLayers }],
    cameraObjects: cameraObjects ?? active.cameras,
    scripts,
    missingFiles,
  };
}

/** The scene of that name, or the one Blender renders by default. */
export function sceneNamed(facts: FileFacts, name: string | null | undefined): SceneOfFile | undefined {
  return facts.scenes.find((scene) => scene.name === (name ?? facts.scene));
}

/**
 * The size of the images a scene writes at `percentage`, and of the region Blender renders
 * (the same unless a render region does not crop): Blender's own arithmetic, as
 * agent/scripts/common.py does it — an integer percentage, the region truncated to pixels.
 */
export function frameSizeAt(scene: Pick<SceneOfFile, "resolutionX" | "resolutionY" | "border">, percentage: number) {
  const full = {
    width: Math.floor((scene.resolutionX * percentage) / 100),
    height: Math.floor((scene.resolutionY * percentage) / 100),
  };
  const { border } = scene;
  if (!border) return { output: full, rendered: full };
  const region = {
    width: Math.trunc(border.maxX * full.width) - Math.trunc(border.minX * full.width),
    height: Math.trunc(border.maxY * full.height) - Math.trunc(border.minY * full.height),
  };
  return { output: border.crop ? region : full, rendered: region };
}
