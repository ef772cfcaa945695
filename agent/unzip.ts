import { createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import yauzl from "yauzl";
import { isDirectoryEntry, normalizeZipPath, zipEntryRefusal } from "../domain/zip-paths";

/** An archive refused before Blender sees it: a zip that would escape, a missing main .blend. */
export class ArchiveRefused extends Error {
  name = "ArchiveRefused";
}

// The server checked this zip on upload; the agent checks again, since it is the one
// writing files to its disk. Raw names, so the checks (not yauzl's) word the refusals.
const ZIP_OPTIONS: yauzl.Options = {
  lazyEntries: true,
  autoClose: false,
  decodeStrings: false,
  validateEntrySizes: true,
  strictFileNames: true,
};

/**
 * Unpacks `zipFile` into `dest` (made 0700): only plain files and folders with relative
 * paths that stay inside, written without following or replacing anything, at most
 * `maxBytes` of them in all. Answers the file names (as the zip spells them, normalized).
 */
export async function unpackZip(
  zipFile: string,
  dest: string,
  { maxBytes, signal }: { maxBytes: number; signal?: AbortSignal },
): Promise<{ bytes: number; files: string[] }> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(zipFile, ZIP_OPTIONS);
  } catch (error) {
    throw new ArchiveRefused(`The zip cannot be read (${(error as Error).message}).`);
  }
  const root = path.resolve(dest);
  await fs.mkdir(root, { recursive: true, mode: 0o700 });
  const files: string[] = [];
  let bytes = 0;
  try {
    for await (const entry of zip.eachEntry()) {
      signal?.throwIfAborted();
      const raw = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
      const refuse = (why: string) => new ArchiveRefused(`The zip entry "${raw}" ${why}`);
      const refusal = zipEntryRefusal({
        rawName: raw,
        externalFileAttributes: entry.externalFileAttributes,
        encrypted: entry.isEncrypted(),
        compressionMethod: entry.compressionMethod,
      });
      if (refusal) throw refuse(refusal);
      const name = normalizeZipPath(raw);
      const target = path.resolve(root, name);
      if (target === root) continue;
      if (!target.startsWith(root + path.sep)) throw refuse("points outside the folder it unpacks into.");
      if (isDirectoryEntry(name)) {
        await fs.mkdir(target, { recursive: true, mode: 0o700 });
        continue;
      }
      await fs.mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          bytes += chunk.length;
          if (bytes > maxBytes) done(refuse(`passes ${maxBytes} unpacked bytes, the agent's cache size (CACTUS_CACHE_BYTES).`));
          else done(null, chunk);
        },
      });
      const source = await zip.openReadStreamPromise(entry);
      // "wx": a second entry of the same name is refused rather than written over the first.
      await pipeline(source, counter, createWriteStream(target, { flags: "wx", mode: 0o600 }), { signal }).catch((error) => {
        if ((error as NodeJS.ErrnoException).code === "EEXIST") throw refuse("appears twice in the zip.");
        throw error;
      });
      files.push(name);
    }
  } finally {
    zip.close();
  }
  return { bytes, files };
}
