import fs from "node:fs/promises";
import path from "node:path";
import { newestArchiveBlobs } from "../models/archive.server";
import type { CactusConfig } from "./env.server";
import type { BlobStorage } from "./storage.server";

/** How many of the newest archives a start looks for: a few requests, enough to tell a wrong store from a lost blob. */
const LOOKED_AT = 5;

/**
 * At start, after the store answered: are the newest archives' blobs in it? When they are
 * not, this replica keeps its blobs somewhere the others do not (started without their
 * CACTUS_S3_* settings, or with another bucket or prefix), or the farm moved to S3 without
 * copying its blobs. Its uploads would then go where no other replica looks, and agents
 * fail the tasks of archives they cannot fetch. Said in the log rather than refused: a
 * blob really lost must not keep the whole farm from starting (its owner uploads it again).
 */
export async function warnOfMissingBlobs(
  blobs: BlobStorage,
  config: Pick<CactusConfig, "s3" | "dataDir">,
  log: (message: string) => void,
): Promise<void> {
  try {
    const newest = await newestArchiveBlobs(LOOKED_AT);
    const missing: number[] = [];
    for (const archive of newest) if (!(await blobs.exists(archive.key))) missing.push(archive.id);
    if (missing.length === 0) return;
    const store = config.s3 ? `the S3 bucket ${config.s3.bucket}${config.s3.prefix ? ` under ${config.s3.prefix}` : ""}` : path.join(config.dataDir, "blobs");
    if (missing.length < newest.length) {
      const one = missing.length === 1;
      log(
        `Warning: ${missing.length} of the farm's ${newest.length} newest archives (${missing.join(", ")}) ${one ? "has" : "have"} no file in ` +
          `${store}: ${one ? "its renders fail until the same file is" : "their renders fail until the same files are"} uploaded again.`,
      );
      return;
    }
    let fix = "start this one with the same CACTUS_S3_* settings as the others" + (config.s3 ? "." : " (on one machine: the CACTUS_DATA_DIR that holds them).");
    if (config.s3) {
      fix += (await hasFiles(path.join(config.dataDir, "blobs", "archives")))
        ? ` The farm's blobs from before S3 are still in ${path.join(config.dataDir, "blobs")}: copy them to the bucket (README, "Several machines").`
        : ` A farm moved to S3 needs its old CACTUS_DATA_DIR/blobs copied to the bucket (README, "Several machines").`;
    }
    log(
      (newest.length === 1
        ? `Warning: the farm's archive ${missing[0]} has no file in ${store}. `
        : `Warning: none of the farm's ${newest.length} newest archives (${missing.join(", ")}) has its file in ${store}. `) +
        `Every server replica of a farm keeps its blobs in one place: ${fix}`,
    );
  } catch (error) {
    log(`Could not check that this server's store holds the farm's newest archives: ${String(error)}`);
  }
}

async function hasFiles(folder: string): Promise<boolean> {
  try {
    return (await fs.readdir(folder)).length > 0;
  } catch {
    return false;
  }
}
