import { calibrate, type FrameTime, type WorkerSpeed } from "../../domain/calibration";
import { addResults, emptyBins, estimate, etaSeconds, type Estimate, type FrameWu } from "../../domain/estimate";
import type { FrameRange } from "../../domain/frames";
import { frameAt, indexOf, planSamples } from "../../domain/sampling";

// A render farm in a few lines, for `npm run bench:estimate`: workers of known speeds take
// a render's frames in the order the server hands them out (the sample frames first; the
// rest once sampling is over, in frame order), each frame costs what its curve says, and
// every accepted frame goes through the server's own steps — its WU from the worker's
// speed as calibrated so far, the calibration and the estimate made again from the
// frames the server would read (the sample and the latest CALIBRATION_WINDOW frames).

/** As many frames as the server reads back to calibrate (db/sql/render-estimate.ts). */
export const CALIBRATION_WINDOW = 300;

export type CurveName = "flat" | "ramp" | "spike" | "step" | "noisy";
export const CURVES: readonly CurveName[] = ["flat", "ramp", "spike", "step", "noisy"];

/** Mulberry32: a small seeded generator, so every run of the bench is the same. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/**
 * WU of each frame along the timeline (x from 0 to 1), one shape per curve, its details
 * drawn from the seed. Every frame also varies a little (5 %) from its neighbours;
 * "noisy" varies by 20 % around a slow wave.
 */
export function costCurve(name: CurveName, frames: number, rand: () => number): number[] {
  const spikeAt = 0.45 + 0.1 * rand();
  const spikeWidth = 0.06 + 0.06 * rand();
  const stepAt = 0.3 + 0.4 * rand();
  const waves = 0.5 + rand();
  const phase = rand();
  const shape = (x: number): number => {
    switch (name) {
      case "flat":
        return 2;
      case "ramp":
        return 1 + 3 * x;
      case "spike":
        return 1.5 + 4 * Math.exp(-((x - spikeAt) ** 2) / (2 * spikeWidth ** 2));
      case "step":
        return x < stepAt ? 1.5 : 4;
      case "noisy":
        return 2 * (1 + 0.5 * Math.sin(2 * Math.PI * (waves * x + phase)));
    }
  };
  const jitter = name === "noisy" ? 0.2 : 0.05;
  return Array.from({ length: frames }, (_, i) => shape(frames === 1 ? 0 : i / (frames - 1)) * Math.exp(jitter * normal(rand)));
}

export interface SimulatedWorker {
  id: number;
  /** WU per minute it really renders this scene at. */
  speed: number;
  /** What its benchmark said: off by how this scene suits the machine, and by the benchmark's own noise. */
  benchmark: number;
}

/** `count` workers whose speeds spread 10×: the slowest 1 WUPM, the fastest 10. */
export function workersSpread10x(count: number, rand: () => number): SimulatedWorker[] {
  return Array.from({ length: count }, (_, i) => {
    const speed = i === 0 ? 1 : i === count - 1 ? 10 : 10 ** rand();
    return { id: i + 1, speed, benchmark: speed * Math.exp(0.15 * normal(rand)) * Math.exp(0.03 * normal(rand)) };
  });
}

export interface RenderRun {
  frames: number;
  sampled: number;
  /** The quote: the estimate once the last sample frame was in. */
  quote: Estimate;
  /** WU of all frames as the server stored them: what the render cost. */
  actualWu: number;
  /** Mean WU of the first `sampled` frames of the timeline × frames: what a farm without sampling would say. */
  naiveWu: number;
  /** At 10 % of the frames done: the ETA the estimate gave, and the minutes it really took from there. */
  etaAt10: { predictedMinutes: number; actualMinutes: number } | null;
  /** The final speeds: calibrated WUPM of each worker on this render. */
  speeds: Map<number, WorkerSpeed>;
}

interface Done {
  index: number;
  workerId: number;
  minutes: number;
  wu: number;
}

