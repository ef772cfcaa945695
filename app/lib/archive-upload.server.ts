import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { CONTENT_SHA256_HEADER, sha256Schema } from "../../contract";
import { ZSTD_FRAME_HEADER_BYTES, isZip } from "../../domain/blend-header";
import type { Archive } from "../../db/models";
import {
  findProjectArchiveByHash,
  findUserArchiveByHash,
  noSuchBytes,
  sceneFactsOf,
  storeArchive,
  type StoredArchive,
} from "~/models/archive.server";
import {
  inspectStoredZip,
  inspectZipFile,
  normalizeZipPath,
  readBlendFactsFromFile,
  type BlendFacts,
} from "./archive-inspect.server";
import { handleApi } from "./api.server";
import { formatBytes } from "./format";
import { Problem } from "./problem.server";
import { getRuntime } from "./runtime.server";

export interface UploadTarget {
  projectId: number;
  userId: number;
  filename: string;
  /** The main .blend inside a zip with several. */
  main?: string;
}

// Big writes keep the syscalls few; the socket hands over at most 64 KiB at a time anyway.
const WRITE_CHUNK_BYTES = 1024 * 1024;

/**
 * Takes a raw request body as an archive: streamed to a temporary file and hashed on the
 * way (never held in memory), checked, then moved under its content address and recorded.
 * Whatever fails, the temporary file goes and no row is written.
 */
export async function receiveArchiveUpload(request: Request, target: UploadTarget): Promise<StoredArchive> {
  const { config, storage } = getRuntime();
  const limit = config.CACTUS_MAX_ARCHIVE_BYTES;
  const declaredHash = declaredSha256(request);
  const declaredLength = declaredContentLength(request);
  if (declaredLength !== null && declaredLength > limit) throw tooLarge(`is ${formatBytes(declaredLength)}`, limit);
  if (declaredLength === 0 || !request.body) throw emptyFile();

  const temporaryFile = await storage.temporaryPath();
  try {
    const received = await receiveBody(request, request.body, temporaryFile, {
      limit,
      tooLarge: () => tooLarge("is larger than that", limit),
    });
    if (received.size === 0) throw emptyFile();
    if (declaredLength !== null && received.size !== declaredLength) {
      throw truncated(`after ${received.size} of ${declaredLength} bytes`);
    }
    if (declaredHash && declaredHash !== received.hash) {
      throw new Problem(
        "unprocessable",
        `The bytes received have sha256 ${received.hash}, not the ${declaredHash} declared in ${CONTENT_SHA256_HEADER}; ` +
          "the file changed or was damaged on the way. Nothing was stored; upload it again.",
      );
    }
    const existing = await findProjectArchiveByHash(target.projectId, received.hash);
    if (existing) return alreadyInProject(existing, target.main);

    const zip = isZip(received.head);
    const { mainPath, blend } = zip
      ? await inspectZipFile(temporaryFile, { main: target.main, limits: zipLimits() })
      : { mainPath: null, blend: await readBlendFactsFromFile(temporaryFile) };
    if (!blend) throw notAnArchive(target.filename);
    return await storeArchive(
      {
        projectId: target.projectId,
        uploadedBy: target.userId,
        filename: target.filename,
        hash: received.hash,
        size: received.size,
        kind: zip ? "zip" : "blend",
        mainPath,
        ...headerFacts(blend),
      },
      temporaryFile,
    );
  } finally {
    await fs.rm(temporaryFile, { force: true });
  }
}

export function zipLimits() {
  const { config } = getRuntime();
  return { maxEntries: config.CACTUS_MAX_ZIP_ENTRIES, maxUnpackedBytes: config.CACTUS_MAX_UNPACKED_BYTES };
}

export function headerFacts(blend: BlendFacts) {
  return { blenderVersion: blend.blenderVersion, compression: blend.compression };
}

export interface ReceivedBody {
  hash: string;
  size: number;
  /** At least the first `headBytes` (when there are that many): enough to tell what the file is. */
  head: Buffer;
}

/**
 * Streams a request body into `temporaryFile`, hashing it on the way and keeping its first
 * bytes (by default enough to tell a zip from a (compressed) .blend). Past `limit` bytes it
 * stops with `tooLarge()`; a body cut short is a bad request.
 */
export async function receiveBody(
  request: Request,
  body: ReadableStream<Uint8Array>,
  temporaryFile: string,
  { limit, tooLarge, headBytes = ZSTD_FRAME_HEADER_BYTES }: { limit: number; tooLarge: () => Problem; headBytes?: number },
): Promise<ReceivedBody> {
  const hash = createHash("sha256");
  let size = 0;
  let head = Buffer.alloc(0);
  // Node's web streams are async iterable; the DOM typings do not say so. A refusal midway
  // must not cancel the body: cancelling destroys the socket before the answer goes out.
  const chunks = (body as unknown as Uncancelled).values({ preventCancel: true });
  async function* hashed() {
    for await (const chunk of chunks) {
      size += chunk.byteLength;
      if (size > limit) throw tooLarge();
      if (head.length < headBytes) head = Buffer.concat([head, chunk.subarray(0, headBytes)]);
      hash.update(chunk);
      yield chunk;
    }
  }
  try {
    await pipeline(hashed, createWriteStream(temporaryFile, { highWaterMark: WRITE_CHUNK_BYTES }));
  } catch (error) {
    if (error instanceof Problem) throw error;
    // The client went away or the connection broke mid-body.
    throw truncated(`after ${size} bytes`);
  }
  // A connection closed mid-body can end the stream quietly rather than with an error.
  if (request.signal.aborted) throw truncated(`after ${size} bytes`);
  return { hash: hash.digest("hex"), size, head };
}

