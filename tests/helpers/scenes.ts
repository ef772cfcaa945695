import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import type { SceneFacts } from "../../contract";

/** The Blender the tests drive: CACTUS_BLENDER, else `blender` on the PATH. */
export const BLENDER = process.env.CACTUS_BLENDER ?? "blender";

const MAKE_SCENE = path.resolve(import.meta.dirname, "../scenes/make-scene.py");

export interface SceneOptions {
  frames?: number;
  width?: number;
  height?: number;
  engine?: "CYCLES" | "BLENDER_EEVEE" | "BLENDER_WORKBENCH";
  samples?: number;
  /** Cycles denoising on: Debian's Blender 3.4.1 has no OpenImageDenoise and fails. */
  denoise?: boolean;
  frameStep?: number;
  /** false: no camera at all, so that Blender fails with "Error: Cannot render, no camera". */
  camera?: boolean;
  /**
   * Embeds a registered text block that, if it ever runs, writes `<the .blend's path>.ran`
   * (give a path: the cached copy is shared), and a driver that needs Python.
   */
  scripts?: boolean;
  /** References //textures/wood.png, which is not there. */
  missingTexture?: boolean;
  /** Cycles samples keyed from `samples` on the first frame to this on the last: the cost grows along the timeline. */
  samplesAtEnd?: number;
  /** false: the camera object is in the scene, but not the scene's camera (Blender's Sculpting template). */
  activeCamera?: boolean;
  /** A second camera object of this name, closer to the cube. */
  extraCamera?: string;
  /** The scene's view layers: the first renamed, the others added. */
  viewLayers?: { name: string; use: boolean }[];
  /** A second scene of the same objects through the same camera, with its own engine and frames. */
  extraScene?: { name: string; engine: "CYCLES" | "BLENDER_EEVEE" | "BLENDER_WORKBENCH"; frames: number };
  /** Where to put the .blend; by default the cached copy's path is returned. */
  path?: string;
}

/**
 * A small animated scene saved by real Blender (tests/scenes/make-scene.py): a keyframed
 * cube, a camera, a sun. Same options, same file: each is made once per machine (keyed
 * by the options and the script's text) and copied where asked.
 */
export async function makeScene(options: SceneOptions = {}): Promise<string> {
  const { path: target, ...rest } = options;
  const params = {
    frames: 12,
    width: 64,
    height: 48,
    engine: "CYCLES",
    samples: 4,
    denoise: false,
    ...rest,
  };
  const key = createHash("sha256")
    .update(readFileSync(MAKE_SCENE))
    .update(JSON.stringify(params))
    .digest("hex")
    .slice(0, 16);
  const cacheDir = path.join(os.tmpdir(), "cactus-test-scenes");
  const cached = path.join(cacheDir, `scene-${key}.blend`);
  if (!(await exists(cached))) {
    await fs.mkdir(cacheDir, { recursive: true });
    // Test files run in parallel: each writes its own file, the rename is atomic.
    const partial = path.join(cacheDir, `scene-${key}.${process.pid}.partial.blend`);
    const result = await execa(
      BLENDER,
      ["-b", "--factory-startup", "--python", MAKE_SCENE, "--", JSON.stringify({ ...params, path: partial })],
      { reject: false, all: true },
    );
    if (result.exitCode !== 0 || !(await exists(partial))) {
      throw new Error(`make-scene.py failed (exit ${result.exitCode}):\n${result.all}`);
    }
    await fs.rename(partial, cached);
  }
  if (!target) return cached;
  await fs.mkdir(path.dirname(target), { recursive: true });
  await fs.copyFile(cached, target);
  return target;
}

const exists = (file: string) => fs.access(file).then(() => true, () => false);

/** The facts agent/scripts/inspect.py reports for makeScene()'s default scene on Blender 3.4. */
export function defaultSceneFacts(): SceneFacts {
  const scene = {
    frameStart: 1,
    frameEnd: 12,
    frameStep: 1,
    fps: 24,
    resolutionX: 64,
    resolutionY: 48,
    resolutionPercentage: 100,
    outputWidth: 64,
    outputHeight: 48,
    border: null,
    engine: "CYCLES",
    samples: 4,
    denoising: false,
    outputFormat: "PNG",
    cameras: ["Camera"],
    activeCamera: "Camera",
    viewLayers: [{ name: "ViewLayer", use: true }],
  };
  return {
    blenderVersion: "3.4",
    scene: "Scene",
    ...scene,
    scenes: [{ name: "Scene", ...scene }],
    cameraObjects: ["Camera"],
    hasScripts: false,
    scripts: [],
    missingFiles: [],
  };
}

/** defaultSceneFacts() with its (only) scene changed: the flat facts and `scenes` alike. */
type SceneOfFile = NonNullable<SceneFacts["scenes"]>[number];

export function sceneFacts(changes: Partial<SceneOfFile> & Partial<Pick<SceneFacts, "cameraObjects" | "missingFiles" | "scripts">> = {}): SceneFacts {
  const { cameraObjects, missingFiles, scripts, ...scene } = changes;
  const facts = defaultSceneFacts();
  const { scenes, ...flat } = facts;
  return {
    ...flat,
    ...scene,
    scene: scene.name ?? flat.scene,
    scenes: [{ ...scenes![0], ...scene }],
    cameraObjects: cameraObjects ?? facts.cameraObjects,
    missingFiles: missingFiles ?? facts.missingFiles,
    scripts: scripts ?? facts.scripts,
    hasScripts: (scripts ?? facts.scripts).length > 0,
  };
}
