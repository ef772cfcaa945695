import { describe, expect, test } from "vitest";
import { contentRange, parseByteRange } from "./byte-range";

describe("parseByteRange", () => {
  test.each([
    ["bytes=0-99", { start: 0, end: 99 }],
    ["bytes=100-", { start: 100, end: 999 }],
    ["bytes=900-5000", { start: 900, end: 999 }],
    ["bytes=-10", { start: 990, end: 999 }],
    ["bytes=-5000", { start: 0, end: 999 }],
    [" bytes=5-5 ", { start: 5, end: 5 }],
  ])("%s of 1000 bytes is %o", (header, range) => {
    expect(parseByteRange(header, 1000)).toEqual(range);
  });

  test.each([[null], ["items=0-5"], ["bytes=0-5,10-20"], ["bytes=-"], ["bytes=9-3"], ["bytes=a-b"]])(
    "%s asks for the whole file",
    (header) => {
      expect(parseByteRange(header, 1000)).toBeNull();
    },
  );

  test("a range that starts at or past the end cannot be satisfied", () => {
    expect(parseByteRange("bytes=1000-", 1000)).toBe("unsatisfiable");
    expect(parseByteRange("bytes=2000-3000", 1000)).toBe("unsatisfiable");
    expect(parseByteRange("bytes=-0", 1000)).toBe("unsatisfiable");
    expect(parseByteRange("bytes=0-", 0)).toBe("unsatisfiable");
  });

  test("Content-Range says the range and the whole size", () => {
    expect(contentRange({ start: 10, end: 19 }, 1000)).toBe("bytes 10-19/1000");
  });
});
