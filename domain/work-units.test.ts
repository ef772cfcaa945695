import { expect, test } from "vitest";
import { formatBand, formatCredits, formatDuration, formatTotal, formatWu, quotedBeside } from "./work-units";

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

test("what was quoted shows beside the estimate once confirmed, and only when it says something else", () => {
  const quote = { totalWu: 27.63, band: { low: 24.74, high: 30.5 } };
  const done = { totalWu: 29.77, band: { low: 29.77, high: 29.77 } };
  expect(formatTotal(quote)).toBe("27.6 WU (24.7–30.5)");
  expect(formatTotal(done)).toBe("29.8 WU");
  expect(quotedBeside("done", quote, done)).toBe("27.6 WU (24.7–30.5)");
  expect(quotedBeside("rendering", quote, null)).toBe("27.6 WU (24.7–30.5)");
  // While estimating or quoted the estimate is the quote; cancelled at once, it still is.
  expect(quotedBeside("quoted", quote, quote)).toBeNull();
  expect(quotedBeside("cancelled", quote, { ...quote })).toBeNull();
  // A render too short to sample has no quote.
  expect(quotedBeside("done", null, done)).toBeNull();
});
