import { readFile } from "node:fs/promises";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { inspectImage } from "../domain/image";
import { sceneFactsSchema } from "../contract/agent";
import { BLENDER, makeScene, sceneFacts } from "../tests/helpers/scenes";
import {
  type BlenderInfo,
  BlenderProgress,
  blenderArgv,
  detectBlender,
  framePaths,
  renderFrames,
  runBlender,
  scripts,
} from "./blender";
import { inspectScene } from "./scene-facts";

// Debian's Blender 3.4.1, for real: each start costs about a second.

let dir: string;
let blender: BlenderInfo;
/** One scene for most tests (each new one costs a Blender start): every 2nd frame, scripts, a missing texture. */
let shot: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-blender-"));
  blender = await detectBlender(BLENDER);
  shot = await makeScene({ scripts: true, missingTexture: true, frameStep: 2 });
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const render = (blendFile: string, options: { frameStart: number; frameEnd: number; outputDir: string; script?: string }) =>
  blenderArgv({ blendFile, format: "PNG", threads: 2, ...options });

describe("Blender 3.4 for real", () => {
  test("detectBlender reads the version and whether Cycles can denoise", () => {
    expect(blender.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(typeof blender.hasDenoiser).toBe("boolean");
  });

  test("a chunk of frames 1-2 of a 64×48 Cycles scene: two PNGs of the scene's size", async () => {
    // The file says every 2nd frame; a chunk is consecutive frames all the same.
    const outputDir = path.join(dir, "chunk");
    const progress = new BlenderProgress({ frameStart: 1, frameEnd: 2 });
    const expectedFiles = framePaths({ outputDir, format: "PNG", frameStart: 1, frameEnd: 2 });

    const result = await renderFrames({
      blender: BLENDER,
      job: { blendFile: shot, outputDir, format: "PNG", frameStart: 1, frameEnd: 2, threads: 2 },
      onEvent: (event) => progress.update(event),
    });

    expect(result).toMatchObject({ ok: true, exitCode: 0, errors: [], savedFiles: expectedFiles });
    expect(result.settings).toMatchObject({ engine: "CYCLES", width: 64, height: 48 });
    expect(Object.keys(result.renderTimesMs)).toEqual(expectedFiles);
    expect(progress.fractionAt()).toBe(1);
    for (const file of expectedFiles) {
      expect(inspectImage(await readFile(file))).toEqual({ format: "PNG", width: 64, height: 48 });
    }
  });

  test("the CACTUS line's size is the written image's, percentage and crop applied; File Output nodes muted", async () => {
    const outputDir = path.join(dir, "crop");
    const elsewhere = path.join(dir, "elsewhere");
    // What an artist's file might hold, set before the agent's script runs.
    const artist = [
      "import bpy",
      "s = bpy.context.scene; r = s.render",
      "r.resolution_percentage = 37; r.use_border = True; r.use_crop_to_border = True",
      "r.border_min_x, r.border_max_x, r.border_min_y, r.border_max_y = 0.13, 0.77, 0.21, 0.9",
      "s.use_nodes = True",
      "node = s.node_tree.nodes.new('CompositorNodeOutputFile')",
      `node.base_path = ${JSON.stringify(elsewhere + "/")}`,
      "s.node_tree.links.new(s.node_tree.nodes['Render Layers'].outputs['Image'], node.inputs[0])",
      "",
    ].join("\n");
    const expectedFiles = framePaths({ outputDir, format: "PNG", frameStart: 3, frameEnd: 3 });
    const result = await runBlender({
      blender: BLENDER,
      argv: render(shot, { outputDir, frameStart: 3, frameEnd: 3, script: artist + scripts.render }),
      expectedFiles,
    });
    expect(result.ok).toBe(true);
    // 64 × 37 % = 23 px, of which 0.13-0.77 is 2-17; 48 × 37 % = 17 px, 0.21-0.9 is 3-15.
    expect(result.settings).toMatchObject({ width: 15, height: 12, mutedFileOutputs: ["File Output"] });
    expect(inspectImage(await readFile(expectedFiles[0]))).toEqual({ format: "PNG", width: 15, height: 12 });
    await expect(fs.access(elsewhere)).rejects.toThrow();
  });

  test("a scene that denoises fails, with Blender's Error: line, where there is no denoiser", async () => {
    const scene = await makeScene({ denoise: true });
    const outputDir = path.join(dir, "denoise");
    const expectedFiles = framePaths({ outputDir, format: "PNG", frameStart: 1, frameEnd: 1 });
    const result = await runBlender({
      blender: BLENDER,
      argv: render(scene, { outputDir, frameStart: 1, frameEnd: 1 }),
      expectedFiles,
    });
    if (blender.hasDenoiser) {
      expect(result.ok).toBe(true);
    } else {
      expect(result).toMatchObject({ ok: false, exitCode: 1 });
      expect(result.errors).toEqual([
        "Build without OpenImageDenoiser",
        "Blender exited with code 1.",
        "Blender did not write frame_00001.png.",
      ]);
      expect(result.logTail.at(-1)).toBe("Blender quit");
    }
  });

  test("a file's own scripts never run: its registered text block runs only with autoexec on", async () => {
    const scene = path.join(dir, "scripts", "shot.blend");
    await fs.mkdir(path.dirname(scene));
    await fs.copyFile(shot, scene);
    const marker = `${scene}.ran`;
    const outputDir = path.join(dir, "scripts", "out");
    const result = await runBlender({
      blender: BLENDER,
      argv: render(scene, { outputDir, frameStart: 1, frameEnd: 1 }),
      expectedFiles: framePaths({ outputDir, format: "PNG", frameStart: 1, frameEnd: 1 }),
    });
    expect(result.ok).toBe(true);
    expect(result.logTail).toContain(`scripts disabled for "${scene}", skipping 'setup.py'`);
    await expect(fs.access(marker)).rejects.toThrow();

    // The control: the same file with autoexec on does run it, so the check above means something.
    await execa(BLENDER, ["-b", "--factory-startup", "--enable-autoexec", scene, "--python-expr", "pass"]);
    await expect(fs.readFile(marker, "utf8")).resolves.toBe("the file ran its own script");
  });

  test("inspect.py reports the scene's facts", async () => {
    const outcome = await inspectScene({ blender: BLENDER, blendFile: shot });
    // The facts of makeScene()'s scene (tests/helpers/scenes.ts), as this file has it: every 2nd frame, Python, no texture.
    expect(outcome).toEqual({
      ok: true,
      facts: {
        ...sceneFacts({
          frameStep: 2,
          scripts: ["registered text setup.py", "python driver Cube.scale[2]: __import__('os').getpid() * 0 + 2"],
          missingFiles: ["//textures/wood.png"],
        }),
        blenderVersion: blender.version.split(".").slice(0, 2).join("."),
      },
    });
  });

  test("inspect.py on a scene that denoises, and its output fits the contract whole", async () => {
    const scene = await makeScene({ denoise: true });
    const result = await runBlender({
      blender: BLENDER,
      argv: ["-b", "--factory-startup", "--disable-autoexec", scene, "--python-expr", scripts.inspect],
    });
    expect(result.ok).toBe(true);
    expect(sceneFactsSchema.parse(result.facts)).toMatchObject({ denoising: true, hasScripts: false, missingFiles: [] });
    // Beyond the contract: the size Blender writes, percentage and crop applied.
    expect(result.facts).toMatchObject({ outputWidth: 64, outputHeight: 48 });
  });

  test("aborting stops Blender mid-frame", async () => {
    const outputDir = path.join(dir, "abort");
    const controller = new AbortController();
    const endless = `${scripts.render}\nbpy.context.scene.cycles.samples = 1000000\n`;
    const started = Date.now();
    let abortedAt = 0;
    const result = await runBlender({
      blender: BLENDER,
      argv: render(shot, { outputDir, frameStart: 1, frameEnd: 1, script: endless }),
      expectedFiles: framePaths({ outputDir, format: "PNG", frameStart: 1, frameEnd: 1 }),
      signal: controller.signal,
      onEvent: (event) => {
        if (event.kind === "status" && event.samplesDone === 1 && !abortedAt) {
          abortedAt = Date.now();
          controller.abort();
        }
      },
    });
    expect(abortedAt).toBeGreaterThan(started);
    expect(result).toMatchObject({ ok: false, cancelled: true, signal: "SIGTERM", savedFiles: [] });
    expect(Date.now() - abortedAt).toBeLessThan(2000);
  });
});
