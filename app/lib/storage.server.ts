import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";

/**
 * Where blobs live. Keys are relative paths such as `archives/ab/abcd…`; the file
 * store below keeps them under the data dir, and an S3-compatible store can take its
 * place when one machine is not enough (app/lib/s3-storage.server.ts, decision 020).
 */
export interface BlobStorage {
  /** A fresh path for an upload in progress, on the same disk as the blobs. */
  temporaryPath(): Promise<string>;
  /**
   * Moves a finished temporary file under `key`, in one step, replacing what is there:
   * keys name their bytes, so it is the same. From now on the blob counts as new (see
   * removeIfOlderThan), even when those bytes were there long before.
   */
  commit(temporaryFile: string, key: string): Promise<void>;
  /** Whether `key` is there; a store that cannot answer (S3 unreachable) throws rather than say no. */
  exists(key: string): Promise<boolean>;
  read(key: string, range?: { start: number; end: number }): Readable;
  /** The blob's size in bytes; null when there is no such blob, and throws when the store cannot answer. */
  size(key: string): Promise<number | null>;
  remove(key: string): Promise<void>;
  /** The blobs under `prefix` (a folder such as `results/`), with when each was last committed. */
  list(prefix: string): AsyncIterable<{ key: string; committedAt: Date }>;
  /**
   * Removes `key` when it was last committed before `cutoff`, and says whether it did. A
   * commit of the same key racing with it wins: the blob stays, as the new one.
   */
  removeIfOlderThan(key: string, cutoff: Date): Promise<boolean>;
}

/** The content-addressed key of an archive's bytes. */
export function archiveKey(sha256: string): string {
  return `archives/${sha256.slice(0, 2)}/${sha256}`;
}

export function createFileStorage(root: string): BlobStorage {
  const temporaryDir = path.join(root, ".tmp");
  const pathOf = (key: string) => {
    const resolved = path.resolve(root, key);
    if (!resolved.startsWith(path.resolve(root) + path.sep)) throw new Error(`Invalid storage key: ${key}`);
    return resolved;
  };
  return {
    async temporaryPath() {
      await fs.mkdir(temporaryDir, { recursive: true });
      return path.join(temporaryDir, randomUUID());
    },
    async commit(temporaryFile, key) {
      const target = pathOf(key);
      await fs.mkdir(path.dirname(target), { recursive: true });
      // The file's time says when it was committed (removeIfOlderThan reads it). A reader
      // of the old file keeps reading it: rename swaps the name, not the open file.
      const now = new Date();
      await fs.utimes(temporaryFile, now, now);
      await fs.rename(temporaryFile, target);
    },
    exists: async (key) => fileExists(pathOf(key)),
    read: (key, range) => createReadStream(pathOf(key), range),
    async size(key) {
      try {
        return (await fs.stat(pathOf(key))).size;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw error;
      }
    },
    remove: (key) => fs.rm(pathOf(key), { force: true }),
    async *list(prefix) {
      for await (const file of walkFiles(pathOf(prefix))) {
        const { mtime } = await fs.stat(file);
        yield { key: path.relative(root, file).split(path.sep).join("/"), committedAt: mtime };
      }
    },
    async removeIfOlderThan(key, cutoff) {
      // Moved aside first, in one step: what is looked at is then exactly what was moved.
      // A commit before the move left a new file, which goes back; one after it puts its
      // own file in place, and the old one goes.
      const target = pathOf(key);
      await fs.mkdir(temporaryDir, { recursive: true });
      const aside = path.join(temporaryDir, `removing-${randomUUID()}`);
      try {
        await fs.rename(target, aside);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
        throw error;
      }
      if ((await fs.stat(aside)).mtime >= cutoff) {
        await fs.rename(aside, target);
        return false;
      }
      await fs.rm(aside, { force: true });
      return true;
    },
  };
}

/** Every file below `folder`, read folder by folder as a stream (a farm keeps millions of frames); none when it does not exist. */
async function* walkFiles(folder: string): AsyncGenerator<string> {
  let entries;
  try {
    entries = await fs.opendir(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  for await (const entry of entries) {
    const child = path.join(folder, entry.name);
    if (entry.isDirectory()) yield* walkFiles(child);
    else if (entry.isFile()) yield child;
  }
}

async function fileExists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}
