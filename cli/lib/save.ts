import fs from "node:fs";
import fsp from "node:fs/promises";
import { Readable, Transform } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { pipeline } from "node:stream/promises";
import { UserError } from "./errors";

/**
 * Writes a response body to `file` as it arrives, through a `.partial` file renamed at
 * the end: a download cut off midway never looks like a finished file. Returns its size.
 */
export async function saveBody(body: ReadableStream<Uint8Array>, file: string, onBytes?: (bytes: number) => void): Promise<number> {
  const partial = `${file}.partial`;
  let size = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      onBytes?.(chunk.length);
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(body as NodeReadableStream<Uint8Array>), count, fs.createWriteStream(partial));
    await fsp.rename(partial, file);
  } catch (error) {
    await fsp.rm(partial, { force: true });
    throw new UserError(`could not save ${file}: ${(error as Error).message}`);
  }
  return size;
}

/** The size of a file on disk, or null when there is none. */
export async function fileSize(file: string): Promise<number | null> {
  try {
    const stat = await fsp.stat(file);
    return stat.isFile() ? stat.size : null;
  } catch {
    return null;
  }
}

/** The filename of a Content-Disposition header, when it names one. */
export function dispositionFilename(header: string | null): string | null {
  const name = /filename="([^"/\\]+)"/.exec(header ?? "")?.[1];
  return name && name !== "." && name !== ".." ? name : null;
}
