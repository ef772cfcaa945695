import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect, test } from "vitest";
import { machineOf, readSavedBenchmark, runBenchmark, saveBenchmark } from "./benchmark";
import { detectBlender } from "./blender";

// The benchmark with the real Blender: the reference scene builds from nothing and
// renders in one Blender run, several times.

const BLENDER = process.env.CACTUS_BLENDER ?? "blender";

test("the reference frame renders 5 times in one Blender; WUPM from the median, kept on the machine", async () => {
  const { version } = await detectBlender(BLENDER);
  const machine = machineOf(version, 2);
  const run = await runBenchmark({ blender: BLENDER, machine });
  expect(run).toMatchObject({ blenderVersion: version, threads: 2, renders: 5 });
  expect(run.wupm).toBeCloseTo(60 / run.seconds, 9);
  expect(run.spread).toBeGreaterThanOrEqual(0);
  // The renders plus Blender's start.
  expect(run.wallSeconds).toBeGreaterThan(run.seconds * 4);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-benchmark-"));
  try {
    await saveBenchmark(dir, run);
    expect(await readSavedBenchmark(dir)).toEqual(run);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}, 180_000);