interface Uncancelled {
  values(options: { preventCancel: true }): AsyncIterable<Uint8Array>;
}

/**
 * Runs an upload route's handler. A refusal (a bad token, a bad query, too large, not a
 * .blend) is answered while the client may still be sending: the rest of the body is then
 * read and thrown away, as Node does with bodies a handler never reads. Left unread, it
 * would hold the connection (the next request on it waits, then is reset); cancelled, it
 * would reset the connection before the answer is out.
 */
export async function handleUpload(request: Request, run: () => Promise<Response>): Promise<Response> {
  const response = await handleApi(run);
  if (!response.ok && request.body) void discardRest(request.body);
  return response;
}

// Enough for the client to read the refusal that is already on its way to it.
const DISCARD_BYTES = 16 * 1024 * 1024;

/** Reads what is left of a body and drops it; past DISCARD_BYTES it hangs up. */
async function discardRest(body: ReadableStream<Uint8Array>): Promise<void> {
  try {
    const reader = body.getReader();
    let discarded = 0;
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      discarded += next.value.byteLength;
      if (discarded > DISCARD_BYTES) {
        await reader.cancel();
        return;
      }
    }
  } catch {
    // The client went away, or the body is already taken: nothing left to read here.
  }
}

function declaredSha256(request: Request): string | null {
  const value = request.headers.get(CONTENT_SHA256_HEADER);
  if (value === null) return null;
  const parsed = sha256Schema.safeParse(value.trim().toLowerCase());
  if (!parsed.success) throw new Problem("bad_request", `${CONTENT_SHA256_HEADER} must be 64 hex digits (the sha256 of the file).`);
  return parsed.data;
}

function declaredContentLength(request: Request): number | null {
  const value = request.headers.get("content-length");
  if (value === null) return null;
  const length = Number(value);
  if (!Number.isSafeInteger(length) || length < 0) throw new Problem("bad_request", "Content-Length is not a byte count.");
  return length;
}

function tooLarge(what: string, limit: number): Problem {
  return new Problem(
    "payload_too_large",
    `The archive ${what}; the limit is ${formatBytes(limit)}. Nothing was stored. ` +
      "Leave out what the render does not need, or set CACTUS_MAX_ARCHIVE_BYTES on the server to allow more.",
  );
}

function emptyFile(): Problem {
  return new Problem("unprocessable", "The file is empty; choose the .blend or .zip to upload.");
}

function truncated(when: string): Problem {
  return new Problem("bad_request", `The upload stopped ${when}; nothing was stored. Upload the file again.`);
}

function notAnArchive(filename: string): Problem {
  return new Problem(
    "unprocessable",
    `"${filename}" is not a .blend or .zip: a .blend starts with BLENDER (plain, gzip or zstd), a .zip with PK. ` +
      "Upload the scene saved from Blender, or a zip of its folder.",
  );
}

/**
 * The project's archive of these bytes, when it is what was asked for. A project holds a
 * file once, so the same zip with another main .blend cannot be added beside it; answering
 * the old one would render a scene nobody asked for.
 */
function alreadyInProject(existing: Archive, main: string | undefined): StoredArchive {
  const wanted = main === undefined ? undefined : normalizeZipPath(main);
  if (existing.kind === "zip" && wanted !== undefined && wanted !== existing.mainPath) {
    throw new Problem(
      "conflict",
      `This project already holds this zip as archive ${existing.id} ("${existing.filename}"), with "${existing.mainPath}" as its main .blend. ` +
        `To render "${wanted}" from it, add it to another project.`,
    );
  }
  return { archive: existing, deduplicated: true };
}

export interface DedupeTarget {
  projectId: number;
  userId: number;
  sha256: string;
  filename: string;
  mainPath?: string;
}

/**
 * "Do you have H?": adds an archive by hash when the calling user already uploaded those
 * bytes. Only their own archives count, so a hash reveals nothing of other people's files.
 */
export async function dedupeArchive(target: DedupeTarget): Promise<StoredArchive> {
  const existing = await findProjectArchiveByHash(target.projectId, target.sha256);
  if (existing) return alreadyInProject(existing, target.mainPath);
  const source = await findUserArchiveByHash(target.userId, target.sha256);
  if (!source) throw noSuchBytes(target.sha256);
  const base = {
    projectId: target.projectId,
    uploadedBy: target.userId,
    filename: target.filename,
    hash: source.hash,
    size: Number(source.size),
    kind: source.kind,
  };
  const wanted = target.mainPath === undefined ? undefined : normalizeZipPath(target.mainPath);
  if (source.kind === "zip" && wanted !== undefined && wanted !== source.mainPath) {
    // Another main .blend of the same zip: check it as an upload would.
    const { storage } = getRuntime();
    const { mainPath, blend } = await inspectStoredZip(storage, source.storageKey, { main: wanted, limits: zipLimits() });
    return storeArchive({ ...base, mainPath, ...headerFacts(blend) }, null);
  }
  return storeArchive(
    {
      ...base,
      mainPath: source.mainPath,
      blenderVersion: source.blenderVersion,
      compression: source.compression,
      ...sceneFactsOf(source),
    },
    null,
  );
}
