import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { RENDER_ENGINES, engineLabel } from "../domain/engines";
import { inspectImage } from "../domain/image";
import { type BlenderInfo, type BlenderRunner, detectBlender, runBlender, scripts } from "./blender";

// Which render engines this machine's Blender renders with: a tiny frame with each
// (agent/scripts/engines.py), checked on disk. Eevee and Workbench need OpenGL — a
// machine without a GPU renders them through EGL's software fallback, or not at all;
// Cycles needs only the CPU. The agent tells the server at hello, and the claim hands it
// only renders of those engines; `cactus-agent doctor` shows the same test.

export interface EngineTest {
  engine: string;
  ok: boolean;
  /** Why it could not, in Blender's words where it said any. */
  error: string | null;
  seconds: number | null;
}

export const ENGINE_TEST_SIZE = { width: 16, height: 12 };

/**
 * Renders the test frame with each engine. Blender renders them one after the other in
 * one process; one that crashes it takes only its own engine down: the engines after it
 * are tried in a new process.
 */
export async function testEngines(
  blender: string,
  { runner, signal, engines = RENDER_ENGINES }: { runner?: BlenderRunner; signal?: AbortSignal; engines?: readonly string[] } = {},
): Promise<EngineTest[]> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-engines-"));
  try {
    const tests: EngineTest[] = [];
    let left = [...engines];
    while (left.length > 0 && !signal?.aborted) {
      const job = { outputDir: dir, engines: left, ...ENGINE_TEST_SIZE };
      const result = await runBlender({
        blender,
        argv: ["-b", "--factory-startup", "--python-expr", scripts.engines, "--", JSON.stringify(job)],
        // In the sandbox (agent/sandbox.ts) the test frames' folder is all it may write.
        files: { writable: [dir] },
        runner,
        signal,
      });
      const said = result.engineTests.filter((test) => left.includes(test.engine));
      for (const test of said) tests.push(await checkImage(dir, test));
      left = left.filter((engine) => !said.some((test) => test.engine === engine));
      if (left.length > 0) {
        // Blender ended (or stopped talking) while rendering this one.
        const why = result.errors.join(" ") || "Blender ended without saying why";
        tests.push({ engine: left[0], ok: false, error: `Blender stopped while rendering with it: ${why}`, seconds: null });
        left = left.slice(1);
      }
    }
    return tests;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** An engine that said it rendered has written its image, at the size asked. */
async function checkImage(dir: string, test: EngineTest): Promise<EngineTest> {
  if (!test.ok) return test;
  const file = path.join(dir, `${test.engine}.png`);
  const image = inspectImage(await fs.readFile(file).catch(() => Buffer.alloc(0)));
  const { width, height } = ENGINE_TEST_SIZE;
  if (image?.width === width && image.height === height) return test;
  return { ...test, ok: false, error: image ? `it wrote a ${image.width}×${image.height} image, not ${width}×${height}` : "it wrote no image" };
}

/** The engines that rendered; what the agent says at hello. */
export const enginesThatRender = (tests: EngineTest[]) => tests.filter((test) => test.ok).map((test) => test.engine);

/** "Cycles, Eevee and Workbench", for the agent's log. */
export function engineList(engines: string[]): string {
  const labels = engines.map(engineLabel);
  return labels.length <= 1 ? labels.join("") || "none" : `${labels.slice(0, -1).join(", ")} and ${labels.at(-1)}`;
}

/**
 * What the agent tells the server about its Blender: version, denoiser, and the engines
 * that render here (a few seconds: Eevee compiles its shaders). Engines that do not are
 * logged with why.
 */
export async function detectBlenderAndEngines(
  blender: string,
  { runner, log }: { runner?: BlenderRunner; log: (message: string) => void },
): Promise<BlenderInfo> {
  const info = await detectBlender(blender, { runner });
  const tests = await testEngines(blender, { runner });
  for (const test of tests) {
    // An engine this Blender does not have (Eevee Next before 4.2) is not worth a line.
    if (!test.ok && !test.error?.startsWith("this Blender has no ")) log(`Blender cannot render with ${engineLabel(test.engine)} here: ${test.error}`);
  }
  return { ...info, engines: enginesThatRender(tests) };
}
