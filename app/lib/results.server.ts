import fs from "node:fs/promises";
import type * as SharpModuleNamespace from "sharp";
import { OUTPUT_FORMAT_LABELS } from "../../domain/output-format";
import { exrStructureProblem } from "../../domain/exr";
import { IMAGE_PROBE_BYTES, inspectImage, type ImageFormat, type ImageInfo } from "../../domain/image";
import { receiveBody } from "./archive-upload.server";
import { formatBytes } from "./format";
import { Problem } from "./problem.server";
import { getRuntime } from "./runtime.server";

// Rendered frames on their way in (docs/design.md §7): streamed to disk, checked against what the
// render asked for, a thumbnail made, then kept content-addressed under results/.

type SharpModule = typeof SharpModuleNamespace;
let sharpModule: Promise<SharpModule> | undefined;

/**
 * sharp, loaded at the first thumbnail: libvips adds some 20 MB to the server's memory,
 * which a server that only takes uploads and answers the PWA need not carry.
 */
function loadSharp() {
  sharpModule ??= import("sharp").then((module) => {
    // Frames come one at a time and each file is read once: libvips' cache would only hold memory.
    module.default.cache(false);
    return module;
  });
  return sharpModule;
}

/** Thumbnails fit in this square: the PWA's frame grid shows them small. */
export const THUMBNAIL_SIZE = 320;

/** The storage folders of frame images and their thumbnails (the blob sweep walks them). */
export const FRAME_BLOB_PREFIXES = { image: "results/", thumbnail: "thumbnails/" } as const;
/** The content-addressed key of a frame's image. */
export const resultKey = (sha256: string) => `${FRAME_BLOB_PREFIXES.image}${sha256.slice(0, 2)}/${sha256}`;
/** The key of the thumbnail of the image of this sha256. */
export const thumbnailKey = (sha256: string) => `${FRAME_BLOB_PREFIXES.thumbnail}${sha256.slice(0, 2)}/${sha256}.webp`;

export interface ReceivedFrame {
  /** A temporary file the caller removes (or commits). */
  file: string;
  sha256: string;
  size: number;
  head: Buffer;
}

/** Streams a frame upload to a temporary file, bounded by CACTUS_MAX_FRAME_BYTES. */
export async function receiveFrame(request: Request): Promise<ReceivedFrame> {
  const { config, storage } = getRuntime();
  const limit = config.CACTUS_MAX_FRAME_BYTES;
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > limit) throw frameTooLarge(`is ${formatBytes(declared)}`, limit);
  const file = await storage.temporaryPath();
  if (!request.body) return { file, sha256: "", size: 0, head: Buffer.alloc(0) };
  try {
    const received = await receiveBody(request, request.body, file, {
      limit,
      tooLarge: () => frameTooLarge("is larger than that", limit),
      headBytes: IMAGE_PROBE_BYTES,
    });
    return { file, sha256: received.hash, size: received.size, head: received.head };
  } catch (error) {
    await fs.rm(file, { force: true });
    throw error;
  }
}

function frameTooLarge(what: string, limit: number): Problem {
  return new Problem(
    "payload_too_large",
    `The frame ${what}; the limit is ${formatBytes(limit)}. Set CACTUS_MAX_FRAME_BYTES on the server to allow more.`,
  );
}


export type FrameCheck = { ok: true; image: ImageInfo } | { ok: false; reason: string };

/**
 * What the frame's first bytes say against what the render asked for: not empty, the
 * format by its magic bytes (not the Content-Type the agent sent), and the size the
 * scene renders at when that is known.
 */
export function checkFrame(
  frame: Pick<ReceivedFrame, "size" | "head">,
  wanted: { format: ImageFormat; expected: { width: number; height: number } | null },
): FrameCheck {
  if (frame.size === 0) return { ok: false, reason: "the file is empty" };
  const image = inspectImage(frame.head);
  if (!image) return { ok: false, reason: "it is not a PNG, JPEG or OpenEXR image, or its header is damaged" };
  if (image.format !== wanted.format) {
    return { ok: false, reason: `it is a ${OUTPUT_FORMAT_LABELS[image.format]} image; the render asked for ${OUTPUT_FORMAT_LABELS[wanted.format]}` };
  }
  const { expected } = wanted;
  if (expected && (image.width !== expected.width || image.height !== expected.height)) {
    return {
      ok: false,
      reason: `it is ${image.width}×${image.height} pixels; the scene renders ${expected.width}×${expected.height}`,
    };
  }
  return { ok: true, image };
}

export type Thumbnail = { ok: true; file: string | null } | { ok: false; reason: string };

/**
 * Decodes the whole image (so a frame damaged past its header is caught here) and writes
 * its thumbnail to a temporary file. OpenEXR gets none: the libvips in sharp's prebuilt
 * binaries reads no EXR, so such a frame has its structure checked instead (domain/exr.ts).
 */
export async function makeThumbnail(file: string, format: ImageFormat): Promise<Thumbnail> {
  if (format === "OPEN_EXR") {
    const problem = await checkExrFile(file);
    return problem ? { ok: false, reason: `the OpenEXR image is damaged: ${problem}` } : { ok: true, file: null };
  }
  const { default: sharp } = await loadSharp();
  const thumbnail = await getRuntime().storage.temporaryPath();
  try {
    await sharp(file, { failOn: "warning", sequentialRead: true })
      .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: "inside", withoutEnlargement: true })
      .webp({ quality: 80 })
      .toFile(thumbnail);
    return { ok: true, file: thumbnail };
  } catch (error) {
    await fs.rm(thumbnail, { force: true });
    const why = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return { ok: false, reason: `the ${OUTPUT_FORMAT_LABELS[format]} image cannot be decoded (${why})` };
  }
}

async function checkExrFile(file: string): Promise<string | null> {
  const handle = await fs.open(file);
  try {
    const { size } = await handle.stat();
    return await exrStructureProblem(async (offset, length) => {
      const buffer = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
      return buffer.subarray(0, bytesRead);
    }, size);
  } finally {
    await handle.close();
  }
}

/** Moves a checked frame and its thumbnail under their content addresses; returns their keys. */
export async function storeFrame(frame: ReceivedFrame, thumbnail: string | null): Promise<{ imageKey: string; thumbnailKey: string | null }> {
  const { storage } = getRuntime();
  const keys = { imageKey: resultKey(frame.sha256), thumbnailKey: thumbnail ? thumbnailKey(frame.sha256) : null };
  await storage.commit(frame.file, keys.imageKey);
  if (thumbnail && keys.thumbnailKey) await storage.commit(thumbnail, keys.thumbnailKey);
  return keys;
}
