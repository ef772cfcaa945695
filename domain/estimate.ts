import { countFrames, type FrameRange } from "./frames";
import { CLOSE_FRAMES } from "./calibration";
import { frameAt, indexOf } from "./sampling";

// The estimate (docs/design.md §3): a pure function of (results so far, worker speeds,
// frame range) → the WU-per-frame curve across the timeline, the total WU with a band,
// and the remaining WU the ETA divides. Decision 013.
//
// Results so far are kept as bins: the timeline cut into at most MAX_BINS runs of
// frames, each with how many of its frames have a WU and their sum. A render of 100 000
// frames is 200 bins, so each frame accepted costs the same to re-estimate whatever the
// render's length (the server adds each new result to its bins: addResults).
//
// The curve goes through the mean WU of each bin that has results (the sample points
// first, then the frames as they finish) and is linear between; frames with no result
// are predicted from it. The band adds, for each frame predicted, how far the curve
// could be wrong there: half the difference between the two measured points around it
// (a step between them could be anywhere), and the noise of those points (the spread of
// close frames' WU, shrinking with the frames measured there) — summed over a stretch
// between two measured points, whose frames are wrong together, and in quadrature over
// stretches, which are wrong independently.

export const MAX_BINS = 200;
/** How many standard deviations of noise the band allows either way. */
const BAND_SIGMAS = 2;
/** The noise of a frame's WU (relative) when no two close frames say more. */
const DEFAULT_NOISE = 0.1;

export interface Bin {
  /** Frames of the range in it. */
  frames: number;
  /** Frames with a result that has a WU. */
  measured: number;
  /** Their WU, summed. */
  wu: number;
  /** Their positions in the range (0-based), summed: where the bin's measured point is. */
  indexSum: number;
}

export interface FrameWu {
  frame: number;
  wu: number;
}

/** The bins of a range: frames [b·width, (b+1)·width) of the range in bin b. */
export function binWidth(range: FrameRange): number {
  return Math.ceil(countFrames(range) / MAX_BINS);
}

export function emptyBins(range: FrameRange): Bin[] {
  const frames = countFrames(range);
  const width = binWidth(range);
  return Array.from({ length: Math.ceil(frames / width) }, (_, bin) => ({
    frames: Math.min(width, frames - bin * width),
    measured: 0,
    wu: 0,
    indexSum: 0,
  }));
}

/** The bins with these results added (each frame once: the caller adds each result once). */
export function addResults(range: FrameRange, bins: readonly Bin[], results: readonly FrameWu[]): Bin[] {
  const next = bins.map((bin) => ({ ...bin }));
  const width = binWidth(range);
  for (const { frame, wu } of results) {
    const index = indexOf(range, frame);
    const bin = next[Math.floor(index / width)];
    if (!bin || !(wu >= 0)) continue;
    bin.measured += 1;
    bin.wu += wu;
    bin.indexSum += index;
  }
  return next;
}

export interface CurvePoint {
  /** The frame (a bin of several frames: its middle frame). */
  frame: number;
  /** WU per frame there: measured where frames have results, else read off the curve. */
  wu: number;
  /** The band of that WU: where the curve could be, given what was measured around it. */
  low: number;
  high: number;
  /** A sample frame is among its frames. */
  sampled: boolean;
  /** All its frames have results. */
  done: boolean;
}

export interface Estimate {
  totalWu: number;
  band: { low: number; high: number };
  /** WU of the frames with results. */
  doneWu: number;
  /** WU still to render (total − done), with its band: what the ETA divides. */
  remainingWu: number;
  framesMeasured: number;
  frames: number;
  curve: CurvePoint[];
}

export interface EstimateInput {
  range: FrameRange;
  bins: readonly Bin[];
  /** The render's sample frames (marked on the curve). */
  sample: readonly number[];
  /** WU of recent close frames (any workers): their spread is the noise of one frame's WU. */
  closeFrames?: readonly FrameWu[];
}

interface Knot {
  index: number;
  wu: number;
  count: number;
}

