import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { describeBenchmark, machineOf, runBenchmark } from "../agent/benchmark";
import { detectBlender } from "../agent/blender";
import type { RenderEstimateDto } from "../contract";
import { BLENDER, makeScene } from "../tests/helpers/scenes";
import { callApi } from "./lib/api";
import { type AgentProcess, createWorker, ensureProject, getRender, signIn, startAgent, uploadBlend, waitForInspection } from "./lib/farm";
import { runBench } from "./lib/run";
import { buildServer, startServerProcess, type ServerProcess } from "./lib/server-process";
import { CURVES, costCurve, random, simulateRender, workersSpread10x, type CurveName, type RenderRun } from "./lib/synthetic-farm";

// `npm run bench:estimate`: how right the quote is (docs/design.md §3, decision 013).
// Synthetic farms — five cost curves, workers whose speeds spread 10×, ≥ 20 seeds each —
// render through the server's own sampling, calibration and estimate (domain/), and it
// prints the total-WU error of the quote (after sampling) next to the naive estimate's
// (the mean of the first N frames × the frame count, N = the frames sampled) and the ETA
// error at 10 % done. With `-- --real`: a real scene whose cost grows along the timeline,
// rendered whole by two agents with different thread counts (the quote next to what it
// cost), and the benchmark's stability over 5 runs.

const GOAL_ERROR = 0.05;
const GOAL_SAMPLED = 0.1;
const GOAL_VS_NAIVE = 1 / 3;
const GOAL_CV = 0.05;

const { values: flags } = parseArgs({
  options: {
    seeds: { type: "string", default: "20" },
    frames: { type: "string", default: "240" },
    workers: { type: "string", default: "3" },
    real: { type: "boolean", default: false },
    "real-frames": { type: "string", default: "48" },
    runs: { type: "string", default: "5" },
  },
});
const SEEDS = Number(flags.seeds);
const FRAMES = Number(flags.frames);
const WORKERS = Number(flags.workers);
const REAL_FRAMES = Number(flags["real-frames"]);
const RUNS = Number(flags.runs);
if (![SEEDS, FRAMES, WORKERS, REAL_FRAMES, RUNS].every((value) => Number.isInteger(value) && value >= 1)) {
  throw new Error("usage: npm run bench:estimate -- [--seeds 20] [--frames 240] [--workers 3] [--real] [--real-frames 48] [--runs 5]");
}

const pct = (value: number) => `${(value * 100).toFixed(1)} %`;
const verdict = (ok: boolean) => (ok ? "PASS" : "MISS");
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

interface Row {
  name: string;
  runs: RenderRun[];
}

function synthetic(): Row[] {
  return CURVES.map((curve: CurveName, curveIndex) => ({
    name: curve,
    runs: Array.from({ length: SEEDS }, (_, seed) => {
      const rand = random(1 + seed * 7919 + curveIndex * 104729);
      return simulateRender(costCurve(curve, FRAMES, rand), workersSpread10x(WORKERS, rand), rand);
    }),
  }));
}

