import { crc32, deflateSync } from "node:zlib";

// Real PNG files built in code, so anything that reads or decodes one finds what the test
// meant: the callers choose the pixels, this writes the signature and the chunks.

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** PNG colour types the tests use: 0 greyscale, 2 RGB (both 8 bits a sample). */
export type PngColour = 0 | 2;

/**
 * A PNG of these scanlines: `rows` holds each row as its filter byte then its samples,
 * as IDAT wants them before deflate.
 */
export function encodePng(width: number, height: number, colour: PngColour, rows: Buffer): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, colour, 0, 0, 0], 8);
  return Buffer.concat([SIGNATURE, pngChunk("IHDR", header), pngChunk("IDAT", deflateSync(rows)), pngChunk("IEND", Buffer.alloc(0))]);
}

/** Greyscale scanlines, every pixel `shade`, every row unfiltered. */
export function greyRows(width: number, height: number, shade: number): Buffer {
  const rows = Buffer.alloc((width + 1) * height, shade & 0xff);
  for (let row = 0; row < height; row += 1) rows[row * (width + 1)] = 0;
  return rows;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

/**
 * A PNG's tEXt chunks, keyword → text: where Blender writes a frame's metadata (Camera,
 * Scene, and Cycles' `cycles.<view layer>.samples`), so a test can see what rendered it.
 */
export function pngText(png: Buffer): Record<string, string> {
  const text: Record<string, string> = {};
  for (let offset = SIGNATURE.length; offset + 8 <= png.length; ) {
    const length = png.readUInt32BE(offset);
    const type = png.toString("latin1", offset + 4, offset + 8);
    if (type === "tEXt") {
      const data = png.subarray(offset + 8, offset + 8 + length);
      const nul = data.indexOf(0);
      text[data.toString("latin1", 0, nul)] = data.toString("latin1", nul + 1);
    }
    offset += 12 + length;
  }
  return text;
}
