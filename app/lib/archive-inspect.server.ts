import { createReadStream } from "node:fs";
import { Readable, pipeline } from "node:stream";
import { createGunzip } from "node:zlib";
import { Decompress } from "fzstd";
import yauzl from "yauzl";
import {
  BLEND_HEADER_BYTES,
  ZSTD_FRAME_HEADER_BYTES,
  detectCompression,
  parseBlendHeader,
  zstdWindowBytes,
  type BlendCompression,
} from "../../domain/blend-header";
import { normalizeZipPath, zipEntryRefusal } from "../../domain/zip-paths";
import { formatBytes } from "./format";
import { Problem } from "./problem.server";
import type { BlobStorage } from "./storage.server";

export interface BlendFacts {
  blenderVersion: string;
  compression: BlendCompression;
}

// Blender writes zstd with small windows; a larger one is a crafted header, not a scene.
const MAX_ZSTD_WINDOW_BYTES = 128 * 1024 * 1024;

/**
 * The header of a .blend given as a stream of its (maybe compressed) bytes. Only the
 * start is decompressed; the stream is closed early. Null when it is not a .blend.
 */
export async function readBlendFacts(source: AsyncIterable<Uint8Array>): Promise<BlendFacts | null> {
  const iterator = source[Symbol.asyncIterator]();
  try {
    let head: Buffer = Buffer.alloc(0);
    while (head.length < ZSTD_FRAME_HEADER_BYTES) {
      const next = await iterator.next();
      if (next.done) break;
      head = Buffer.concat([head, next.value]);
    }
    const compression = detectCompression(head);
    if (compression === "zstd") {
      const window = zstdWindowBytes(head);
      if (window === null || window > MAX_ZSTD_WINDOW_BYTES) return null;
    }
    const rest = (async function* () {
      yield head;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    })();
    const header = await take(decompress(rest, compression), BLEND_HEADER_BYTES);
    const parsed = parseBlendHeader(header);
    return parsed ? { blenderVersion: parsed.blenderVersion, compression } : null;
  } catch {
    // A damaged gzip or zstd stream is as much "not a .blend" as a text file is.
    return null;
  } finally {
    await iterator.return?.();
  }
}

export function readBlendFactsFromFile(file: string): Promise<BlendFacts | null> {
  return readBlendFacts(createReadStream(file, { highWaterMark: 64 * 1024 }));
}

/** The facts of a .blend, or a 422 saying what the file is not. */
export function requireBlendFacts(facts: BlendFacts | null, what: string): BlendFacts {
  if (!facts) {
    throw new Problem(
      "unprocessable",
      `${what} is not a .blend file: its header does not start with BLENDER (plain, gzip or zstd). Save it from Blender and upload again.`,
    );
  }
  return facts;
}

function decompress(chunks: AsyncIterable<Uint8Array>, compression: BlendCompression): AsyncIterable<Uint8Array> {
  if (compression === "none") return chunks;
  if (compression === "gzip") return pipeline(Readable.from(chunks), createGunzip(), () => undefined);
  return zstdChunks(chunks);
}

async function* zstdChunks(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const out: Uint8Array[] = [];
  const decompressor = new Decompress((chunk) => out.push(chunk));
  for await (const chunk of chunks) {
    decompressor.push(chunk);
    yield* out.splice(0);
  }
  decompressor.push(new Uint8Array(0), true);
  yield* out.splice(0);
}

/** The first `count` bytes of a stream (fewer if it ends sooner); stops reading there. */
async function take(chunks: AsyncIterable<Uint8Array>, count: number): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of chunks) {
    parts.push(chunk);
    length += chunk.length;
    if (length >= count) break;
  }
  return Buffer.concat(parts).subarray(0, count);
}

export interface ZipLimits {
  maxEntries: number;
  maxUnpackedBytes: number;
}

export interface ZipFacts {
  mainPath: string;
  blend: BlendFacts;
}

// Names stay raw so that our checks, not yauzl's, word the refusals; sizes are counted
// as the bytes come out, since the declared ones can lie.
const ZIP_OPTIONS: yauzl.Options = {
  lazyEntries: true,
  autoClose: false,
  decodeStrings: false,
  validateEntrySizes: false,
  strictFileNames: true,
};

export async function inspectZipFile(file: string, options: { main?: string; limits: ZipLimits }): Promise<ZipFacts> {
  return inspectZip(await openZip(() => yauzl.openPromise(file, ZIP_OPTIONS)), options);
}

/** The same checks on a zip already in storage, read by ranges. */
export async function inspectStoredZip(
  storage: BlobStorage,
  key: string,
  options: { main?: string; limits: ZipLimits },
): Promise<ZipFacts> {
  const reader = new (class extends yauzl.RandomAccessReader {
    _readStreamForRange(start: number, end: number) {
      return storage.read(key, { start, end: end - 1 });
    }
  })();
  const size = await storage.size(key);
  if (size === null) throw new Problem("not_found", "The server's copy of this zip is missing from its storage; upload the file again.");
  return inspectZip(await openZip(() => yauzl.fromRandomAccessReaderPromise(reader, size, ZIP_OPTIONS)), options);
}

async function openZip(open: () => Promise<yauzl.ZipFile>): Promise<yauzl.ZipFile> {
  try {
    return await open();
  } catch (error) {
    throw unreadableZip(error as Error);
  }
}

function unreadableZip(error: Error): Problem {
  return new Problem("unprocessable", `This .zip cannot be read (${error.message}); zip the project folder again and upload it.`);
}

