import { countFrames, type FrameRange, type TaskFrames } from "./frames";

// Which frames a render renders first, to make its quote (docs/design.md §3): a few
// points spread across the timeline — the first frame, the last, evenly between — and
// at each a run of consecutive frames, one per eligible worker, so that different
// workers render frames close to each other in every part of the timeline (their
// relative speeds: domain/calibration.ts). Sample frames are real frames of the render:
// their images are kept and they are never rendered again.

/** Sample points of a render long enough for all of them. */
export const SAMPLE_POINTS = 5;
/** Frames at each point: one per eligible worker, up to this many. */
export const MAX_SAMPLE_RUN = 3;
/**
 * A render samples only when its sample is at most this share of its frames; a shorter
 * one skips straight to rendering, its estimate made from its first frames. A quote that
 * costs a quarter of the render saves its owner little.
 */
export const MAX_SAMPLE_SHARE = 1 / 4;

export interface SamplePlanOptions {
  /** The owner's workers that may render it now (enabled, able to). */
  workers: number;
  /** The owner wants the quote before anything else is rendered: sample even a short render. */
  estimateOnly?: boolean;
  points?: number;
}

/** The i-th frame of the range (0-based). */
export const frameAt = (range: FrameRange, index: number) => range.start + index * range.step;
/** Where a frame of the range is in it (0-based). */
export const indexOf = (range: FrameRange, frame: number) => Math.round((frame - range.start) / range.step);

/**
 * The sample frames of a render, in order, or null when it is too short to sample (it
 * then goes straight to the queue). Runs are `min(workers, 3)` consecutive frames (of
 * the range, so with a step they skip as it does); points are spread evenly from the
 * first frame to the last, fewer than 5 when 5 runs would be more than a quarter of it.
 */
export function planSamples(range: FrameRange, { workers, estimateOnly = false, points = SAMPLE_POINTS }: SamplePlanOptions): number[] | null {
  const frames = countFrames(range);
  let run = Math.min(MAX_SAMPLE_RUN, Math.max(1, workers));
  let count = Math.min(points, Math.floor((frames * MAX_SAMPLE_SHARE) / run));
  if (count < 2) {
    if (!estimateOnly) return null;
    // The owner asked for a quote all the same: the first and the last frames, as many as fit.
    run = Math.min(run, frames);
    count = Math.min(2, Math.floor(frames / run));
  }
  const starts = new Set<number>();
  for (let point = 0; point < count; point += 1) {
    starts.add(count === 1 ? 0 : Math.round((point * (frames - run)) / (count - 1)));
  }
  const sample: number[] = [];
  for (const start of [...starts].sort((a, b) => a - b)) {
    for (let offset = 0; offset < run; offset += 1) sample.push(frameAt(range, start + offset));
  }
  return sample;
}

/** Each sample frame is a task of its own, so that different workers take the frames of a run. */
export function sampleTasks(sample: readonly number[]): (TaskFrames & { isSample: true })[] {
  return sample.map((frame) => ({ frameStart: frame, frameEnd: frame, isSample: true as const }));
}

/**
 * The tasks of the frames that were not sampled, queued once the quote is confirmed:
 * chunks of up to `chunkSize` consecutive frames that never cross a sample frame (each
 * frame is rendered once). Chunks of more than one frame have step 1 (domain/frames.ts).
 */
export function tasksAfterSampling(range: FrameRange, chunkSize: number, sample: readonly number[]): TaskFrames[] {
  const sampled = new Set(sample);
  const tasks: TaskFrames[] = [];
  let open: TaskFrames | null = null;
  for (let frame = range.start; frame <= range.end; frame += range.step) {
    if (sampled.has(frame)) {
      open = null;
      continue;
    }
    if (open && open.frameEnd - open.frameStart + 1 < chunkSize) {
      open.frameEnd = frame;
    } else {
      open = { frameStart: frame, frameEnd: frame };
      tasks.push(open);
    }
  }
  return tasks;
}
