import { describe, expect, test } from "vitest";
import { emailSchema, nameSchema } from "./text";

describe("names people give things", () => {
  const name = nameSchema("project");

  test.each([
    ["NUL", "shot\u0000010"],
    ["a newline", "shot\n010"],
    ["a carriage return", "shot\r010"],
    ["a tab", "shot\t010"],
    ["an escape sequence", "shot\u001b[31m010"],
    ["DEL", "shot\u007f"],
    ["a C1 control", "shot\u0085"],
    ["a right-to-left override", "invoice\u202egnp.exe"],
    ["a left-to-right isolate", "a\u2066b"],
    ["a byte-order mark inside", "shot\ufeff010"],
  ])("refuse %s", (_what, text) => {
    const parsed = name.safeParse(text);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0].message).toMatch(/control characters/);
  });

  test("take letters of any script, spaces, punctuation and emoji", () => {
    for (const text of ["Spring short", "Frühling – 春 🌵", "shot_010 (v2)", "שלום"]) expect(name.parse(text)).toBe(text);
  });

  test("are trimmed, and refused when empty or too long", () => {
    expect(name.parse("  shot  ")).toBe("shot");
    expect(name.safeParse("   ").success).toBe(false);
    expect(name.safeParse("x".repeat(101)).success).toBe(false);
  });
});

describe("email addresses", () => {
  test("at most 254 characters", () => {
    const local = "a".repeat(64);
    const domain = `${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(57)}.com`;
    expect(`${local}@${domain}`).toHaveLength(254);
    expect(emailSchema.safeParse(`${local}@${domain}`).success).toBe(true);
    const tooLong = emailSchema.safeParse(`${local}@x${domain}`);
    expect(tooLong.error?.issues[0].message).toMatch(/at most 254/);
  });

  test("a valid address", () => {
    expect(emailSchema.parse(" friend@example.com ")).toBe("friend@example.com");
    expect(emailSchema.safeParse("friend@@example").success).toBe(false);
    expect(emailSchema.safeParse("friend\n@example.com").success).toBe(false);
  });
});
