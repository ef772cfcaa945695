import { expect, test } from "vitest";
import { formatDuration, utcMinute } from "./time";

test("durations read as people say them", () => {
  expect(formatDuration(0)).toBe("0 s");
  expect(formatDuration(42_400)).toBe("42 s");
  expect(formatDuration(95_000)).toBe("1 min 35 s");
  expect(formatDuration(120_000)).toBe("2 min");
  expect(formatDuration(7_500_000)).toBe("2 h 5 min");
  expect(formatDuration(3 * 86_400_000 + 3_600_000)).toBe("3 d 1 h");
});

test("the server's text is UTC to the minute", () => {
  expect(utcMinute("2025-03-14T09:30:59.000Z")).toBe("2025-03-14 09:30 UTC");
});
