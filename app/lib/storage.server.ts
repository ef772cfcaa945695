import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";

/**
 * Where blobs live. Keys are relative paths such as `archives/ab/abcd…`; the file
 * store below keeps them under the data dir, and an S3-compatible store can take its
 * place when one machine is not enough (DESIGN §7).
 */
export interface BlobStorage {
  /** A fresh path for an upload in progress, on the same disk as the blobs. */
  temporaryPath(): Promise<string>;
  /** Moves a finished temporary file under `key`; a key that exists is kept as is. */
  commit(temporaryFile: string, key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
  read(key: string, range?: { start: number; end: number }): Readable;
  size(key: string): Promise<number>;
  remove(key: string): Promise<void>;
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
      if (await fileExists(target)) {
        await fs.rm(temporaryFile, { force: true });
        return;
      }
      await fs.rename(temporaryFile, target);
    },
    exists: (key) => fileExists(pathOf(key)),
    read: (key, range) => createReadStream(pathOf(key), range),
    size: async (key) => (await fs.stat(pathOf(key))).size,
    remove: (key) => fs.rm(pathOf(key), { force: true }),
  };
}

async function fileExists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}
