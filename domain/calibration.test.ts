import { describe, expect, test } from "vitest";
import { calibrate, type FrameTime } from "./calibration";

// Frames of a cost curve c(f) (WU) rendered by workers of true speeds s (WUPM): t = c / s minutes.
const cost = (index: number) => 1 + index / 50;
const rendered = (index: number, workerId: number, speed: number): FrameTime => ({ index, workerId, minutes: cost(index) / speed });

describe("calibrate", () => {
  test("relative speeds from close frames, on the benchmarks' scale (mean log WUPM kept)", () => {
    // A fast (6) and a slow (2) worker whose benchmarks both said 3, at 5 points of the timeline.
    const times = [0, 50, 100, 150, 200].flatMap((point) => [rendered(point, 1, 6), rendered(point + 1, 2, 2)]);
    const speeds = calibrate(times, new Map([[1, 3], [2, 3]]));
    const fast = speeds.get(1)!;
    const slow = speeds.get(2)!;
    expect(fast.calibrated && slow.calibrated).toBe(true);
    // Neighbouring frames differ by 1/50 of the cost: the ratio is 3 within that.
    expect(fast.wupm / slow.wupm).toBeCloseTo(3, 1);
    expect(Math.sqrt(fast.wupm * slow.wupm)).toBeCloseTo(3, 6);
    expect([fast.closeFrames, slow.closeFrames]).toEqual([5, 5]);
  });

  test("the same frame cost on both sides gives the exact ratio, whatever the curve", () => {
    const times = [0, 40, 80].flatMap((point) => [
      { index: point, workerId: 1, minutes: (point + 1) / 4 },
      { index: point + 1, workerId: 2, minutes: (point + 1) / 1 },
    ]);
    const speeds = calibrate(times, new Map([[1, 2], [2, 2]]));
    expect(speeds.get(1)!.wupm / speeds.get(2)!.wupm).toBeCloseTo(4, 9);
    expect(speeds.get(1)!.wupm * speeds.get(2)!.wupm).toBeCloseTo(4, 9);
  });

  test("frames more than 4 apart are not close: each worker keeps its benchmark", () => {
    const times = [rendered(0, 1, 6), rendered(5, 2, 2), rendered(100, 1, 6), rendered(110, 2, 2)];
    const speeds = calibrate(times, new Map([[1, 3], [2, 3]]));
    expect(speeds.get(1)).toEqual({ wupm: 3, calibrated: false, closeFrames: 0 });
    expect(speeds.get(2)).toEqual({ wupm: 3, calibrated: false, closeFrames: 0 });
  });

  test("a worker that joins mid-render is calibrated from the frames next to its own", () => {
    const early = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((index) => rendered(index, index % 2 === 0 ? 1 : 2, index % 2 === 0 ? 4 : 2));
    const joined = [10, 11, 12, 13, 14, 15].map((index) => rendered(index, index % 3 === 0 ? 3 : index % 2 === 0 ? 1 : 2, index % 3 === 0 ? 8 : index % 2 === 0 ? 4 : 2));
    // Worker 3's benchmark said 1: far off. Its frames lie among the others', which pins it at 8.
    const speeds = calibrate([...early, ...joined], new Map([[1, 4], [2, 2], [3, 1]]));
    expect(speeds.get(3)!.calibrated).toBe(true);
    const mean = Math.cbrt(4 * 2 * 1);
    const scale = Math.cbrt(speeds.get(1)!.wupm * speeds.get(2)!.wupm * speeds.get(3)!.wupm) / mean;
    expect(scale).toBeCloseTo(1, 6);
    expect(speeds.get(3)!.wupm / speeds.get(2)!.wupm).toBeCloseTo(4, 1);
    expect(speeds.get(1)!.wupm / speeds.get(2)!.wupm).toBeCloseTo(2, 1);
  });

  test("a worker without a benchmark gets its speed from the linked workers that have one", () => {
    const times = [0, 30, 60].flatMap((point) => [rendered(point, 1, 5), rendered(point + 1, 2, 10)]);
    const speeds = calibrate(times, new Map([[1, 5]]));
    expect(speeds.get(1)!.wupm).toBeCloseTo(5, 6);
    expect(speeds.get(2)!.wupm / 10).toBeCloseTo(1, 1);
  });

  test("linked workers none of which has a benchmark have no scale: left out", () => {
    const times = [rendered(0, 1, 5), rendered(1, 2, 10)];
    expect(calibrate(times, new Map()).size).toBe(0);
  });

  test("frames without a time say nothing", () => {
    expect(calibrate([{ index: 0, workerId: 1, minutes: 0 }, { index: 1, workerId: 2, minutes: 1 }], new Map([[1, 2], [2, 2]])).get(1)).toEqual({
      wupm: 2,
      calibrated: false,
      closeFrames: 0,
    });
  });
});
