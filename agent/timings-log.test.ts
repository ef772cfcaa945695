import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { renderTask } from "./testing/fake-farm";
import { openTimingsLog, timingLine } from "./timings-log";

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-timings-"));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe("timings log", () => {
  test("each task step is a line with its task and time; idle and sleeping are not", () => {
    const task = renderTask(Buffer.from("BLENDER-v304"));
    expect(timingLine({ kind: "claimed", task }, 1.5)).toEqual({ event: "claimed", taskId: task.id, at: 1.5, kind: "render" });
    expect(timingLine({ kind: "blenderStarted", taskId: 4 }, 2)).toEqual({ event: "blender-start", taskId: 4, at: 2 });
    expect(timingLine({ kind: "blenderExited", taskId: 4, ok: true }, 3)).toEqual({ event: "blender-exit", taskId: 4, at: 3 });
    expect(timingLine({ kind: "uploaded", taskId: 4, frame: 9 }, 4)).toEqual({ event: "upload-done", taskId: 4, at: 4, frame: 9 });
    expect(timingLine({ kind: "done", taskId: 4 }, 5)).toEqual({ event: "completed", taskId: 4, at: 5 });
    expect(timingLine({ kind: "failed", taskId: 4, error: "Error: boom" }, 6)?.event).toBe("failed");
    expect(timingLine({ kind: "dropped", taskId: 4, why: "stale", reason: "gone" }, 7)?.event).toBe("dropped");
    expect(timingLine({ kind: "idle", waitMs: 1000 }, 8)).toBeNull();
    expect(timingLine({ kind: "sleeping", until: null }, 9)).toBeNull();
  });

  test("appends JSON lines to the file, with sub-millisecond wall-clock times, until closed", async () => {
    const file = path.join(dir, "timings.jsonl");
    await fs.writeFile(file, '{"event":"completed","taskId":1,"at":1}\n');
    const log = openTimingsLog(file);
    const before = Date.now();
    log.observe({ kind: "blenderStarted", taskId: 2 });
    log.observe({ kind: "idle", waitMs: 5 });
    log.observe({ kind: "blenderExited", taskId: 2, ok: false });
    log.close();
    log.observe({ kind: "done", taskId: 2 });
    log.close();
    const lines = (await fs.readFile(file, "utf8")).trim().split("\n").map((line) => JSON.parse(line));
    expect(lines.map((line) => [line.event, line.taskId])).toEqual([["completed", 1], ["blender-start", 2], ["blender-exit", 2]]);
    expect(lines[1].at).toBeGreaterThanOrEqual(before - 1);
    expect(lines[1].at).toBeLessThanOrEqual(Date.now() + 1);
    expect(lines[2].at).toBeGreaterThanOrEqual(lines[1].at);
  });
});
