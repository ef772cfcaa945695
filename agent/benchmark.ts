import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { BenchmarkMachine, BenchmarkRequest } from "../contract";
import { type BlenderRunner, benchmarkArgv, runBlender } from "./blender";

// The agent's benchmark (docs/design.md §2, decision 013): one WU is one render of the
// reference frame agent/scripts/benchmark.py builds, and a worker's WUPM is how many of
// them it renders a minute. Measured on first start, when Blender, the CPU or the thread
// count changed since the last one, and on `cactus-agent benchmark`. Each run is kept on
// the machine (benchmark.json in the cache dir), so a new worker token on the same
// machine, or a restart, sends it again instead of measuring again.

export interface BenchmarkRun extends BenchmarkRequest {
  measuredAt: string;
}

const SAVED = "benchmark.json";

/** This machine as a benchmark sees it: Blender's version, the CPU model and the render threads. */
export function machineOf(blenderVersion: string, threads: number): BenchmarkMachine {
  const cpuModel = (os.cpus()[0]?.model ?? "unknown CPU").trim().slice(0, 200) || "unknown CPU";
  return { blenderVersion, cpuModel, threads };
}

export const sameMachine = (a: BenchmarkMachine | null, b: BenchmarkMachine) =>
  a !== null && a.blenderVersion === b.blenderVersion && a.cpuModel === b.cpuModel && a.threads === b.threads;

/** Renders the reference frame in one Blender, several times; WUPM from the median render. */
export async function runBenchmark({
  blender,
  machine,
  runner,
  signal,
}: {
  blender: string;
  machine: BenchmarkMachine;
  runner?: BlenderRunner;
  signal?: AbortSignal;
}): Promise<BenchmarkRun> {
  const started = Date.now();
  const result = await runBlender({ blender, argv: benchmarkArgv(machine.threads), runner, signal });
  const seconds = (result.benchmark as { seconds?: unknown } | null)?.seconds;
  if (!result.ok || !Array.isArray(seconds) || seconds.length === 0 || !seconds.every((s) => typeof s === "number" && s > 0)) {
    const why = result.errors.join(" ") || result.logTail.slice(-5).join(" | ");
    throw new Error(`The benchmark did not run: ${why}`);
  }
  const sorted = [...(seconds as number[])].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  return {
    ...machine,
    wupm: 60 / median,
    seconds: median,
    renders: sorted.length,
    spread: (sorted[sorted.length - 1] - sorted[0]) / median,
    wallSeconds: (Date.now() - started) / 1000,
    measuredAt: new Date().toISOString(),
  };
}

/** The benchmark this machine last measured, when there is one. */
export async function readSavedBenchmark(cacheDir: string): Promise<BenchmarkRun | null> {
  try {
    const saved = JSON.parse(await fs.readFile(path.join(cacheDir, SAVED), "utf8")) as BenchmarkRun;
    return typeof saved.wupm === "number" && saved.wupm > 0 && typeof saved.cpuModel === "string" ? saved : null;
  } catch {
    return null;
  }
}

export async function saveBenchmark(cacheDir: string, run: BenchmarkRun): Promise<void> {
  await fs.mkdir(cacheDir, { recursive: true, mode: 0o700 });
  const file = path.join(cacheDir, SAVED);
  await fs.writeFile(`${file}.tmp`, `${JSON.stringify(run, null, 2)}\n`);
  await fs.rename(`${file}.tmp`, file);
}

/** "1 thread", "2 threads". */
export function threadsText(threads: number): string {
  return `${threads} thread${threads === 1 ? "" : "s"}`;
}

/** "3.4 WUPM (one render 17.6 s, spread 4 %, 5 renders in 91 s)". */
export function describeBenchmark(run: BenchmarkRun): string {
  return (
    `${run.wupm.toFixed(2)} WUPM (one render of the reference frame ${run.seconds.toFixed(2)} s, ` +
    `spread ${(run.spread * 100).toFixed(1)} % over ${run.renders} renders, ${run.wallSeconds.toFixed(1)} s in all; ` +
    `Blender ${run.blenderVersion}, ${run.cpuModel}, ${threadsText(run.threads)})`
  );
}

export interface EnsureBenchmark {
  blender: string;
  cacheDir: string;
  machine: BenchmarkMachine;
  /** What the server holds for this worker (its hello's answer). */
  server: (BenchmarkMachine & { wupm: number }) | null;
  send: (run: BenchmarkRequest) => Promise<unknown>;
  runner?: BlenderRunner;
  signal?: AbortSignal;
  log: (message: string) => void;
}

/**
 * Makes sure the server has a benchmark of this machine as it is now: nothing to do when
 * it has; this machine's saved one when that fits; else a new run (saved, then sent).
 */
export async function ensureBenchmark({ blender, cacheDir, machine, server, send, runner, signal, log }: EnsureBenchmark): Promise<void> {
  if (sameMachine(server, machine)) return;
  let run = await readSavedBenchmark(cacheDir);
  if (!sameMachine(run, machine)) {
    log(
      server
        ? `This machine changed since its last benchmark (Blender ${server.blenderVersion}, ${threadsText(server.threads)}, ${server.cpuModel}): measuring WUPM again…`
        : "No benchmark of this worker yet: measuring its WUPM (a few renders of the reference frame)…",
    );
    run = await runBenchmark({ blender, machine, runner, signal });
    await saveBenchmark(cacheDir, run);
  }
  const { measuredAt: _measuredAt, ...request } = run!;
  await send(request);
  log(`Benchmark: ${describeBenchmark(run!)}.`);
}
