import { describe, expect, test } from "vitest";
import { addResults, binWidth, emptyBins, estimate, etaSeconds, frameNoise, MAX_BINS, type FrameWu } from "./estimate";
import { parseFrameRange } from "./frames";

const results = (frames: number[], wu: (frame: number) => number): FrameWu[] => frames.map((frame) => ({ frame, wu: wu(frame) }));

describe("bins", () => {
  test("a short render has a bin per frame; a long one at most 200", () => {
    expect(emptyBins(parseFrameRange("1-48"))).toHaveLength(48);
    const long = parseFrameRange("0-99999");
    expect(binWidth(long)).toBe(500);
    expect(emptyBins(long)).toHaveLength(MAX_BINS);
    const odd = emptyBins(parseFrameRange("1-1001"));
    expect(odd.reduce((sum, bin) => sum + bin.frames, 0)).toBe(1001);
  });

  test("each result goes in its frame's bin, once", () => {
    const range = parseFrameRange("0-99999");
    const bins = addResults(range, emptyBins(range), [
      { frame: 0, wu: 2 },
      { frame: 499, wu: 4 },
      { frame: 500, wu: 1 },
    ]);
    expect(bins[0]).toEqual({ frames: 500, measured: 2, wu: 6, indexSum: 499 });
    expect(bins[1]).toEqual({ frames: 500, measured: 1, wu: 1, indexSum: 500 });
  });
});

describe("estimate", () => {
  test("nothing measured, no estimate", () => {
    const range = parseFrameRange("1-48");
    expect(estimate({ range, bins: emptyBins(range), sample: [] })).toBeNull();
  });

  test("a ramp sampled at 5 points: the linear curve between them gives the total", () => {
    const range = parseFrameRange("1-101");
    const ramp = (frame: number) => 1 + frame / 10;
    const sample = [1, 26, 51, 76, 101];
    const made = estimate({ range, bins: addResults(range, emptyBins(range), results(sample, ramp)), sample })!;
    const truth = Array.from({ length: 101 }, (_, i) => ramp(i + 1)).reduce((a, b) => a + b, 0);
    expect(made.totalWu).toBeCloseTo(truth, 6);
    expect(made.doneWu).toBeCloseTo(sample.map(ramp).reduce((a, b) => a + b, 0), 9);
    expect(made.band.low).toBeLessThanOrEqual(truth);
    expect(made.band.high).toBeGreaterThanOrEqual(truth);
    expect(made.curve).toHaveLength(101);
    expect(made.curve[25]).toMatchObject({ frame: 26, wu: ramp(26), sampled: true, done: true });
    expect(made.curve[30]).toMatchObject({ frame: 31, sampled: false, done: false });
    expect(made.curve[30].wu).toBeCloseTo(ramp(31), 9);
  });

  test("a step between two sample points: the band holds the total wherever the step is", () => {
    const range = parseFrameRange("1-100");
    const sample = [1, 25, 50, 75, 100];
    for (const stepAt of [26, 37, 49]) {
      const cost = (frame: number) => (frame < stepAt ? 1 : 3);
      const made = estimate({ range, bins: addResults(range, emptyBins(range), results(sample, cost)), sample })!;
      const truth = Array.from({ length: 100 }, (_, i) => cost(i + 1)).reduce((a, b) => a + b, 0);
      expect(truth, `step at ${stepAt}`).toBeGreaterThanOrEqual(made.band.low);
      expect(truth, `step at ${stepAt}`).toBeLessThanOrEqual(made.band.high);
    }
  });

  test("once every frame is in, the estimate is what they cost, with no band", () => {
    const range = parseFrameRange("1-20");
    const frames = Array.from({ length: 20 }, (_, i) => i + 1);
    const made = estimate({ range, bins: addResults(range, emptyBins(range), results(frames, (f) => f)), sample: [1, 20] })!;
    expect(made.totalWu).toBe(210);
    expect(made.band).toEqual({ low: 210, high: 210 });
    expect(made.remainingWu).toBe(0);
    expect(made.curve.every((point) => point.done && point.low === point.wu && point.high === point.wu)).toBe(true);
  });

  test("the frames done count as measured; the rest are read off the curve through them", () => {
    const range = parseFrameRange("1-10");
    // Frames 1-5 cost 2; the last frame (a sample) 4.
    const made = estimate({ range, bins: addResults(range, emptyBins(range), [...results([1, 2, 3, 4, 5], () => 2), { frame: 10, wu: 4 }]), sample: [10] })!;
    expect(made.doneWu).toBe(14);
    // Between frame 5 (2) and 10 (4): frames 6-9 on the line, 2.4 + 2.8 + 3.2 + 3.6.
    expect(made.totalWu).toBeCloseTo(14 + 12, 9);
    expect(made.framesMeasured).toBe(6);
  });

  test("the noise of one frame, from the spread of close frames", () => {
    const range = parseFrameRange("1-100");
    const steady = results([1, 2, 3, 50, 51, 52], () => 3);
    expect(frameNoise(range, steady)).toBe(0);
    const noisy = [1, 2, 3, 4, 5, 6, 7, 8].map((frame) => ({ frame, wu: frame % 2 === 0 ? 2.2 : 1.8 }));
    expect(frameNoise(range, noisy)).toBeGreaterThan(0.1);
    expect(frameNoise(range, [])).toBe(0.1);
  });
});

test("ETA: the remaining WU over the workers' summed WUPM", () => {
  expect(etaSeconds(30, [2, 4])).toBe(300);
  expect(etaSeconds(30, [])).toBeNull();
  expect(etaSeconds(0, [])).toBe(0);
});
