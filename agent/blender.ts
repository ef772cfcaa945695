import { readFileSync } from "node:fs";
import { access } from "node:fs/promises";
import path from "node:path";
import type { RenderOptionsDto } from "../contract/renders";
import { FRAME_EXTENSIONS, type OutputFormat } from "../domain/output-format";
import { type BlenderEvent, type RenderSettings, parseBlenderLine } from "./blender-output";
import { type BlenderFiles, NO_SANDBOX, sandboxedRunner } from "./sandbox";

export { BlenderProgress, parseBlenderLine, type BlenderEvent, type RenderSettings } from "./blender-output";

export type { OutputFormat };

// The agent's bundle (scripts/build-bundles.ts, what the farm serves to install) carries
// the scripts inside it; run from the repository, they are read beside this file.
declare const CACTUS_AGENT_SCRIPTS: Record<string, string> | undefined;
function readScript(name: string): string {
  if (typeof CACTUS_AGENT_SCRIPTS === "undefined") return readFileSync(new URL(`./scripts/${name}`, import.meta.url), "utf8");
  const script = CACTUS_AGENT_SCRIPTS[name];
  if (script === undefined) throw new Error(`This cactus-agent bundle lacks its script ${name}: install it again from the farm.`);
  return script;
}

/** The agent's own Python, the only code Blender runs: a file's scripts never do. */
export const scripts = {
  render: readScript("common.py") + readScript("render.py"),
  inspect: readScript("common.py") + readScript("inspect.py"),
  detect: readScript("detect.py"),
  benchmark: readScript("benchmark.py"),
  engines: readScript("engines.py"),
} as const;

/** Blender on its factory settings, with the file's embedded scripts and drivers off. */
const SAFE_START = ["-b", "--factory-startup", "--disable-autoexec"] as const;

export interface RenderJob {
  blendFile: string;
  /** The archive's folder, the only files Blender may read in its sandbox; default the .blend's folder. */
  archiveDir?: string;
  outputDir: string;
  format: OutputFormat;
  frameStart: number;
  frameEnd: number;
  /** Render threads; 0 lets Blender use every core. */
  threads: number;
  script?: string;
  /** What the render changes of the scene (the claim's `options`); passed to the script as data. */
  options?: RenderOptions | null;
}

export type RenderOptions = RenderOptionsDto;

/**
 * The command line of a render. Blender applies its arguments in order, so the -o, -F,
 * -x and frame arguments after --python-expr win over anything the script sets. A scene
 * the render asks for is Blender's own -S, before the script (which checks it took); the
 * other options follow "--", where Blender stops reading, as JSON the script reads: data
 * the server sent, never code.
 */
export function blenderArgv(job: RenderJob): string[] {
  const { blendFile, outputDir, format, frameStart, frameEnd, threads, script = scripts.render, options = null } = job;
  checkPath("blend file", blendFile);
  checkPath("output directory", outputDir);
  if (outputDir.includes("#")) throw new Error(`Blender reads # in ${outputDir} as a frame number: use another directory.`);
  if (!Number.isInteger(frameStart) || !Number.isInteger(frameEnd) || frameEnd < frameStart) {
    throw new Error(`Frames ${frameStart}-${frameEnd} are not a range of whole frames.`);
  }
  if (!Number.isInteger(threads) || threads < 0) throw new Error(`Threads must be a whole number ≥ 0, not ${threads}.`);
  const frames =
    frameStart === frameEnd ? ["-f", String(frameStart)] : ["-s", String(frameStart), "-e", String(frameEnd), "-a"];
  const overrides = Object.fromEntries(Object.entries(options ?? {}).filter(([, value]) => value !== null && value !== undefined));
  return [
    ...SAFE_START,
    blendFile,
    ...(options?.scene ? ["-S", options.scene] : []),
    "--python-expr",
    script,
    "-o",
    path.join(outputDir, "frame_#####"),
    "-F",
    format,
    "-x",
    "1",
    "-t",
    String(threads),
    ...frames,
    ...(Object.keys(overrides).length > 0 ? ["--", JSON.stringify(overrides)] : []),
  ];
}

/** The command line of the benchmark (agent/scripts/benchmark.py): -t first, so its renders use those threads. */
export function benchmarkArgv(threads: number): string[] {
  if (!Number.isInteger(threads) || threads < 0) throw new Error(`Threads must be a whole number ≥ 0, not ${threads}.`);
  return [...SAFE_START, "-t", String(threads), "--python-expr", scripts.benchmark];
}