/** The zip's entries; a directory that breaks off midway is as unreadable as a missing one. */
async function* entriesOf(zip: yauzl.ZipFile): AsyncGenerator<yauzl.Entry> {
  const entries = zip.eachEntry();
  try {
    for (;;) {
      const next = await entries.next().catch((error: Error) => {
        throw unreadableZip(error);
      });
      if (next.done) return;
      yield next.value;
    }
  } finally {
    // Stops yauzl's listening when the caller stops early.
    await entries.return?.();
  }
}

async function inspectZip(zip: yauzl.ZipFile, { main, limits }: { main?: string; limits: ZipLimits }): Promise<ZipFacts> {
  try {
    if (zip.entryCount > limits.maxEntries) {
      throw new Problem(
        "unprocessable",
        `The zip has ${zip.entryCount} entries; the limit is ${limits.maxEntries} (set CACTUS_MAX_ZIP_ENTRIES on the server to change it).`,
      );
    }
    const wanted = main === undefined ? undefined : normalizeZipPath(main);
    const blends = new Map<string, yauzl.Entry>();
    let mainEntry: yauzl.Entry | undefined;
    let unpacked = 0;
    for await (const entry of entriesOf(zip)) {
      const name = checkEntry(entry);
      if (name.endsWith("/")) continue;
      const size = await unpackedSize(zip, entry, limits.maxUnpackedBytes - unpacked).catch((error: Error) => {
        if (error instanceof SizeLie) {
          throw new Problem("unprocessable", `The zip entry "${name}" is damaged: ${error.message}. Zip the project folder again and upload it.`);
        }
        throw cannotUnpack(name, error);
      });
      if (size === null) {
        throw new Problem(
          "unprocessable",
          `The zip unpacks to more than ${formatBytes(limits.maxUnpackedBytes)} (passed at "${name}"), the server's limit; ` +
            "upload fewer files, or set CACTUS_MAX_UNPACKED_BYTES on the server to allow more.",
        );
      }
      unpacked += size;
      if (name === wanted) mainEntry = entry;
      if (isBlendName(name)) blends.set(name, entry);
    }
    const names = [...blends.keys()];
    if (names.length === 0) {
      throw new Problem("unprocessable", "The zip holds no .blend file; put the scene's .blend in it and upload again.");
    }
    if (wanted !== undefined && !mainEntry) {
      throw new Problem("unprocessable", `The zip has no "${wanted}"; its .blend files are: ${names.join(", ")}. Pass one of them with --main.`);
    }
    if (!mainEntry && names.length > 1) {
      throw new Problem(
        "unprocessable",
        `The zip holds several .blend files (${names.join(", ")}); say which one to render with --main (the \`main\` parameter).`,
      );
    }
    const mainPath = wanted ?? names[0];
    const stream = await zip.openReadStreamPromise(mainEntry ?? blends.get(mainPath)!).catch((error: Error) => {
      throw cannotUnpack(mainPath, error);
    });
    const blend = requireBlendFacts(await readBlendFacts(stream), `"${mainPath}" in the zip`);
    return { mainPath, blend };
  } finally {
    zip.close();
  }
}

/** A zip damaged inside (bad deflate data, a broken local header) is the uploader's to fix. */
function cannotUnpack(name: string, error: Error): Problem {
  return new Problem(
    "unprocessable",
    `"${name}" in the zip cannot be unpacked (${error.message}); zip the project folder again and upload it.`,
  );
}

/** The entry's name after the checks that keep an unpacking agent inside its folder. */
function checkEntry(entry: yauzl.Entry): string {
  const raw = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
  const refusal = zipEntryRefusal({
    rawName: raw,
    externalFileAttributes: entry.externalFileAttributes,
    encrypted: entry.isEncrypted(),
    compressionMethod: entry.compressionMethod,
  });
  if (refusal) throw new Problem("unprocessable", `The zip entry "${raw}" ${refusal}`);
  return normalizeZipPath(raw);
}

export { normalizeZipPath };

function isBlendName(name: string): boolean {
  // macOS adds "._name.blend" resource forks under __MACOSX/; they are not scenes.
  const base = name.slice(name.lastIndexOf("/") + 1);
  return name.toLowerCase().endsWith(".blend") && !name.startsWith("__MACOSX/") && !base.startsWith("._");
}

/**
 * The bytes an entry really inflates to, or null as soon as they pass `allowance`:
 * declared sizes can lie (a zip bomb), so deflated entries are counted as they come out.
 * An entry whose bytes are not the size the zip declares is refused: the agent unpacks
 * with that check (agent/unzip.ts), so such a zip would only fail there, on every worker.
 */
async function unpackedSize(zip: yauzl.ZipFile, entry: yauzl.Entry, allowance: number): Promise<number | null> {
  // A stored entry is its bytes as they are: no inflating needed to know its size.
  if (entry.compressionMethod === 0) {
    if (entry.compressedSize !== entry.uncompressedSize) throw sizeLie(entry.uncompressedSize, `holds ${entry.compressedSize} bytes`);
    return entry.compressedSize > allowance ? null : entry.compressedSize;
  }
  if (entry.uncompressedSize > allowance) return null;
  let size = 0;
  const stream = await zip.openReadStreamPromise(entry);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > allowance) {
      stream.destroy();
      return null;
    }
  }
  if (size !== entry.uncompressedSize) throw sizeLie(entry.uncompressedSize, `unpacks to ${size} bytes`);
  return size;
}

class SizeLie extends Error {}

function sizeLie(declared: number, actual: string): SizeLie {
  return new SizeLie(`it declares ${declared} bytes but ${actual}`);
}
