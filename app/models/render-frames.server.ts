import type { Readable } from "node:stream";
import { QueryTypes } from "sequelize";
import { ZipFile } from "yazl";
import type { FrameDto } from "../../contract";
import type { OutputFormat, TaskStatus } from "../../db/models";
import { frameFilename, renderZipFilename, sceneBaseName } from "../../domain/frame-files";
import { FrameRangeError, formatFrameRange, parseFrameRange, type FrameRange } from "../../domain/frames";
import { IMAGE_CONTENT_TYPES } from "../../domain/image";
import { db } from "../lib/db.server";
import { Problem } from "../lib/problem.server";
import { getRuntime } from "../lib/runtime.server";
import { noSuchRender } from "./render.server";

// A render's frames: their list, one image (or its thumbnail), and a zip of them all.
// Images are blobs in BlobStorage under the keys the result rows hold.

interface RenderFiles {
  id: number;
  range: FrameRange;
  format: OutputFormat;
  base: string;
}

async function requireRenderFiles(id: number, userId: number): Promise<RenderFiles> {
  const [row] = await db().query<{
    frame_start: number;
    frame_end: number;
    frame_step: number;
    output_format: OutputFormat;
    filename: string;
    main_path: string | null;
  }>(
    `SELECT r.frame_start, r.frame_end, r.frame_step, r.output_format, a.filename, a.main_path
       FROM renders r JOIN archives a ON a.id = r.archive_id WHERE r.id = :id AND r.created_by = :userId`,
    { replacements: { id, userId }, type: QueryTypes.SELECT },
  );
  if (!row) throw noSuchRender(id);
  return {
    id,
    range: { start: row.frame_start, end: row.frame_end, step: row.frame_step },
    format: row.output_format,
    base: sceneBaseName({ filename: row.filename, mainPath: row.main_path }),
  };
}

/**
 * Frame images' sizes: the one recorded at upload, else (results from before sizes were
 * kept) the stored blob's, a few at a time; an image gone from the disk has none.
 */
async function imageSizes(images: { image_key: string | null; image_bytes: number | null }[]): Promise<(number | null)[]> {
  const { storage } = getRuntime();
  const sizes = images.map((image) => image.image_bytes);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < images.length; index = next++) {
      const key = images[index].image_key;
      if (key && sizes[index] === null) sizes[index] = await storage.size(key);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return sizes;
}

const FRAME_STATUS: Record<TaskStatus, FrameDto["status"]> = {
  queued: "queued",
  leased: "rendering",
  done: "done",
  failed: "failed",
  cancelled: "cancelled",
};

/** The render's frames, or those of `window` (a page of them): the rest are never read. */
export async function listFrames({ id, userId, window }: { id: number; userId: number; window?: FrameRange }): Promise<FrameDto[]> {
  const render = await requireRenderFiles(id, userId);
  const from = window?.start ?? render.range.start;
  const to = window?.end ?? render.range.end;
  const rows = await db().query<{
    frame: number;
    task_status: TaskStatus;
    accepted: boolean;
    worker_name: string | null;
    render_time_ms: number | null;
    width: number | null;
    height: number | null;
    image_key: string | null;
    image_bytes: number | null;
  }>(
    /* sql */ `
SELECT f.frame, t.status AS task_status, x.id IS NOT NULL AS accepted,
       CASE WHEN x.id IS NOT NULL THEN xw.name WHEN t.status = 'leased' THEN tw.name END AS worker_name,
       x.render_time_ms, x.width, x.height, x.image_key, x.image_bytes
  FROM tasks t
 CROSS JOIN LATERAL generate_series(t.frame_start, t.frame_end, :step) AS f (frame)
  LEFT JOIN results x ON x.render_id = t.render_id AND x.frame = f.frame AND x.accepted
  LEFT JOIN workers xw ON xw.id = x.worker_id
  LEFT JOIN workers tw ON tw.id = t.worker_id
 WHERE t.render_id = :id AND t.kind = 'render' AND t.frame_end >= :from AND t.frame_start <= :to
   AND f.frame BETWEEN :from AND :to
 ORDER BY f.frame`,
    { replacements: { id, step: render.range.step, from, to }, type: QueryTypes.SELECT },
  );
  const sizes = await imageSizes(rows);
  return rows.map((row, index) => ({
    frame: row.frame,
    status: row.accepted ? "done" : FRAME_STATUS[row.task_status],
    workerName: row.worker_name,
    renderTimeMs: row.render_time_ms,
    width: row.width,
    height: row.height,
    filename: frameFilename(render.base, row.frame, render.format),
    bytes: sizes[index],
  }));
}

/** `frames=A-B` of a query, or a 400 that says how to write it. */
export function frameWindow(text: string | undefined): FrameRange | undefined {
  if (text === undefined) return undefined;
  try {
    return parseFrameRange(text);
  } catch (error) {
    if (error instanceof FrameRangeError) throw new Problem("bad_request", error.message);
    throw error;
  }
}

const inRange = (frame: number, { start, end, step }: FrameRange) => frame >= start && frame <= end && (frame - start) % step === 0;

