import { expect, test } from "vitest";
import { memoryStream } from "../testing/run";
import { createProgress } from "./progress";

test("a terminal gets a bar with bytes, percent and rate", () => {
  const stream = memoryStream(true);
  let now = 0;
  const progress = createProgress(stream, "uploading", 4 * 1024 * 1024, () => now);
  now = 1000;
  progress.advance(2 * 1024 * 1024);
  progress.done();
  expect(stream.text()).toContain("uploading");
  expect(stream.text()).toContain(" 50% 2.0 MiB/4.0 MiB 2.0 MiB/s");
  expect(stream.text().endsWith("\n")).toBe(true);
});

test("redraws are throttled so a gigabyte does not print a thousand lines", () => {
  const stream = memoryStream(true);
  let now = 0;
  const progress = createProgress(stream, "hashing", 1000, () => now);
  for (let i = 0; i < 100; i += 1) {
    now += 1;
    progress.advance(10);
  }
  expect(stream.text().split("\r").length - 1).toBe(1);
});

test("a pipe or a file gets nothing", () => {
  const stream = memoryStream(false);
  const progress = createProgress(stream, "uploading", 100);
  progress.advance(100);
  progress.done();
  expect(stream.text()).toBe("");
});
