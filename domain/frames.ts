// Frame ranges as people write them ("1-24", "1-24:2", "7") and how a render's frames
// become tasks. Pure: the routes, the CLI and the queue share these rules.

/** Blender's last frame (MAXFRAME); its first is 0. */
export const LAST_BLENDER_FRAME = 1_048_574;
/** Enough for an hour at 24 fps many times over, small enough to keep one render's tasks cheap. */
export const MAX_FRAMES_PER_RENDER = 100_000;
/** Consecutive frames one task may hold (a render request's chunk). */
export const FRAMES_PER_TASK = { min: 1, max: 1000 } as const;

export interface FrameRange {
  start: number;
  end: number;
  step: number;
}

export interface TaskFrames {
  frameStart: number;
  frameEnd: number;
}

/** A frame range or chunk size the user has to write differently; the message says how. */
export class FrameRangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FrameRangeError";
  }
}

const EXAMPLES = "write a range like 1-24, 1-24:2 (every 2nd frame) or a single frame like 7";

export function parseFrameRange(text: string): FrameRange {
  const written = text.trim();
  if (written === "") throw new FrameRangeError(`The frames are empty; ${EXAMPLES}.`);
  const match = /^(-?\d+)(?:\s*-\s*(-?\d+)(?:\s*:\s*(\d+))?)?$/.exec(written);
  if (!match) throw new FrameRangeError(`"${written}" is not a frame range; ${EXAMPLES}.`);
  const start = Number(match[1]);
  const end = match[2] === undefined ? start : Number(match[2]);
  const step = match[3] === undefined ? 1 : Number(match[3]);
  if (Math.min(start, end) < 0) {
    throw new FrameRangeError(`Frame ${Math.min(start, end)} is before Blender's first frame, 0.`);
  }
  if (end < start) throw new FrameRangeError(`Frames ${start}-${end} are reversed; write ${end}-${start}.`);
  if (end > LAST_BLENDER_FRAME) {
    throw new FrameRangeError(`Frame ${end} is past Blender's last frame, ${LAST_BLENDER_FRAME}.`);
  }
  if (step < 1) throw new FrameRangeError(`A step of ${step} renders nothing; the step is 1 or more, as in ${start}-${end}:2.`);
  if (step > LAST_BLENDER_FRAME) {
    throw new FrameRangeError(`A step of ${step} is more than Blender's ${LAST_BLENDER_FRAME} frames; for frame ${start} alone, write ${start}.`);
  }
  const range = { start, end, step };
  const count = countFrames(range);
  if (count > MAX_FRAMES_PER_RENDER) {
    throw new FrameRangeError(
      `Frames ${written} are ${count} frames; a render has at most ${MAX_FRAMES_PER_RENDER}. Split it into several renders.`,
    );
  }
  return range;
}

export function countFrames({ start, end, step }: FrameRange): number {
  return Math.floor((end - start) / step) + 1;
}

export function formatFrameRange({ start, end, step }: FrameRange): string {
  if (start === end) return String(start);
  return step === 1 ? `${start}-${end}` : `${start}-${end}:${step}`;
}

/**
 * The render's tasks: chunks of `chunkSize` consecutive frames. Chunks need step 1,
 * because the agent renders a chunk as Blender's own frame range (-s A -e B -a); with a
 * step every frame is a task of its own.
 */
export function splitIntoTasks(range: FrameRange, chunkSize = 1): TaskFrames[] {
  const frames = countFrames(range);
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new FrameRangeError(`A chunk of ${chunkSize} frames is not possible; a chunk is a whole number of 1 or more.`);
  }
  if (chunkSize > frames) {
    throw new FrameRangeError(`A chunk of ${chunkSize} frames is longer than the ${frames} frames to render; use ${frames} or fewer.`);
  }
  if (chunkSize > 1 && range.step > 1) {
    throw new FrameRangeError(
      `Chunks are consecutive frames, and ${formatFrameRange(range)} skips frames; drop the chunk or the step.`,
    );
  }
  const tasks: TaskFrames[] = [];
  for (let first = range.start; first <= range.end; first += range.step * chunkSize) {
    tasks.push({ frameStart: first, frameEnd: Math.min(first + chunkSize - 1, range.end) });
  }
  return tasks;
}

/** Frames the render page shows at once: a page of a render of 10 000 frames, not all. */
export const FRAMES_PER_PAGE = 120;

export interface FramePage {
  /** 1-based. */
  page: number;
  pages: number;
  /** The page's frames: a range of the render's, with its step. */
  frames: FrameRange;
}

/** Page `page` (1-based, clamped into the render's) of the render's frames. */
export function framePage(range: FrameRange, page: number, size = FRAMES_PER_PAGE): FramePage {
  const total = countFrames(range);
  const pages = Math.max(1, Math.ceil(total / size));
  const current = Math.min(Math.max(1, Math.floor(page) || 1), pages);
  const first = range.start + (current - 1) * size * range.step;
  const last = Math.min(range.start + (total - 1) * range.step, first + (size - 1) * range.step);
  return { page: current, pages, frames: { start: first, end: last, step: range.step } };
}

/** The page (1-based) that holds `frame`, or null when the frame is not one of the render's. */
export function pageOfFrame(range: FrameRange, frame: number, size = FRAMES_PER_PAGE): number | null {
  if (frame < range.start || frame > range.end || (frame - range.start) % range.step !== 0) return null;
  return Math.floor((frame - range.start) / range.step / size) + 1;
}
