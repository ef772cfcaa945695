import { expect, test } from "vitest";
import { formatBand, formatCredits, formatDuration, formatWu } from "./work-units";

test("work units, credits and durations as people read them", () => {
  expect([0.8, 41.23, 1234.5].map(formatWu)).toEqual(["0.80", "41.2", "1,235"]);
  expect([13, 1234.5].map(formatCredits)).toEqual(["13.00", "1,235"]);
  expect([42, 95, 1500, 7300, 400_000].map(formatDuration)).toEqual(["42 s", "1 min 35 s", "25 min", "2 h 2 min", "5 days"]);
});

test("a band reads as a range until it closes on its number", () => {
  expect(formatBand({ low: 24.74, high: 30.5 })).toBe("24.7–30.5");
  expect(formatBand({ low: 29.81, high: 29.84 })).toBeNull();
  expect(formatBand({ low: 13, high: 13.004 }, formatCredits)).toBeNull();
  expect(formatBand({ low: 13, high: 14 }, formatCredits)).toBe("13.00–14.00");
});