function reportSynthetic(rows: Row[]): void {
  const errorOf = (run: RenderRun) => Math.abs(run.quote.totalWu / run.actualWu - 1);
  const naiveOf = (run: RenderRun) => Math.abs(run.naiveWu / run.actualWu - 1);
  const etaOf = (run: RenderRun) => (run.etaAt10 ? Math.abs(run.etaAt10.predictedMinutes / run.etaAt10.actualMinutes - 1) : NaN);
  const inBand = (run: RenderRun) => run.actualWu >= run.quote.band.low && run.actualWu <= run.quote.band.high;
  const line = (name: string, runs: RenderRun[]) => {
    const errors = runs.map(errorOf);
    const naive = runs.map(naiveOf);
    const eta = runs.map(etaOf).filter((value) => !Number.isNaN(value));
    const sampled = runs.reduce((sum, run) => sum + run.sampled, 0) / runs.reduce((sum, run) => sum + run.frames, 0);
    return [
      name,
      pct(quantile(errors, 0.5)),
      pct(quantile(errors, 0.9)),
      pct(quantile(naive, 0.5)),
      pct(quantile(naive, 0.9)),
      pct(sampled),
      pct(quantile(eta, 0.5)),
      pct(quantile(eta, 0.9)),
      `${runs.filter(inBand).length}/${runs.length}`,
    ];
  };
  const all = rows.flatMap((row) => row.runs);
  const table = [
    ["curve", "quote median", "p90", "naive median", "p90", "sampled", "ETA@10% median", "p90", "in band"],
    ...rows.map((row) => line(row.name, row.runs)),
    line("overall", all),
  ];
  const widths = table[0].map((_, column) => Math.max(...table.map((row) => row[column].length)));
  console.log(
    `\nSynthetic farms: ${FRAMES} frames, ${WORKERS} workers whose speeds spread 10× (benchmarks off by ~15 % on the scene), ` +
      `${SEEDS} seeds a curve. Error of the total WU after sampling, against what the render cost (the WU stored per frame).\n`,
  );
  for (const row of table) console.log(`  ${row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join("  ")}`);
  const median = quantile(all.map(errorOf), 0.5);
  const naive = quantile(all.map(naiveOf), 0.5);
  const sampled = all.reduce((sum, run) => sum + run.sampled, 0) / all.reduce((sum, run) => sum + run.frames, 0);
  console.log("");
  console.log(`  median error after sampling    ${pct(median).padStart(7)}  goal ≤ ${pct(GOAL_ERROR)}  ${verdict(median <= GOAL_ERROR)}`);
  console.log(`  frames sampled                 ${pct(sampled).padStart(7)}  goal ≤ ${pct(GOAL_SAMPLED)}  ${verdict(sampled <= GOAL_SAMPLED)}`);
  console.log(
    `  vs naive (median ${pct(naive)})      ${(median / naive).toFixed(3).padStart(7)}  goal ≤ 0.333   ${verdict(median <= naive * GOAL_VS_NAIVE)}`,
  );
  for (const row of rows) {
    const curveMedian = quantile(row.runs.map(errorOf), 0.5);
    if (curveMedian > GOAL_ERROR) {
      const why =
        row.name === "noisy"
          ? "its frames vary 20 % each, and a mean of the few frames sampled is only that sure"
          : "a change between two sample points can be anywhere between them";
      console.log(`  note: ${row.name}'s median is ${pct(curveMedian)}: ${why} (the band held the total in ${row.runs.filter(inBand).length} of ${row.runs.length}).`);
    }
  }
}

const ADMIN = { username: "bench", password: randomBytes(12).toString("hex") };

interface Running {
  server?: ServerProcess;
  agents: AgentProcess[];
}

/** A real scene whose Cycles samples grow 24× along the timeline, rendered whole on two agents (1 and 2 threads). */
async function real(runDir: string, running: Running): Promise<void> {
  console.error(`Making the scene (${REAL_FRAMES} frames, 160×90, Cycles samples 4 → 96 along the timeline) with Blender…`);
  const scene = await makeScene({ frames: REAL_FRAMES, width: 160, height: 90, samples: 4, samplesAtEnd: 96, path: path.join(runDir, "growing.blend") });
  await buildServer();
  running.server = await startServerProcess({ dataDir: path.join(runDir, "data"), admin: ADMIN, detached: true });
  const server = running.server.url;
  const token = await signIn(server, ADMIN, "bench");
  const project = await ensureProject(server, token, "bench");
  const archive = await uploadBlend(server, token, project.id, scene);
  const threads = [1, 2];
  const workers = await Promise.all(threads.map((_, index) => createWorker(server, token, `bench-${index + 1}`)));
  // One after the other: each measures its benchmark at its first start, alone on the machine.
  for (const [index, worker] of workers.entries()) {
    console.error(`Starting agent ${index + 1} (${threads[index]} thread${threads[index] > 1 ? "s" : ""}); it measures its WUPM first…`);
    const agent = startAgent({ server, token: worker.token, cacheDir: path.join(runDir, `agent-${index + 1}`), threads: threads[index], detached: true });
    running.agents.push(agent);
    await waitFor(() => /Benchmark: |benchmark did not run/.test(agent.output()), 300_000, () => agent.output());
    console.error(`  ${agent.output().match(/Benchmark: .*/)?.[0] ?? agent.output().slice(-400)}`);
  }
  await waitForInspection(server, token, archive.id, { timeoutMs: 60_000 });
  const render = await callApi<{ id: number }>(server, "POST", "/renders", token, { archiveId: archive.id, frames: `1-${REAL_FRAMES}`, price: 1 });
  console.error(`Render ${render.id}: ${REAL_FRAMES} frames, sampled first, then all of them…`);
  const estimateOf = () => callApi<RenderEstimateDto>(server, "GET", `/renders/${render.id}/estimate`, token);
  await waitFor(async () => (await estimateOf()).quote !== null, 600_000);
  const quoted = await estimateOf();
  await waitFor(async () => ["done", "failed", "cancelled"].includes((await getRender(server, token, render.id)).status), 1_800_000);
  const final = await estimateOf();
  if (final.status !== "done") throw new Error(`Render ${render.id} ended ${final.status}.`);
  const speeds = await callApi<{ workers: { name: string; wupm: number | null }[] }>(server, "GET", "/workers", token);
  const quote = quoted.quote!;
  const actual = final.estimate!.totalWu;
  const first = final.curve[0].wu;
  const last = final.curve[final.curve.length - 1].wu;
  console.log(
    `\nReal render: ${REAL_FRAMES} frames of a 160×90 Cycles scene whose samples go 4 → 96 (a frame's WU ${first.toFixed(3)} → ${last.toFixed(3)}), ` +
      `on 2 agents of 1 and 2 threads (benchmarks: ${speeds.workers.map((w) => `${w.name} ${w.wupm?.toFixed(2)} WUPM`).join(", ")}).\n`,
  );
  console.log(`  sampled              ${quoted.sample.frames} frames (${pct(quoted.sample.frames / REAL_FRAMES)})`);
  console.log(`  quoted total         ${quote.totalWu.toFixed(3)} WU  (band ${quote.band.low.toFixed(3)}–${quote.band.high.toFixed(3)})`);
  console.log(`  actual total         ${actual.toFixed(3)} WU  (the WU stored per frame, summed)`);
  console.log(`  error                ${pct(Math.abs(quote.totalWu / actual - 1))}; actual in the band: ${actual >= quote.band.low && actual <= quote.band.high ? "yes" : "no"}`);
}