/** The command line that prints a file's scene facts (agent/scripts/inspect.py) and quits. */
export function inspectArgv(blendFile: string): string[] {
  checkPath("blend file", blendFile);
  return [...SAFE_START, blendFile, "--python-expr", scripts.inspect];
}

// An absolute path cannot be mistaken for an option; Blender reads "//" as relative to the file.
function checkPath(what: string, value: string) {
  if (!path.isAbsolute(value) || value.startsWith("//")) {
    throw new Error(`The ${what} must be an absolute path, not ${value}.`);
  }
}

/** The files a render job leaves behind: Blender pads the frame like C's %05d. */
export function framePaths({ outputDir, format, frameStart, frameEnd }: Pick<RenderJob, "outputDir" | "format" | "frameStart" | "frameEnd">) {
  const paths: string[] = [];
  for (let frame = frameStart; frame <= frameEnd; frame += 1) {
    const number = frame < 0 ? `-${String(-frame).padStart(4, "0")}` : String(frame).padStart(5, "0");
    paths.push(path.join(outputDir, `frame_${number}.${FRAME_EXTENSIONS[format]}`));
  }
  return paths;
}

export interface BlenderProcess {
  /** Every line Blender prints, stdout and stderr interleaved. */
  lines: AsyncIterable<string>;
  exited: Promise<{ exitCode: number | null; signal: string | null; startError?: string }>;
  kill(signal: NodeJS.Signals): void;
}
/** Starts Blender; `files` is what it may see besides itself (agent/sandbox.ts). */
export type BlenderRunner = (blender: string, argv: readonly string[], files?: BlenderFiles) => BlenderProcess;

/** Without a runner: no sandbox, but never the agent's environment (the agent passes its sandboxed runner). */
const unsandboxed = sandboxedRunner(NO_SANDBOX);

export interface BlenderRun {
  blender: string;
  argv: string[];
  /** What Blender may read and write besides itself, when it runs sandboxed. */
  files?: BlenderFiles;
  /** Files that must exist for the run to count as a success (see framePaths). */
  expectedFiles?: string[];
  onEvent?: (event: BlenderEvent) => void;
  /** Aborting stops Blender: SIGTERM, then SIGKILL after killGraceMs. */
  signal?: AbortSignal;
  runner?: BlenderRunner;
  killGraceMs?: number;
}

export interface BlenderResult {
  /** Exit 0, every expected file written, not cancelled. */
  ok: boolean;
  exitCode: number | null;
  signal: string | null;
  cancelled: boolean;
  /** Blender's `Error:` lines, then what the agent found wrong (exit code, missing files). */
  errors: string[];
  /** The last LOG_TAIL_LINES lines Blender printed. */
  logTail: string[];
  savedFiles: string[];
  /** Render time of each saved file, saving included, from Blender's ` Time:` line. */
  renderTimesMs: Record<string, number>;
  settings: RenderSettings | null;
  facts: unknown;
  blenderInfo: unknown;
  benchmark: unknown;
  /** agent/scripts/engines.py's test frames, one per engine. */
  engineTests: Extract<BlenderEvent, { kind: "engineTest" }>["test"][];
}

export const LOG_TAIL_LINES = 200;
const MAX_ERRORS = 50;