/** The estimate from what is measured so far; null while nothing is. */
export function estimate({ range, bins, sample, closeFrames = [] }: EstimateInput): Estimate | null {
  const width = binWidth(range);
  const knots: Knot[] = bins.flatMap((bin) =>
    bin.measured > 0 ? [{ index: bin.indexSum / bin.measured, wu: bin.wu / bin.measured, count: bin.measured }] : [],
  );
  if (knots.length === 0) return null;
  const noise = frameNoise(range, closeFrames);
  const sampledBins = new Set(sample.map((frame) => Math.floor(indexOf(range, frame) / width)));

  let doneWu = 0;
  let predicted = 0;
  // Uncertainty by stretch between two measured points: the frames of one stretch are
  // wrong together (added up), different stretches independently (added in quadrature).
  const spreadByStretch = new Map<number, number>();
  let framesMeasured = 0;
  const curve: CurvePoint[] = bins.map((bin, b) => {
    const first = b * width;
    const middle = first + (bin.frames - 1) / 2;
    const at = curveAt(knots, middle, noise);
    const remaining = bin.frames - bin.measured;
    doneWu += bin.wu;
    framesMeasured += bin.measured;
    predicted += remaining * at.wu;
    spreadByStretch.set(at.stretch, (spreadByStretch.get(at.stretch) ?? 0) + remaining * at.uncertainty);
    const wu = bin.measured > 0 ? bin.wu / bin.measured : at.wu;
    const done = remaining === 0;
    return {
      frame: frameAt(range, Math.round(middle)),
      wu,
      low: done ? wu : Math.max(0, at.wu - at.uncertainty),
      high: done ? wu : at.wu + at.uncertainty,
      sampled: sampledBins.has(b),
      done,
    };
  });
  const totalWu = doneWu + predicted;
  const spread = Math.hypot(...spreadByStretch.values());
  return {
    totalWu,
    band: { low: doneWu + Math.max(0, predicted - spread), high: totalWu + spread },
    doneWu,
    remainingWu: predicted,
    framesMeasured,
    frames: countFrames(range),
    curve,
  };
}

/**
 * The curve at a position: linear between the measured points either side, flat past
 * the first and the last. Its uncertainty: half the rise between those points (where
 * between them a change happens is not known) plus their noise.
 */
function curveAt(knots: readonly Knot[], index: number, noise: number): { wu: number; uncertainty: number; stretch: number } {
  const knotNoise = (knot: Knot) => (BAND_SIGMAS * noise * knot.wu) / Math.sqrt(knot.count);
  let right = knots.findIndex((knot) => knot.index >= index);
  if (right === -1) right = knots.length;
  const before = knots[right - 1];
  const after = knots[right];
  if (!before || !after || after.index === before.index) {
    const only = (before ?? after)!;
    // Past the last measured point nothing says where the curve goes: as much again as its noise.
    const past = Math.abs(index - only.index) > 0 ? only.wu * noise * BAND_SIGMAS : 0;
    return { wu: only.wu, uncertainty: knotNoise(only) + past, stretch: right };
  }
  const share = (index - before.index) / (after.index - before.index);
  const wu = before.wu + share * (after.wu - before.wu);
  const interpolation = Math.abs(after.wu - before.wu) / 2;
  const measurement = Math.hypot((1 - share) * knotNoise(before), share * knotNoise(after));
  return { wu, uncertainty: interpolation + measurement, stretch: right };
}

/**
 * The relative noise of one frame's WU: from close frames, the median gap of their log WU
 * (a robust spread), as the standard deviation of one frame.
 */
export function frameNoise(range: FrameRange, frames: readonly FrameWu[]): number {
  const sorted = frames.filter((f) => f.wu > 0).map((f) => ({ index: indexOf(range, f.frame), log: Math.log(f.wu) }));
  sorted.sort((a, b) => a.index - b.index);
  const gaps: number[] = [];
  for (let i = 0; i < sorted.length; i += 1) {
    for (let j = i + 1; j < sorted.length && sorted[j].index - sorted[i].index <= CLOSE_FRAMES; j += 1) {
      gaps.push(Math.abs(sorted[j].log - sorted[i].log));
    }
  }
  if (gaps.length < 3) return DEFAULT_NOISE;
  gaps.sort((a, b) => a - b);
  const median = gaps[Math.floor(gaps.length / 2)];
  // For normal noise, median |x − y| = 0.6745 · √2 · σ.
  return median / (0.6745 * Math.SQRT2);
}

/** Seconds until the remaining WU is rendered by workers of these WUPM together; null when there are none. */
export function etaSeconds(remainingWu: number, wupms: readonly number[]): number | null {
  const perMinute = wupms.reduce((sum, wupm) => sum + (wupm > 0 ? wupm : 0), 0);
  if (perMinute <= 0) return remainingWu <= 0 ? 0 : null;
  return Math.round((remainingWu / perMinute) * 60);
}
