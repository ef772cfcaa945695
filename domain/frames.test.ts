import { describe, expect, test } from "vitest";
import {
  FrameRangeError,
  MAX_FRAMES_PER_RENDER,
  countFrames,
  framePage,
  pageOfFrame,
  formatFrameRange,
  parseFrameRange,
  splitIntoTasks,
} from "./frames";

describe("parseFrameRange", () => {
  test.each([
    ["1-24", { start: 1, end: 24, step: 1 }],
    ["1-24:2", { start: 1, end: 24, step: 2 }],
    ["7", { start: 7, end: 7, step: 1 }],
    [" 0 - 10 : 5 ", { start: 0, end: 10, step: 5 }],
    ["5-5", { start: 5, end: 5, step: 1 }],
    [`1-${MAX_FRAMES_PER_RENDER}`, { start: 1, end: MAX_FRAMES_PER_RENDER, step: 1 }],
    ["1-200000:2", { start: 1, end: 200_000, step: 2 }],
  ])("%s", (text, expected) => {
    expect(parseFrameRange(text)).toEqual(expected);
  });

  test.each([
    ["", /The frames are empty; write a range like 1-24/],
    ["   ", /The frames are empty/],
    ["abc", /"abc" is not a frame range; write a range like 1-24/],
    ["1-", /"1-" is not a frame range/],
    ["-5", /^Frame -5 is before Blender's first frame, 0\.$/],
    ["-3-4", /Frame -3 is before Blender's first frame, 0/],
    ["--3", /"--3" is not a frame range/],
    ["1.5-3", /is not a frame range/],
    ["7:2", /"7:2" is not a frame range/],
    ["24-1", /^Frames 24-1 are reversed; write 1-24\.$/],
    ["1-24:0", /A step of 0 renders nothing; the step is 1 or more, as in 1-24:2/],
    // Past an int4 column: refused here, not a database error.
    ["1-10:2147483648", /A step of 2147483648 is more than Blender.s 1048574 frames; for frame 1 alone, write 1/],
    ["1-10:99999999999999999999", /A step of 100000000000000000000 is more than/],
    ["1-2000000", /Frame 2000000 is past Blender's last frame, 1048574/],
    [`1-${MAX_FRAMES_PER_RENDER + 1}`, /are 100001 frames; a render has at most 100000\. Split it/],
  ])("refuses %j", (text, message) => {
    expect(() => parseFrameRange(text)).toThrow(FrameRangeError);
    expect(() => parseFrameRange(text)).toThrow(message);
  });
});

test("countFrames and formatFrameRange", () => {
  expect(countFrames({ start: 1, end: 24, step: 1 })).toBe(24);
  expect(countFrames({ start: 1, end: 24, step: 2 })).toBe(12);
  expect(countFrames({ start: 1, end: 25, step: 2 })).toBe(13);
  expect(formatFrameRange({ start: 1, end: 24, step: 2 })).toBe("1-24:2");
  expect(formatFrameRange({ start: 1, end: 24, step: 1 })).toBe("1-24");
  expect(formatFrameRange({ start: 7, end: 7, step: 1 })).toBe("7");
});

describe("splitIntoTasks", () => {
  test("one task per frame by default", () => {
    expect(splitIntoTasks(parseFrameRange("3-5"))).toEqual([
      { frameStart: 3, frameEnd: 3 },
      { frameStart: 4, frameEnd: 4 },
      { frameStart: 5, frameEnd: 5 },
    ]);
  });

  test("chunks of consecutive frames, the last one shorter", () => {
    expect(splitIntoTasks(parseFrameRange("1-10"), 4)).toEqual([
      { frameStart: 1, frameEnd: 4 },
      { frameStart: 5, frameEnd: 8 },
      { frameStart: 9, frameEnd: 10 },
    ]);
  });

  test("a step makes every rendered frame its own task", () => {
    expect(splitIntoTasks(parseFrameRange("1-10:3"))).toEqual([
      { frameStart: 1, frameEnd: 1 },
      { frameStart: 4, frameEnd: 4 },
      { frameStart: 7, frameEnd: 7 },
      { frameStart: 10, frameEnd: 10 },
    ]);
  });

  test("covers every frame exactly once", () => {
    const tasks = splitIntoTasks(parseFrameRange(`1-${MAX_FRAMES_PER_RENDER}`), 7);
    const frames = tasks.reduce((sum, task) => sum + task.frameEnd - task.frameStart + 1, 0);
    expect(frames).toBe(MAX_FRAMES_PER_RENDER);
    expect(tasks.every((task, i) => i === 0 || task.frameStart === tasks[i - 1].frameEnd + 1)).toBe(true);
  });

  test.each([
    [0, /A chunk of 0 frames is not possible/],
    [2.5, /A chunk of 2.5 frames is not possible/],
    [25, /A chunk of 25 frames is longer than the 24 frames to render; use 24 or fewer/],
  ])("refuses a chunk of %s", (chunk, message) => {
    expect(() => splitIntoTasks(parseFrameRange("1-24"), chunk)).toThrow(message);
  });

  test("refuses chunks with a step", () => {
    expect(() => splitIntoTasks(parseFrameRange("1-24:2"), 2)).toThrow(
      "Chunks are consecutive frames, and 1-24:2 skips frames; drop the chunk or the step.",
    );
  });
});

describe("framePage", () => {
  const range = { start: 1, end: 10_000, step: 1 };
  test("cuts a long render into pages of 120 frames; the last page holds the rest", () => {
    expect(framePage(range, 1)).toEqual({ page: 1, pages: 84, frames: { start: 1, end: 120, step: 1 } });
    expect(framePage(range, 2).frames).toEqual({ start: 121, end: 240, step: 1 });
    expect(framePage(range, 84).frames).toEqual({ start: 9961, end: 10_000, step: 1 });
  });
  test("a page out of range, or no number, is the nearest page", () => {
    expect(framePage(range, 0).page).toBe(1);
    expect(framePage(range, Number.NaN).page).toBe(1);
    expect(framePage(range, 500).page).toBe(84);
  });
  test("keeps the render's step: page 2 of 1-1000 every 5 frames starts at frame 601", () => {
    expect(framePage({ start: 1, end: 1000, step: 5 }, 2)).toEqual({ page: 2, pages: 2, frames: { start: 601, end: 996, step: 5 } });
  });
  test("a short render is one page", () => {
    expect(framePage({ start: 7, end: 7, step: 1 }, 3)).toEqual({ page: 1, pages: 1, frames: { start: 7, end: 7, step: 1 } });
  });
  test("pageOfFrame finds a frame's page, and refuses frames the render does not have", () => {
    expect(pageOfFrame(range, 1)).toBe(1);
    expect(pageOfFrame(range, 120)).toBe(1);
    expect(pageOfFrame(range, 121)).toBe(2);
    expect(pageOfFrame({ start: 1, end: 1000, step: 5 }, 601)).toBe(2);
    expect(pageOfFrame({ start: 1, end: 1000, step: 5 }, 602)).toBeNull();
    expect(pageOfFrame(range, 10_001)).toBeNull();
  });
});
