import { gzipSync } from "node:zlib";
import { describe, expect, test } from "vitest";
import { detectCompression, isZip, parseBlendHeader, zstdWindowBytes } from "./blend-header";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("parseBlendHeader", () => {
  test.each([
    ["BLENDER-v304", { blenderVersion: "3.4", pointerSize: 8, endianness: "little" }],
    ["BLENDER_v279", { blenderVersion: "2.79", pointerSize: 4, endianness: "little" }],
    ["BLENDER-V280", { blenderVersion: "2.80", pointerSize: 8, endianness: "big" }],
    ["BLENDER-v410", { blenderVersion: "4.10", pointerSize: 8, endianness: "little" }],
    ["BLENDER17-01v0500", { blenderVersion: "5.0", pointerSize: 8, endianness: "little" }],
    ["BLENDER17-01V0501", { blenderVersion: "5.1", pointerSize: 8, endianness: "big" }],
  ])("%s", (header, expected) => {
    expect(parseBlendHeader(bytes(`${header}REND\0\0\0\0`))).toEqual(expected);
  });

  test.each([
    ["empty", ""],
    ["too short", "BLENDER-v30"],
    ["wrong magic", "BLENDEX-v304"],
    ["bad pointer size", "BLENDER+v304"],
    ["bad endianness", "BLENDER-x304"],
    ["letters for a version", "BLENDER-vabc"],
    ["large header without its dash", "BLENDER17x01v0500"],
    ["large header with a short version", "BLENDER17-01v050"],
    ["a text file", "hello, this is not a blend file"],
  ])("rejects %s", (_name, text) => {
    expect(parseBlendHeader(bytes(text))).toBeNull();
  });

  test("reads only the first bytes of a longer buffer", () => {
    const file = new Uint8Array(4096);
    file.set(bytes("BLENDER-v304"));
    expect(parseBlendHeader(file)?.blenderVersion).toBe("3.4");
  });
});

describe("detectCompression", () => {
  test("gzip by its magic", () => {
    expect(detectCompression(gzipSync(bytes("BLENDER-v304")))).toBe("gzip");
  });
  test("zstd by its magic", () => {
    expect(detectCompression(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x00]))).toBe("zstd");
  });
  test("anything else is uncompressed", () => {
    expect(detectCompression(bytes("BLENDER-v304"))).toBe("none");
    expect(detectCompression(new Uint8Array([0x1f]))).toBe("none");
    expect(detectCompression(new Uint8Array([0x28, 0xb5, 0x2f]))).toBe("none");
  });
});

describe("isZip", () => {
  test("a zip with entries or an empty one", () => {
    expect(isZip(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14]))).toBe(true);
    expect(isZip(new Uint8Array([0x50, 0x4b, 0x05, 0x06]))).toBe(true);
  });
  test("not a zip", () => {
    expect(isZip(bytes("PK"))).toBe(false);
    expect(isZip(bytes("BLENDER-v304"))).toBe(false);
  });
});

describe("zstdWindowBytes", () => {
  const magic = [0x28, 0xb5, 0x2f, 0xfd];
  test("from the window descriptor", () => {
    // exponent 10, mantissa 0: 2^20; exponent 1, mantissa 4: 2^11 + 4 * 2^8
    expect(zstdWindowBytes(new Uint8Array([...magic, 0x00, 0x50]))).toBe(2 ** 20);
    expect(zstdWindowBytes(new Uint8Array([...magic, 0x00, 0x0c]))).toBe(2 ** 11 + 4 * 2 ** 8);
  });
  test("a single segment's window is its content size", () => {
    expect(zstdWindowBytes(new Uint8Array([...magic, 0x20, 200]))).toBe(200);
    expect(zstdWindowBytes(new Uint8Array([...magic, 0x60, 0x00, 0x01]))).toBe(256 + 256);
    expect(zstdWindowBytes(new Uint8Array([...magic, 0xe0, 0, 0, 0, 0, 1, 0, 0, 0]))).toBe(2 ** 32);
  });
  test("null without a complete header", () => {
    expect(zstdWindowBytes(new Uint8Array([...magic, 0xe0, 0, 0]))).toBeNull();
    expect(zstdWindowBytes(new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0]))).toBeNull();
  });
});
