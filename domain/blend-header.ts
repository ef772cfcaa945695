/**
 * What the first bytes of an upload say about it: a zip, or a .blend (maybe gzip- or
 * zstd-compressed, as Blender's "Compress" option saves it), and the Blender version
 * that saved it. Pure: callers bring the bytes.
 */

export const BLEND_COMPRESSIONS = ["none", "gzip", "zstd"] as const;
export type BlendCompression = (typeof BLEND_COMPRESSIONS)[number];

/** An upload is a .blend, or a zip of a .blend with what it needs. */
export const ARCHIVE_KINDS = ["blend", "zip"] as const;
export type ArchiveKind = (typeof ARCHIVE_KINDS)[number];

export interface BlendHeader {
  /** Blender version that saved the file, e.g. "3.4", "2.79", "5.0". */
  blenderVersion: string;
  pointerSize: 4 | 8;
  endianness: "little" | "big";
}

/** Enough decompressed bytes for either header layout. */
export const BLEND_HEADER_BYTES = 17;

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
// A local file header opens a zip with entries; an end-of-central-directory record an empty one.
const ZIP_MAGICS = [
  [0x50, 0x4b, 0x03, 0x04],
  [0x50, 0x4b, 0x05, 0x06],
];

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return bytes.length >= magic.length && magic.every((byte, index) => bytes[index] === byte);
}

export function detectCompression(bytes: Uint8Array): BlendCompression {
  if (startsWith(bytes, GZIP_MAGIC)) return "gzip";
  if (startsWith(bytes, ZSTD_MAGIC)) return "zstd";
  return "none";
}

export function isZip(bytes: Uint8Array): boolean {
  return ZIP_MAGICS.some((magic) => startsWith(bytes, magic));
}

const LEGACY_HEADER = /^BLENDER([_-])([vV])(\d)(\d\d)$/;
// Blender 5 widened the header: its size, a file format version, then a 4-digit version.
const LARGE_HEADER = /^BLENDER(\d\d)-(\d\d)([vV])(\d\d)(\d\d)$/;

const ascii = (bytes: Uint8Array, length: number) =>
  Array.from(bytes.subarray(0, length), (byte) => String.fromCharCode(byte)).join("");

/** The header of an uncompressed .blend, or null when these bytes are not one. */
export function parseBlendHeader(bytes: Uint8Array): BlendHeader | null {
  const legacy = LEGACY_HEADER.exec(ascii(bytes, 12));
  if (legacy) {
    const [, pointer, endian, major, minor] = legacy;
    return {
      blenderVersion: `${Number(major)}.${Number(minor)}`,
      pointerSize: pointer === "_" ? 4 : 8,
      endianness: endian === "v" ? "little" : "big",
    };
  }
  const large = LARGE_HEADER.exec(ascii(bytes, 17));
  if (large) {
    const [, , , endian, major, minor] = large;
    return {
      blenderVersion: `${Number(major)}.${Number(minor)}`,
      pointerSize: 8,
      endianness: endian === "v" ? "little" : "big",
    };
  }
  return null;
}

/** Raw bytes that hold a zstd frame header in full. */
export const ZSTD_FRAME_HEADER_BYTES = 18;

/**
 * The window a zstd frame asks its decompressor to allocate (RFC 8878 §3.1.1.1), read
 * before any decompressing so a crafted header cannot make the server allocate gigabytes.
 * Null when the bytes hold no complete zstd frame header.
 */
export function zstdWindowBytes(bytes: Uint8Array): number | null {
  if (detectCompression(bytes) !== "zstd" || bytes.length < 6) return null;
  const descriptor = bytes[4];
  const singleSegment = (descriptor >> 5) & 1;
  if (!singleSegment) {
    const windowDescriptor = bytes[5];
    const base = 2 ** (10 + (windowDescriptor >> 3));
    return base + (base / 8) * (windowDescriptor & 7);
  }
  const dictionaryBytes = [0, 1, 2, 4][descriptor & 3];
  const contentSizeFlag = descriptor >> 6;
  const contentSizeBytes = [1, 2, 4, 8][contentSizeFlag];
  const start = 5 + dictionaryBytes;
  if (bytes.length < start + contentSizeBytes) return null;
  let size = 0;
  for (let index = contentSizeBytes - 1; index >= 0; index -= 1) size = size * 256 + bytes[start + index];
  return contentSizeFlag === 1 ? size + 256 : size;
}
