import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, test } from "vitest";
import { exrBytes } from "../tests/helpers/exr";
import { BLENDER, makeScene } from "../tests/helpers/scenes";
import { exrStructureProblem } from "./exr";

const check = (bytes: Buffer) =>
  exrStructureProblem(async (offset, length) => bytes.subarray(offset, offset + length), bytes.length);

describe("an OpenEXR frame's structure", () => {
  let blenderExr: Buffer;

  beforeAll(async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-exr-"));
    const scene = await makeScene({ width: 64, height: 48 });
    const file = path.join(dir, "frame.exr");
    const script = `import bpy\ns = bpy.context.scene\nbpy.ops.render.render()\ns.render.image_settings.file_format = "OPEN_EXR"\nbpy.data.images["Render Result"].save_render(${JSON.stringify(file)}, scene=s)`;
    await execa(BLENDER, ["-b", "--factory-startup", "--disable-autoexec", scene, "--python-expr", script]);
    blenderExr = await fs.readFile(file);
    await fs.rm(dir, { recursive: true });
  }, 60_000);

  test("a frame Blender wrote, and one built by hand, are whole", async () => {
    expect(await check(blenderExr)).toBeNull();
    expect(await check(exrBytes(7, 5))).toBeNull();
  });

  test("cut short anywhere past its header: refused", async () => {
    for (const keep of [0.3, 0.6, 0.9, 0.999]) {
      const cut = blenderExr.subarray(0, Math.floor(blenderExr.length * keep));
      expect(await check(cut), `cut at ${keep}`).toMatch(/ends inside its chunk table|points outside the file|runs past the end/);
    }
    const hand = exrBytes(7, 5);
    expect(await check(hand.subarray(0, hand.length - 1))).toMatch(/chunk 4 runs past the end of the file/);
  });

  test("a chunk table pointing elsewhere, or a chunk that is not the one its place says: refused", async () => {
    const hand = exrBytes(7, 5);
    const headerEnd = hand.length - 5 * 8 - 5 * (8 + 14);
    const wild = Buffer.from(hand);
    wild.writeBigUInt64LE(10n ** 12n, headerEnd + 8);
    expect(await check(wild)).toMatch(/chunk 1 points outside the file/);
    const swapped = Buffer.from(hand);
    swapped.writeBigUInt64LE(hand.readBigUInt64LE(headerEnd + 16), headerEnd + 8);
    expect(await check(swapped)).toMatch(/chunk 1 starts at scanline 2, not 1/);
    const intoHeader = Buffer.from(hand);
    intoHeader.writeBigUInt64LE(8n, headerEnd);
    expect(await check(intoHeader)).toMatch(/chunk 0 points outside the file/);
  });

  test("a chunk claiming more bytes than its pixels can take: refused", async () => {
    const hand = exrBytes(7, 5);
    const firstChunk = hand.length - 5 * (8 + 14);
    const inflated = Buffer.from(hand);
    inflated.writeInt32LE(15, firstChunk + 4);
    expect(await check(inflated)).toMatch(/chunk 0 says it holds 15 bytes, where 14 is the most it can/);
  });

  test("a damaged header, a deep or multi-part file, an absurd data window: refused", async () => {
    expect(await check(blenderExr.subarray(0, 40))).toMatch(/header is cut short or damaged/);
    const multipart = Buffer.from(blenderExr);
    multipart.writeUInt32LE(0x1002, 4);
    expect(await check(multipart)).toMatch(/multi-part or deep/);
    const huge = exrBytes(7, 5);
    const at = huge.indexOf("dataWindow\0box2i\0", 0, "latin1") + "dataWindow\0box2i\0".length + 4;
    huge.writeInt32LE(1 << 20, at + 12);
    expect(await check(huge)).toMatch(/data window .* is not an image size/);
    expect(await check(Buffer.from("not an exr at all"))).toMatch(/not an OpenEXR file/);
  });
});
