import fs from "node:fs/promises";
import path from "node:path";
import { encodePng, greyRows } from "../../tests/helpers/png";
import { defaultSceneFacts } from "../../tests/helpers/scenes";
import type { BlenderProcess, BlenderRunner } from "../blender";

// A stand-in for Blender behind the agent's injected runner: it reads the argv the agent
// built, prints Blender 3.4's lines and writes the frames, so the loop runs for real
// without Blender's second per start.

export interface FakeRun {
  argv: readonly string[];
  kind: "render" | "detect" | "inspect" | "scene" | "benchmark" | "engines";
  frames: number[];
  outputDir: string | null;
  /** Signals the agent sent, in order. */
  kills: string[];
  /** Kills it from outside the agent, as a Ctrl-C to the process group would. */
  interrupt: (signal: string) => void;
  startedAt: number;
}

export interface Behaviour {
  /** How long each frame takes. */
  frameMs?: number;
  /** Printed before the frames. */
  lines?: string[];
  exitCode?: number;
  /** Renders no frame files (a Blender that says it saved them, but did not). */
  skipFiles?: boolean;
  /** Runs until killed. */
  hang?: boolean;
  /** How long it takes to quit after its last frame (Blender frees its memory). */
  quitMs?: number;
  /** What the detect script reports. */
  denoiser?: boolean;
  /** The engines whose test frame renders (default: all of them). */
  engines?: string[];
  facts?: unknown;
  /** Seconds of each render the benchmark reports (default five of 2 s). */
  benchmarkSeconds?: number[];
  /** Of the frames written (default 64×48). */
  size?: { width: number; height: number };
}

export interface FakeBlender {
  runner: BlenderRunner;
  runs: FakeRun[];
}

export function fakeBlender(behave: (run: FakeRun) => Behaviour = () => ({})): FakeBlender {
  const runs: FakeRun[] = [];
  const runner: BlenderRunner = (_blender, argv) => {
    const run = describe(argv);
    runs.push(run);
    const behaviour = behave(run);
    let killed: (signal: string) => void = () => undefined;
    const killedPromise = new Promise<string>((resolve) => (killed = resolve));
    run.interrupt = (signal) => killed(signal);
    let exit: { exitCode: number | null; signal: string | null } = { exitCode: behaviour.exitCode ?? 0, signal: null };
    let resolveExit: (value: typeof exit) => void = () => undefined;
    const exited = new Promise<typeof exit>((resolve) => (resolveExit = resolve));
    async function* lines(): AsyncGenerator<string> {
      const stop = killedPromise.then((signal) => {
        exit = { exitCode: null, signal };
      });
      const wait = (ms: number) => Promise.race([new Promise((resolve) => setTimeout(resolve, ms)), stop]);
      try {
        yield* behaviour.lines ?? [];
        yield* await preamble(run, behaviour);
        for (const frame of run.frames) {
          yield `Fra:${frame} Mem:10.34M (Peak 11.45M) | Time:00:00.00 | Remaining:00:00.01 | Mem:0.80M, Peak:0.80M | Scene, ViewLayer | Sample 1/4`;
          await wait(behaviour.frameMs ?? 0);
          if (exit.signal) return;
          const file = framePath(run, frame);
          // Blender makes the output folder when it is not there.
          if (!behaviour.skipFiles) await fs.mkdir(run.outputDir!, { recursive: true });
          if (!behaviour.skipFiles) await fs.writeFile(file, pngBytes(behaviour.size?.width ?? 64, behaviour.size?.height ?? 48));
          yield `Saved: '${file}'`;
          yield ` Time: 00:00.02 (Saving: 00:00.01)`;
        }
        if (behaviour.hang) await stop;
        if (behaviour.quitMs) await wait(behaviour.quitMs);
      } finally {
        if (!exit.signal) yield "Blender quit";
        resolveExit(exit);
      }
    }
    const process: BlenderProcess = {
      lines: lines(),
      exited,
      kill: (signal) => {
        run.kills.push(signal);
        killed(signal);
      },
    };
    return process;
  };
  return { runner, runs };
}

function describe(argv: readonly string[]): FakeRun {
  const run: FakeRun = { argv, kind: "render", frames: [], outputDir: null, kills: [], interrupt: () => undefined, startedAt: Date.now() };
  const script = argv[argv.indexOf("--python-expr") + 1] ?? "";
  const value = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  if (script.includes("CACTUS_BLENDER")) run.kind = "detect";
  else if (script.includes("CACTUS_FACTS")) run.kind = "inspect";
  else if (script.includes("CACTUS_BENCHMARK")) run.kind = "benchmark";
  else if (script.includes("CACTUS_ENGINE")) run.kind = "engines";
  // The doctor's own scene script: no render, saves the .blend named after "--".
  else if (argv.includes("--") && !argv.includes("-o")) run.kind = "scene";
  const output = value("-o");
  if (output) run.outputDir = path.dirname(output);
  const single = value("-f");
  if (single !== undefined) run.frames = [Number(single)];
  else if (value("-s") !== undefined) {
    for (let frame = Number(value("-s")); frame <= Number(value("-e")); frame += 1) run.frames.push(frame);
  }
  return run;
}

async function preamble(run: FakeRun, behaviour: Behaviour): Promise<string[]> {
  if (run.kind === "detect") return [`CACTUS_BLENDER ${JSON.stringify({ version: "3.4.1", denoiser: behaviour.denoiser ?? false })}`];
  if (run.kind === "inspect") return [`CACTUS_FACTS ${JSON.stringify(behaviour.facts ?? defaultSceneFacts())}`];
  if (run.kind === "benchmark") return [`CACTUS_BENCHMARK ${JSON.stringify({ seconds: behaviour.benchmarkSeconds ?? [2, 2, 2, 2, 2] })}`];
  if (run.kind === "engines") return engineLines(run, behaviour);
  if (run.kind === "scene") {
    await fs.writeFile(run.argv[run.argv.length - 1], "BLENDER-v304");
    return [];
  }
  return ["Blender 3.4.1", `CACTUS ${JSON.stringify({ scene: "Scene", engine: "CYCLES", width: 64, height: 48, mutedFileOutputs: [] })}`];
}

/** agent/scripts/engines.py: a test frame per engine asked for, written where asked. */
async function engineLines(run: FakeRun, behaviour: Behaviour): Promise<string[]> {
  const job = JSON.parse(run.argv[run.argv.indexOf("--") + 1]) as { outputDir: string; engines: string[]; width: number; height: number };
  const lines: string[] = [];
  for (const engine of job.engines) {
    const ok = behaviour.engines?.includes(engine) ?? true;
    if (ok) await fs.writeFile(path.join(job.outputDir, `${engine}.png`), pngBytes(job.width, job.height));
    lines.push(`CACTUS_ENGINE ${JSON.stringify({ engine, ok, error: ok ? null : "Unable to open a display", seconds: 0.01 })}`);
  }
  return lines;
}

function framePath(run: FakeRun, frame: number): string {
  const format = run.argv[run.argv.indexOf("-F") + 1];
  const extension = { PNG: "png", JPEG: "jpg", OPEN_EXR: "exr" }[format] ?? "png";
  return path.join(run.outputDir!, `frame_${String(frame).padStart(5, "0")}.${extension}`);
}

/** A real (grey) PNG, so anything that reads it finds its size. */
export function pngBytes(width: number, height: number): Buffer {
  return encodePng(width, height, 0, greyRows(width, height, 0x80));
}
