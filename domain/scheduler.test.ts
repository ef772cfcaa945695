import { expect, test } from "vitest";
import { FAILURES_TO_FAIL_RENDER, type FailureCounts, isBlocklisted, taskAfterFailure } from "./scheduler";

const machine = (counts: Partial<FailureCounts> = {}): FailureCounts => ({
  blame: "machine",
  distinctFailedWorkers: 1,
  renderFailures: 1,
  anotherWorkerMayTake: true,
  ...counts,
});

test("a machine error sends the task to another worker while one may take it", () => {
  expect(taskAfterFailure(machine())).toEqual({ status: "queued" });
  expect(taskAfterFailure(machine({ distinctFailedWorkers: 2, renderFailures: FAILURES_TO_FAIL_RENDER - 1 }))).toEqual({ status: "queued" });
});

test("a task fails on its third different worker", () => {
  expect(taskAfterFailure(machine({ distinctFailedWorkers: 3 }))).toEqual({ status: "failed", because: "workers" });
});

test("a task fails when no other worker may take it: a farm of one worker does not wait for good", () => {
  expect(taskAfterFailure(machine({ anotherWorkerMayTake: false }))).toEqual({ status: "failed", because: "no-other-worker" });
});

test("a render's failures in all have a limit, whatever frames and workers they were on", () => {
  expect(taskAfterFailure(machine({ renderFailures: FAILURES_TO_FAIL_RENDER }))).toEqual({ status: "failed", because: "failure-limit" });
});

test("an error in the scene fails the task at once, whoever else could try", () => {
  expect(taskAfterFailure(machine({ blame: "scene" }))).toEqual({ status: "failed", because: "scene-error" });
});

test("a worker is blocklisted for a render at its third failure there", () => {
  expect(isBlocklisted(0)).toBe(false);
  expect(isBlocklisted(2)).toBe(false);
  expect(isBlocklisted(3)).toBe(true);
});