export interface FrameFile {
  stream: Readable;
  size: number;
  contentType: string;
  filename: string;
}

/** A rendered frame's image, or its thumbnail. */
export async function frameFile({
  id,
  userId,
  frame,
  thumbnail = false,
}: {
  id: number;
  userId: number;
  frame: number;
  thumbnail?: boolean;
}): Promise<FrameFile> {
  const render = await requireRenderFiles(id, userId);
  if (!inRange(frame, render.range)) {
    throw new Problem("not_found", `Render ${id} has no frame ${frame}; its frames are ${formatFrameRange(render.range)}.`);
  }
  const [result] = await db().query<{ image_key: string | null; thumbnail_key: string | null }>(
    `SELECT image_key, thumbnail_key FROM results WHERE render_id = :id AND frame = :frame AND accepted`,
    { replacements: { id, frame }, type: QueryTypes.SELECT },
  );
  if (!result?.image_key) {
    throw new Problem("not_found", `Frame ${frame} of render ${id} is not rendered yet; \`cactus render status ${id}\` shows how far it is.`);
  }
  const key = thumbnail ? result.thumbnail_key : result.image_key;
  if (!key) throw new Problem("not_found", `Frame ${frame} of render ${id} has no thumbnail; download the frame itself.`);
  const { storage } = getRuntime();
  // Missing is a 404; a store that cannot answer now is an error to retry, not a verdict.
  const size = await storage.size(key);
  if (size === null) throw new Problem("not_found", `The image of frame ${frame} of render ${id} is missing from the server's storage.`);
  const filename = frameFilename(render.base, frame, render.format);
  return {
    stream: storage.read(key),
    size,
    contentType: thumbnail ? await sniffContentType(key) : IMAGE_CONTENT_TYPES[render.format],
    filename: thumbnail ? filename.replace(/\.[a-z]+$/, "_thumbnail") : filename,
  };
}

/** A thumbnail's media type from its first bytes: its maker may choose PNG, JPEG or WebP. */
async function sniffContentType(key: string): Promise<string> {
  const head: Buffer[] = [];
  for await (const chunk of getRuntime().storage.read(key, { start: 0, end: 11 })) head.push(chunk as Buffer);
  const bytes = Buffer.concat(head);
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return "image/png";
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return "image/jpeg";
  if (bytes.subarray(0, 4).toString("latin1") === "RIFF" && bytes.subarray(8, 12).toString("latin1") === "WEBP") return "image/webp";
  return "application/octet-stream";
}

export interface RenderZip {
  stream: Readable;
  size: number;
  filename: string;
  frames: number;
}

/**
 * A zip of the render's accepted frames (those in `frames` when given), made as it is
 * sent: entries are read one at a time from storage, stored uncompressed (PNG, JPEG and
 * EXR are compressed already), so its size is known up front and its memory is a buffer.
 */
export async function renderZip({ id, userId, frames }: { id: number; userId: number; frames?: string }): Promise<RenderZip> {
  const render = await requireRenderFiles(id, userId);
  const wanted = frameWindow(frames) ?? render.range;
  const rows = await db().query<{ frame: number; image_key: string; image_bytes: number | null; created_at: Date }>(
    /* sql */ `
SELECT frame, image_key, image_bytes, created_at FROM results
 WHERE render_id = :id AND accepted AND image_key IS NOT NULL
   AND frame BETWEEN :start AND :end AND (frame - :start) % :step = 0
 ORDER BY frame`,
    { replacements: { id, ...wanted }, type: QueryTypes.SELECT },
  );
  const sizes = await imageSizes(rows);
  const stored = rows.flatMap((row, index) => (sizes[index] === null ? [] : [{ ...row, size: sizes[index]! }]));
  if (stored.length === 0) {
    const which = frames === undefined ? "" : ` in ${formatFrameRange(wanted)}`;
    throw new Problem("not_found", `Render ${id} has no rendered frames${which} yet; \`cactus render status ${id}\` shows how far it is.`);
  }

  const { storage } = getRuntime();
  const zip = new ZipFile();
  let reading: Readable | undefined;
  for (const row of stored) {
    zip.addReadStreamLazy(
      frameFilename(render.base, row.frame, render.format),
      { size: row.size, compress: false, mtime: row.created_at },
      (give) => {
        reading = storage.read(row.image_key);
        give(null, reading);
      },
    );
  }
  const size = await new Promise<number>((resolve) => zip.end(undefined, resolve as () => void));
  const output = zip.outputStream as Readable;
  // A blob that breaks off mid-read ends the download with an error, not the server.
  zip.on("error", (error: Error) => output.destroy(error));
  // The client went away: stop reading the frame in progress too.
  output.on("close", () => reading?.destroy());
  return { stream: output, size, filename: renderZipFilename(render.base, id), frames: stored.length };
}

/** A frame number from the URL (Blender's frames are 0 to 1 048 574); anything else is simply not found. */
export function frameParam(params: Record<string, string | undefined>): number {
  const raw = params.frame ?? "";
  if (!/^\d{1,7}$/.test(raw)) throw new Problem("not_found", `No frame ${raw}; a frame is a number like 12.`);
  return Number(raw);
}
