import type { OutputFormat } from "./output-format";

/**
 * What an uploaded frame is, from its first bytes: PNG, JPEG or OpenEXR, and its size.
 * Pure: callers bring the bytes (the whole file, or its first IMAGE_PROBE_BYTES).
 * Anything else, or a header cut short, is null.
 */

/** The formats a frame may come back in: those a render can write. */
export type ImageFormat = OutputFormat;

export interface ImageInfo {
  format: ImageFormat;
  width: number;
  height: number;
}

/** Enough bytes for any header Blender writes (a JPEG's size may follow EXIF data). */
export const IMAGE_PROBE_BYTES = 256 * 1024;

export const IMAGE_CONTENT_TYPES: Record<ImageFormat, string> = {
  PNG: "image/png",
  JPEG: "image/jpeg",
  OPEN_EXR: "image/x-exr",
};

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const EXR_MAGIC = [0x76, 0x2f, 0x31, 0x01];

export function inspectImage(bytes: Uint8Array): ImageInfo | null {
  if (startsWith(bytes, PNG_SIGNATURE)) return png(bytes);
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return jpeg(bytes);
  if (startsWith(bytes, EXR_MAGIC)) return exr(bytes);
  return null;
}

function startsWith(bytes: Uint8Array, magic: readonly number[]) {
  return bytes.length >= magic.length && magic.every((byte, index) => bytes[index] === byte);
}

const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function sized(format: ImageFormat, width: number, height: number): ImageInfo | null {
  return width > 0 && height > 0 ? { format, width, height } : null;
}

// The first chunk of a PNG is IHDR (length 13): width and height, big-endian.
function png(bytes: Uint8Array): ImageInfo | null {
  if (bytes.length < 24) return null;
  const data = view(bytes);
  const ihdr = String.fromCharCode(...bytes.subarray(12, 16));
  if (data.getUint32(8) !== 13 || ihdr !== "IHDR") return null;
  const width = data.getUint32(16);
  const height = data.getUint32(20);
  return width > 0x7fffffff || height > 0x7fffffff ? null : sized("PNG", width, height);
}

// Start-of-frame markers of every JPEG process; C4 (DHT), C8 (reserved) and CC (DAC) are not.
const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);
const START_OF_SCAN = 0xda;

// Walk the marker segments to the frame header: precision, height, width (big-endian).
function jpeg(bytes: Uint8Array): ImageInfo | null {
  const data = view(bytes);
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) return null;
    const marker = bytes[offset + 1];
    if (marker === 0xff) {
      offset += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset += 2; // markers without a length
      continue;
    }
    if (marker === START_OF_SCAN || marker === 0xd9) return null;
    const length = data.getUint16(offset + 2);
    if (length < 2) return null;
    if (SOF_MARKERS.has(marker)) {
      if (length < 8 || offset + 9 > bytes.length) return null;
      return sized("JPEG", data.getUint16(offset + 7), data.getUint16(offset + 5));
    }
    offset += 2 + length;
  }
  return null;
}

// After the magic and a version word: attributes as name\0 type\0 size value, ended by
// an empty name. The pixels are the dataWindow box2i (xMin, yMin, xMax, yMax; inclusive).
function exr(bytes: Uint8Array): ImageInfo | null {
  const data = view(bytes);
  let offset = 8;
  let displayWindow: ImageInfo | null = null;
  for (;;) {
    const name = cString(bytes, offset);
    if (name === null) return null;
    offset = name.end;
    if (name.text === "") return displayWindow;
    const type = cString(bytes, offset);
    if (type === null || type.end + 4 > bytes.length) return null;
    const size = data.getInt32(type.end, true);
    const valueAt = type.end + 4;
    if (size < 0 || valueAt + size > bytes.length) return null;
    if (type.text === "box2i" && size === 16 && (name.text === "dataWindow" || name.text === "displayWindow")) {
      const [xMin, yMin, xMax, yMax] = [0, 4, 8, 12].map((at) => data.getInt32(valueAt + at, true));
      const box = sized("OPEN_EXR", xMax - xMin + 1, yMax - yMin + 1);
      if (name.text === "dataWindow") return box;
      displayWindow = box;
    }
    offset = valueAt + size;
  }
}

// EXR names are at most 255 bytes (with the long-names flag; 31 without).
export function cString(bytes: Uint8Array, start: number): { text: string; end: number } | null {
  const limit = Math.min(bytes.length, start + 256);
  for (let index = start; index < limit; index += 1) {
    if (bytes[index] === 0) return { text: String.fromCharCode(...bytes.subarray(start, index)), end: index + 1 };
  }
  return null;
}