/** The benchmark's stability: RUNS runs on all cores, one after the other. */
async function stability(): Promise<void> {
  const { version } = await detectBlender(BLENDER);
  const machine = machineOf(version, os.availableParallelism());
  console.error(`Running the benchmark ${RUNS} times on ${machine.threads} threads…`);
  const runs = [];
  for (let run = 0; run < RUNS; run += 1) {
    runs.push(await runBenchmark({ blender: BLENDER, machine }));
    console.error(`  ${describeBenchmark(runs[run])}`);
  }
  const wupms = runs.map((run) => run.wupm);
  const mean = wupms.reduce((a, b) => a + b, 0) / wupms.length;
  const sd = Math.sqrt(wupms.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (wupms.length - 1 || 1));
  const cv = sd / mean;
  const walls = runs.map((run) => run.wallSeconds);
  console.log(`\nWUPM stability: ${RUNS} benchmark runs, Blender ${version}, ${machine.cpuModel}, ${machine.threads} threads.\n`);
  console.log(`  WUPM                 ${wupms.map((w) => w.toFixed(3)).join(", ")}`);
  console.log(`  mean                 ${mean.toFixed(3)} WUPM (one render of the reference frame ${(60 / mean).toFixed(2)} s)`);
  console.log(`  coefficient of var.  ${pct(cv)}  goal ≤ ${pct(GOAL_CV)}  ${verdict(cv <= GOAL_CV)}`);
  console.log(`  wall time of a run   ${Math.min(...walls).toFixed(1)}–${Math.max(...walls).toFixed(1)} s (goal 5–15 s on a modest CPU)`);
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, detail?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs / 1000} s.${detail ? `\n${detail()}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const running: Running = { agents: [] };
runBench({
  name: "estimate",
  stops: "the agents and the server",
  run: async (runDir) => {
    console.error(`Simulating ${CURVES.length} curves × ${SEEDS} seeds…`);
    reportSynthetic(synthetic());
    if (!flags.real) {
      console.log("\n(`npm run bench:estimate -- --real` adds a real render on two agents and the benchmark's stability.)");
      return;
    }
    await real(runDir, running);
    for (const agent of running.agents) await agent.stop();
    await running.server?.stop();
    running.server = undefined;
    running.agents = [];
    await stability();
    console.log(`\n${os.cpus().length} cores, load ${os.loadavg().map((value) => value.toFixed(1)).join(" ")}: figures on a busy machine move.`);
  },
  stop: async () => {
    await Promise.all(running.agents.map((agent) => agent.stop()));
    await running.server?.stop();
  },
});
