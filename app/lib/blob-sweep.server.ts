import { QueryTypes, type Sequelize } from "sequelize";
import type { AdvisoryLocks } from "./advisory-locks.server";
import { startCronJob, type CronJob } from "./cron.server";
import { FRAME_BLOB_PREFIXES } from "./results.server";
import type { BlobStorage } from "./storage.server";

// Frame images and thumbnails no result refers to any more: those of deleted projects
// (their renders' results go with them), and an upload's that lost its lease or was
// beaten to its frame. Blobs are content-addressed and shared, so one is removed only
// once no result names it; and only when nothing committed it for a while, so an upload
// that has stored its image but not yet recorded its result keeps it.

const BATCH = 500;
const SWEEP_GRACE_MS = 60 * 60 * 1000;

export interface SweepCount {
  /** Blobs old enough to be looked at. */
  checked: number;
  removed: number;
}

/** Removes the frame blobs no result refers to that were last committed more than `graceMs` ago. */
export async function sweepUnreferencedFrames(
  sequelize: Sequelize,
  storage: BlobStorage,
  { graceMs = SWEEP_GRACE_MS, now = new Date() }: { graceMs?: number; now?: Date } = {},
): Promise<SweepCount> {
  const cutoff = new Date(now.getTime() - graceMs);
  const count: SweepCount = { checked: 0, removed: 0 };
  const sweep = async (keys: string[]) => {
    count.checked += keys.length;
    for (const key of await unreferenced(sequelize, keys)) {
      if (await storage.removeIfOlderThan(key, cutoff)) count.removed += 1;
    }
  };
  for (const prefix of Object.values(FRAME_BLOB_PREFIXES)) {
    let batch: string[] = [];
    for await (const blob of storage.list(prefix)) {
      if (blob.committedAt >= cutoff) continue;
      batch.push(blob.key);
      if (batch.length === BATCH) {
        await sweep(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await sweep(batch);
  }
  return count;
}

/** Of these keys, those no result names as its image or thumbnail (migration 0006 indexes both). */
async function unreferenced(sequelize: Sequelize, keys: string[]): Promise<string[]> {
  const rows = await sequelize.query<{ key: string }>(
    /* sql */ `
SELECT key FROM unnest($keys::text[]) AS key
 WHERE NOT EXISTS (SELECT 1 FROM results WHERE image_key = key)
   AND NOT EXISTS (SELECT 1 FROM results WHERE thumbnail_key = key)`,
    { bind: { keys }, type: QueryTypes.SELECT },
  );
  return rows.map(({ key }) => key);
}

/**
 * Sweeps once a day, at a quiet hour, on one replica: the others find its advisory lock
 * taken and skip the day. Two sweeps at once would do no harm (a blob one removed is
 * simply gone for the other), only walk the store twice.
 */
export function startBlobSweep(
  sequelize: Sequelize,
  storage: BlobStorage,
  locks: Pick<AdvisoryLocks, "runAlone">,
  log: (message: string) => void,
): CronJob {
  return startCronJob("blob-sweep", "17 4 * * *", () => sweepOnOneReplica(sequelize, storage, locks, log));
}

/** The day's sweep, unless a replica (this one or another) runs it now; errors are logged, for tomorrow. */
export async function sweepOnOneReplica(
  sequelize: Sequelize,
  storage: BlobStorage,
  locks: Pick<AdvisoryLocks, "runAlone">,
  log: (message: string) => void,
  options?: Parameters<typeof sweepUnreferencedFrames>[2],
): Promise<void> {
  try {
    await locks.runAlone("blob-sweep", async () => {
      const { removed } = await sweepUnreferencedFrames(sequelize, storage, options);
      if (removed > 0) log(`Removed ${removed} frame image(s) no render uses any more.`);
    });
  } catch (error) {
    log(`Could not sweep unused frame images (trying again tomorrow): ${String(error)}`);
  }
}
