import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, test } from "vitest";
import { BLENDER, makeScene } from "../tests/helpers/scenes";
import { type ImageFormat, inspectImage } from "./image";

// ---- bytes built by hand, so each bad input is exactly what it claims ----

function pngBytes(width: number, height: number): Uint8Array {
  const bytes = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(bytes, 0);
  bytes.writeUInt32BE(13, 8);
  bytes.write("IHDR", 12, "latin1");
  bytes.writeUInt32BE(width, 16);
  bytes.writeUInt32BE(height, 20);
  bytes.set([8, 6, 0, 0, 0], 24);
  return bytes;
}

const segment = (marker: number, payload: number[]) => [0xff, marker, (payload.length + 2) >> 8, (payload.length + 2) & 0xff, ...payload];
const sof = (marker: number, width: number, height: number) =>
  segment(marker, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
const app1Exif = segment(0xe1, [...Buffer.from("Exif\0\0", "latin1"), ...new Array(300).fill(0x2a)]);

function jpegBytes(parts: number[][]): Uint8Array {
  return Uint8Array.from([0xff, 0xd8, ...parts.flat()]);
}

function exrAttribute(name: string, type: string, value: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32LE(value.length);
  return Buffer.concat([Buffer.from(`${name}\0${type}\0`, "latin1"), size, value]);
}
function box2i(xMin: number, yMin: number, xMax: number, yMax: number): Buffer {
  const value = Buffer.alloc(16);
  [xMin, yMin, xMax, yMax].forEach((number, index) => value.writeInt32LE(number, index * 4));
  return value;
}
function exrBytes(attributes: Buffer[]): Uint8Array {
  return Buffer.concat([Buffer.from([0x76, 0x2f, 0x31, 0x01, 0x02, 0x00, 0x00, 0x00]), ...attributes, Buffer.from([0])]);
}
const compression = exrAttribute("compression", "compression", Buffer.from([3]));

describe("inspectImage with bytes built by hand", () => {
  test("PNG: the IHDR chunk's width and height", () => {
    expect(inspectImage(pngBytes(1920, 1080))).toEqual({ format: "PNG", width: 1920, height: 1080 });
  });

  test("JPEG: baseline, extended and progressive frame headers, after EXIF and fill bytes", () => {
    for (const marker of [0xc0, 0xc1, 0xc2]) {
      expect(inspectImage(jpegBytes([app1Exif, [0xff], sof(marker, 640, 360)]))).toEqual({
        format: "JPEG",
        width: 640,
        height: 360,
      });
    }
  });

  test("JPEG: a Huffman table (C4) before the frame header is not taken for one", () => {
    const huffman = segment(0xc4, new Array(20).fill(1));
    expect(inspectImage(jpegBytes([huffman, sof(0xc0, 10, 20)]))).toEqual({ format: "JPEG", width: 10, height: 20 });
  });

  test("OpenEXR: the dataWindow box, inclusive, wherever it is among the attributes", () => {
    const bytes = exrBytes([
      exrAttribute("channels", "chlist", Buffer.alloc(37)),
      compression,
      exrAttribute("dataWindow", "box2i", box2i(10, 20, 73, 67)),
      exrAttribute("displayWindow", "box2i", box2i(0, 0, 99, 99)),
    ]);
    expect(inspectImage(bytes)).toEqual({ format: "OPEN_EXR", width: 64, height: 48 });
  });

  test("OpenEXR: the displayWindow when there is no dataWindow", () => {
    const bytes = exrBytes([compression, exrAttribute("displayWindow", "box2i", box2i(0, 0, 63, 47))]);
    expect(inspectImage(bytes)).toEqual({ format: "OPEN_EXR", width: 64, height: 48 });
  });

  const png = pngBytes(64, 48);
  const jpeg = jpegBytes([app1Exif, sof(0xc0, 64, 48)]);
  const exr = exrBytes([compression, exrAttribute("dataWindow", "box2i", box2i(0, 0, 63, 47))]);

  test.each([
    ["empty", new Uint8Array()],
    ["text", new TextEncoder().encode("this is not an image at all")],
    ["a .blend", new TextEncoder().encode("BLENDER-v304REND\0\0\0\0")],
    ["a PNG cut inside IHDR", png.subarray(0, 20)],
    ["a PNG without IHDR first", Buffer.concat([Buffer.from(png.subarray(0, 12)), Buffer.from("IDAT"), png.subarray(16)])],
    ["a PNG 0 pixels wide", pngBytes(0, 48)],
    ["a PNG with a width over 2^31", pngBytes(0x80000000, 48)],
    ["a JPEG cut before its frame header", jpeg.subarray(0, 100)],
    ["a JPEG cut inside its frame header", jpeg.subarray(0, jpeg.length - 12)],
    ["a JPEG whose scan starts before any frame header", jpegBytes([app1Exif, [0xff, 0xda, 0, 2]])],
    ["a JPEG with garbage between segments", jpegBytes([app1Exif, [0x00, 0x00], sof(0xc0, 64, 48)])],
    ["a JPEG with a segment length below 2", jpegBytes([[0xff, 0xe0, 0, 1], sof(0xc0, 64, 48)])],
    ["a JPEG 0 lines high (DNL)", jpegBytes([sof(0xc0, 64, 0)])],
    ["an EXR cut inside the dataWindow", exr.subarray(0, exr.length - 8)],
    ["an EXR cut inside a name", exr.subarray(0, 12)],
    ["an EXR without a window", exrBytes([compression])],
    ["an EXR with a reversed window", exrBytes([exrAttribute("dataWindow", "box2i", box2i(63, 47, 0, 0))])],
    ["an EXR with a negative attribute size", exrBytes([Buffer.from("x\0int\0\xff\xff\xff\xff", "latin1")])],
    ["an EXR with a name longer than 255 bytes", exrBytes([exrAttribute("n".repeat(300), "int", Buffer.alloc(4))])],
  ])("null for %s", (_name, bytes) => {
    expect(inspectImage(bytes)).toBeNull();
  });

  test("reads from a view into a larger buffer", () => {
    const larger = new Uint8Array(100);
    larger.set(png, 50);
    expect(inspectImage(larger.subarray(50))).toEqual({ format: "PNG", width: 64, height: 48 });
  });
});

describe("inspectImage with frames Blender wrote", () => {
  const frames = new Map<ImageFormat, Buffer>();

  // One Blender start renders the scene once and saves the result in each format.
  beforeAll(async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-image-"));
    const scene = await makeScene({ width: 64, height: 48 });
    const formats: Record<ImageFormat, string> = { PNG: "png", JPEG: "jpg", OPEN_EXR: "exr" };
    const save = Object.entries(formats)
      .map(([format, extension]) => {
        const file = path.join(dir, `frame.${extension}`);
        return `s.render.image_settings.file_format = "${format}"; r.save_render(${JSON.stringify(file)}, scene=s)`;
      })
      .join("\n");
    const script = `import bpy\ns = bpy.context.scene\nbpy.ops.render.render()\nr = bpy.data.images["Render Result"]\n${save}`;
    await execa(BLENDER, ["-b", "--factory-startup", "--disable-autoexec", scene, "--python-expr", script]);
    for (const [format, extension] of Object.entries(formats)) {
      frames.set(format as ImageFormat, await fs.readFile(path.join(dir, `frame.${extension}`)));
    }
    await fs.rm(dir, { recursive: true });
  }, 60_000);

  test.each(["PNG", "JPEG", "OPEN_EXR"] as const)("%s: format and 64 × 48", (format) => {
    const bytes = frames.get(format)!;
    expect(inspectImage(bytes)).toEqual({ format, width: 64, height: 48 });
    // The header alone is enough.
    expect(inspectImage(bytes.subarray(0, Math.min(bytes.length, 4096)))).toEqual({ format, width: 64, height: 48 });
  });

  test.each(["PNG", "JPEG", "OPEN_EXR"] as const)("%s cut to its first 16 bytes is null", (format) => {
    expect(inspectImage(frames.get(format)!.subarray(0, 16))).toBeNull();
  });
});