export async function runBlender(run: BlenderRun): Promise<BlenderResult> {
  const { blender, argv, files, expectedFiles = [], onEvent, signal, runner = unsandboxed, killGraceMs = 5000 } = run;
  const result: BlenderResult = {
    ok: false,
    exitCode: null,
    signal: null,
    cancelled: false,
    errors: [],
    logTail: [],
    savedFiles: [],
    renderTimesMs: {},
    settings: null,
    facts: null,
    blenderInfo: null,
    benchmark: null,
    engineTests: [],
  };
  if (signal?.aborted) return { ...result, cancelled: true, errors: ["Cancelled before Blender started."] };

  const child = runner(blender, argv, files);
  let forceKill: NodeJS.Timeout | undefined;
  const stop = () => {
    if (forceKill) return;
    child.kill("SIGTERM");
    forceKill = setTimeout(() => child.kill("SIGKILL"), killGraceMs);
  };
  const cancel = () => {
    result.cancelled = true;
    stop();
  };
  signal?.addEventListener("abort", cancel, { once: true });

  // The output is read to its end whatever happens, or a full pipe would stall Blender.
  let callbackError: { error: unknown } | null = null;
  try {
    for await (const line of child.lines) {
      result.logTail.push(line);
      if (result.logTail.length > LOG_TAIL_LINES) result.logTail.shift();
      const event = parseBlenderLine(line);
      if (!event) continue;
      record(result, event);
      try {
        onEvent?.(event);
      } catch (error) {
        callbackError ??= { error };
        stop();
      }
    }
  } catch {
    // The output ends with the process; how it ended is what `exited` says.
  }
  const exit = await child.exited;
  signal?.removeEventListener("abort", cancel);
  clearTimeout(forceKill);
  if (callbackError) throw callbackError.error;

  result.exitCode = exit.exitCode;
  result.signal = exit.signal;
  if (exit.startError) result.errors.push(`Could not start Blender (${blender}): ${exit.startError}`);
  const missing = await missingFiles(expectedFiles);
  result.ok = !result.cancelled && exit.exitCode === 0 && missing.length === 0;
  if (!result.ok) result.errors.push(...whyItFailed(result, missing));
  return result;
}

/** Renders a job: its argv, and success only when all its frames are on disk. */
export function renderFrames({ job, ...run }: Omit<BlenderRun, "argv" | "expectedFiles" | "files"> & { job: RenderJob }) {
  const files = { readOnly: [job.archiveDir ?? path.dirname(job.blendFile)], writable: [job.outputDir] };
  return runBlender({ ...run, argv: blenderArgv(job), files, expectedFiles: framePaths(job) });
}

function record(result: BlenderResult, event: BlenderEvent) {
  if (event.kind === "saved") result.savedFiles.push(event.path);
  else if (event.kind === "frameTime" && result.savedFiles.length > 0) {
    result.renderTimesMs[result.savedFiles[result.savedFiles.length - 1]] = event.ms;
  } else if (event.kind === "error" && result.errors.length < MAX_ERRORS) result.errors.push(event.message);
  else if (event.kind === "settings") result.settings = event.settings;
  else if (event.kind === "facts") result.facts = event.facts;
  else if (event.kind === "blender") result.blenderInfo = event.info;
  else if (event.kind === "benchmark") result.benchmark = event.run;
  else if (event.kind === "engineTest") result.engineTests.push(event.test);
}

function whyItFailed(result: BlenderResult, missing: string[]): string[] {
  if (result.cancelled) return ["Cancelled: Blender was stopped."];
  const reasons: string[] = [];
  if (result.signal) reasons.push(`Blender was killed by ${result.signal}.`);
  else if (result.exitCode !== 0 && result.exitCode !== null) reasons.push(`Blender exited with code ${result.exitCode}.`);
  if (missing.length > 0) {
    reasons.push(`Blender did not write ${missing.map((file) => path.basename(file)).join(", ")}.`);
  }
  return reasons;
}

async function missingFiles(files: string[]): Promise<string[]> {
  const found = await Promise.all(files.map((file) => access(file).then(() => true, () => false)));
  return files.filter((_, index) => !found[index]);
}

export interface BlenderInfo {
  /** e.g. "3.4.1" */
  version: string;
  /** Cycles was built with OpenImageDenoise, so scenes that denoise can render here. */
  hasDenoiser: boolean;
  /** The engines that rendered a test frame here (agent/engines.ts); undefined: not tested. */
  engines?: string[];
}

/** What the Blender at this path is, by running it (about a second). */
export async function detectBlender(
  blender: string,
  { runner = unsandboxed, signal }: { runner?: BlenderRunner; signal?: AbortSignal } = {},
): Promise<BlenderInfo> {
  const result = await runBlender({ blender, argv: [...SAFE_START, "--python-expr", scripts.detect], runner, signal });
  const info = result.blenderInfo as { version?: unknown; denoiser?: unknown } | null;
  if (!result.ok || typeof info?.version !== "string") {
    const why = result.errors.join(" ") || result.logTail.slice(-5).join(" ");
    throw new Error(`${blender} does not run as Blender: ${why} Set CACTUS_BLENDER to Blender's path.`);
  }
  return { version: info.version, hasDenoiser: info.denoiser === true };
}
