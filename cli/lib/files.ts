import { createHash } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { UserError } from "./errors";

/** The size of a file that can be uploaded; anything else is a clear error before any request. */
export async function uploadableFileSize(file: string): Promise<number> {
  let stat: fs.Stats;
  try {
    stat = await fsp.stat(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new UserError(`${file} does not exist`);
    throw new UserError(`cannot read ${file}: ${(error as Error).message}`);
  }
  if (stat.isDirectory()) throw new UserError(`${file} is a directory; zip it (with its .blend) and upload the .zip`);
  if (!stat.isFile()) throw new UserError(`${file} is not a regular file`);
  try {
    await fsp.access(file, fs.constants.R_OK);
  } catch {
    throw new UserError(`${file} is not readable; check its permissions`);
  }
  if (stat.size === 0) throw new UserError(`${file} is empty; upload a .blend or a .zip that holds one`);
  return stat.size;
}

/** sha256 of a file, streamed so its size does not matter. */
export async function sha256File(file: string, onProgress?: (bytes: number) => void): Promise<string> {
  const hash = createHash("sha256");
  const source = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  try {
    await pipeline(source, async function (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        hash.update(chunk);
        onProgress?.(chunk.length);
      }
    });
  } catch (error) {
    throw new UserError(`cannot read ${file}: ${(error as Error).message}`);
  }
  return hash.digest("hex");
}