/** Renders a render of `costs.length` frames on these workers, re-estimating after every frame as the server does. */
export function simulateRender(costs: readonly number[], workers: readonly SimulatedWorker[], rand: () => number): RenderRun {
  const frames = costs.length;
  const range: FrameRange = { start: 1, end: frames, step: 1 };
  const sample = planSamples(range, { workers: workers.length }) ?? [];
  const sampleIndexes = sample.map((frame) => indexOf(range, frame));
  const rest = Array.from({ length: frames }, (_, i) => i).filter((i) => !sampleIndexes.includes(i));
  const benchmarks = new Map(workers.map((w) => [w.id, w.benchmark]));

  let bins = emptyBins(range);
  const done: Done[] = [];
  let speeds = calibrate([], benchmarks);
  let latest: Estimate | null = null;
  let quote: Estimate | null = null;
  let etaAt10: { predictedMinutes: number; at: number } | null = null;

  const queue = [...sampleIndexes];
  let sampling = sample.length > 0;
  const busy: { workerId: number; index: number; endsAt: number; minutes: number }[] = [];
  const freeAt = new Map(workers.map((w) => [w.id, 0]));
  let now = 0;
  const take = () => {
    for (const worker of workers) {
      if (busy.some((b) => b.workerId === worker.id) || queue.length === 0) continue;
      const index = queue.shift()!;
      const minutes = (costs[index] / worker.speed) * Math.exp(0.03 * normal(rand));
      const start = Math.max(now, freeAt.get(worker.id)!);
      busy.push({ workerId: worker.id, index, endsAt: start + minutes, minutes });
    }
  };
  if (!sampling) queue.push(...rest);
  take();
  while (busy.length > 0) {
    busy.sort((a, b) => a.endsAt - b.endsAt);
    const finished = busy.shift()!;
    now = finished.endsAt;
    freeAt.set(finished.workerId, now);
    const wu = finished.minutes * (speeds.get(finished.workerId)?.wupm ?? 0);
    done.push({ index: finished.index, workerId: finished.workerId, minutes: finished.minutes, wu });
    bins = addResults(range, bins, [{ frame: frameAt(range, finished.index), wu }]);

    const window = calibrationWindow(done, new Set(sampleIndexes));
    speeds = calibrate(window, benchmarks);
    if (sampling) {
      // While sampling, the sample frames' WU follow the calibration: it is made from them.
      for (const d of done) d.wu = d.minutes * (speeds.get(d.workerId)?.wupm ?? 0);
      bins = addResults(range, emptyBins(range), done.map((d) => ({ frame: frameAt(range, d.index), wu: d.wu })));
    }
    const closeFrames: FrameWu[] = window.map((t) => ({ frame: frameAt(range, t.index), wu: t.minutes * (speeds.get(t.workerId)?.wupm ?? 0) }));
    latest = estimate({ range, bins, sample, closeFrames });

    if (sampling && done.length === sample.length) {
      sampling = false;
      quote = latest;
      queue.push(...rest);
    }
    if (!sampling && !etaAt10 && done.length >= Math.ceil(frames / 10) && latest) {
      const eta = etaSeconds(latest.remainingWu, workers.map((w) => speeds.get(w.id)?.wupm ?? 0));
      etaAt10 = { predictedMinutes: (eta ?? 0) / 60, at: now };
    }
    take();
  }

  const actualWu = done.reduce((sum, d) => sum + d.wu, 0);
  const firstFrames = [...done].sort((a, b) => a.index - b.index).slice(0, Math.max(1, sample.length));
  const naiveWu = (firstFrames.reduce((sum, d) => sum + d.wu, 0) / firstFrames.length) * frames;
  return {
    frames,
    sampled: sample.length,
    quote: quote ?? latest!,
    actualWu,
    naiveWu,
    etaAt10: etaAt10 && { predictedMinutes: etaAt10.predictedMinutes, actualMinutes: now - etaAt10.at },
    speeds,
  };
}

/** What the server calibrates from: the sample frames and the latest frames of the timeline done. */
function calibrationWindow(done: readonly Done[], sample: ReadonlySet<number>): FrameTime[] {
  const latest = [...done].filter((d) => !sample.has(d.index)).sort((a, b) => b.index - a.index).slice(0, CALIBRATION_WINDOW);
  return [...done.filter((d) => sample.has(d.index)), ...latest].map(({ index, workerId, minutes }) => ({ index, workerId, minutes }));
}

