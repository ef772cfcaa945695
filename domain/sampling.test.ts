import { describe, expect, test } from "vitest";
import { parseFrameRange, splitIntoTasks } from "./frames";
import { planSamples, sampleTasks, tasksAfterSampling } from "./sampling";

const range = parseFrameRange;

describe("planSamples", () => {
  test("5 points from the first frame to the last, a run of one frame per worker at each", () => {
    expect(planSamples(range("1-240"), { workers: 3 })).toEqual([1, 2, 3, 60, 61, 62, 120, 121, 122, 179, 180, 181, 238, 239, 240]);
    expect(planSamples(range("1-240"), { workers: 2 })).toEqual([1, 2, 61, 62, 120, 121, 180, 181, 239, 240]);
  });

  test("no worker yet counts as one; more than 3 workers still run 3 frames a point", () => {
    expect(planSamples(range("1-100"), { workers: 0 })).toEqual([1, 26, 51, 75, 100]);
    expect(planSamples(range("1-240"), { workers: 8 })).toHaveLength(15);
  });

  test("with a step, the runs are consecutive frames of the range", () => {
    expect(planSamples(range("0-470:10"), { workers: 2 })).toEqual([0, 10, 120, 130, 230, 240, 350, 360, 460, 470]);
  });

  test("fewer points when 5 runs would be more than a quarter of the frames; none below 2 points", () => {
    // 48 frames, 3 workers: 4 points of 3 frames are a quarter.
    expect(planSamples(range("1-48"), { workers: 3 })).toEqual([1, 2, 3, 16, 17, 18, 31, 32, 33, 46, 47, 48]);
    expect(planSamples(range("1-16"), { workers: 2 })).toEqual([1, 2, 15, 16]);
    expect(planSamples(range("1-15"), { workers: 2 })).toBeNull();
    expect(planSamples(range("7"), { workers: 1 })).toBeNull();
  });

  test("--estimate-only samples a short render all the same: its first and last frames", () => {
    expect(planSamples(range("1-15"), { workers: 2, estimateOnly: true })).toEqual([1, 2, 14, 15]);
    expect(planSamples(range("1-3"), { workers: 3, estimateOnly: true })).toEqual([1, 2, 3]);
    expect(planSamples(range("7"), { workers: 3, estimateOnly: true })).toEqual([7]);
  });

  test("sample frames are each a task of their own", () => {
    expect(sampleTasks([1, 2])).toEqual([
      { frameStart: 1, frameEnd: 1, isSample: true },
      { frameStart: 2, frameEnd: 2, isSample: true },
    ]);
  });
});

describe("tasksAfterSampling", () => {
  test("every frame once: the sample frames and the rest together are the whole range", () => {
    for (const [text, chunk, workers] of [
      ["1-240", 1, 3],
      ["1-240", 7, 2],
      ["0-470:10", 1, 2],
      ["1-48", 5, 3],
    ] as const) {
      const sample = planSamples(range(text), { workers })!;
      const rest = tasksAfterSampling(range(text), chunk, sample);
      const frames = [...sample, ...rest.flatMap((task) => expand(task, range(text).step))].sort((a, b) => a - b);
      expect(frames).toEqual(splitIntoTasks(range(text), 1).map((task) => task.frameStart));
      for (const task of rest) expect((task.frameEnd - task.frameStart) / range(text).step + 1).toBeLessThanOrEqual(chunk);
    }
  });

  test("chunks stop at a sample frame", () => {
    expect(tasksAfterSampling(range("1-12"), 4, [1, 6, 12])).toEqual([
      { frameStart: 2, frameEnd: 5 },
      { frameStart: 7, frameEnd: 10 },
      { frameStart: 11, frameEnd: 11 },
    ]);
  });
});

function expand({ frameStart, frameEnd }: { frameStart: number; frameEnd: number }, step: number): number[] {
  const frames: number[] = [];
  for (let frame = frameStart; frame <= frameEnd; frame += step) frames.push(frame);
  return frames;
}
