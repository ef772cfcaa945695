import { describe, expect, test } from "vitest";
import {
  isBlocklisted,
  isRenderRunnable,
  reasonToStop,
  renderStatusFromTasks,
  taskAfterFailure,
  type TaskTally,
} from "./scheduler";

const tally = (counts: Partial<TaskTally>): TaskTally => ({
  queued: 0,
  leased: 0,
  done: 0,
  failed: 0,
  cancelled: 0,
  ...counts,
});

test("a task fails on its third different worker", () => {
  expect(taskAfterFailure(1)).toBe("queued");
  expect(taskAfterFailure(2)).toBe("queued");
  expect(taskAfterFailure(3)).toBe("failed");
});

test("a worker is blocklisted for a render at its third failure there", () => {
  expect(isBlocklisted(0)).toBe(false);
  expect(isBlocklisted(2)).toBe(false);
  expect(isBlocklisted(3)).toBe(true);
});

describe("renderStatusFromTasks", () => {
  test("all done is done", () => {
    expect(renderStatusFromTasks("rendering", tally({ done: 12 }))).toBe("done");
  });

  test("a failed task fails the render", () => {
    expect(renderStatusFromTasks("rendering", tally({ done: 3, failed: 1, queued: 8 }))).toBe("failed");
  });

  test("a queued render with a leased or done task is rendering", () => {
    expect(renderStatusFromTasks("queued", tally({ leased: 1, queued: 11 }))).toBe("rendering");
    expect(renderStatusFromTasks("queued", tally({ done: 1, queued: 11 }))).toBe("rendering");
    expect(renderStatusFromTasks("queued", tally({ queued: 12 }))).toBe("queued");
  });

  test("unfinished work keeps the status the owner or the economy chose", () => {
    expect(renderStatusFromTasks("paused", tally({ done: 3, queued: 9 }))).toBe("paused");
    expect(renderStatusFromTasks("estimating", tally({ leased: 2, queued: 10 }))).toBe("estimating");
    expect(renderStatusFromTasks("rendering", tally({ done: 11, leased: 1 }))).toBe("rendering");
  });

  test("finished renders stay finished", () => {
    expect(renderStatusFromTasks("cancelled", tally({ done: 12 }))).toBe("cancelled");
    expect(renderStatusFromTasks("failed", tally({ done: 12 }))).toBe("failed");
    expect(renderStatusFromTasks("done", tally({ done: 12 }))).toBe("done");
  });

  test("a render without tasks is not done", () => {
    expect(renderStatusFromTasks("queued", tally({}))).toBe("queued");
  });
});

test("agents stop tasks of renders that are not runnable, and say why", () => {
  expect(isRenderRunnable("rendering")).toBe(true);
  expect(reasonToStop("queued")).toBeNull();
  expect(reasonToStop("estimating")).toBeNull();
  expect(reasonToStop("paused")).toBe("The render was paused.");
  expect(reasonToStop("cancelled")).toBe("The render is cancelled.");
});
