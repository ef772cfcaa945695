import { expect, test } from "vitest";
import { isBlocklisted, taskAfterFailure } from "./scheduler";

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
