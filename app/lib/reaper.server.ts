import type { Sequelize } from "sequelize";
import { reapExpiredLeases } from "../../db/sql/queue";
import type { AdvisoryLocks } from "./advisory-locks.server";
import { startCronJob, type CronJob } from "./cron.server";
import { noteRenderActivity } from "./render-activity.server";

/**
 * Every `everySeconds` (CACTUS_REAPER_SECONDS), puts the tasks whose lease expired (an
 * agent killed or cut off) back in the queue. Every replica schedules it and one at a
 * time runs it (an advisory lock): running together would be safe, the statement skips
 * rows another holds, but N replicas would do the same work N times.
 */
export function startLeaseReaper(
  sequelize: Sequelize,
  locks: Pick<AdvisoryLocks, "runAlone">,
  log: (message: string) => void,
  everySeconds = 10,
): CronJob {
  const reap = async () => {
    try {
      await locks.runAlone("lease-reaper", async () => {
        const reaped = await reapExpiredLeases(sequelize);
        if (reaped.length > 0) log(`Re-queued ${reaped.length} task(s) whose lease expired.`);
        for (const renderId of new Set(reaped)) noteRenderActivity(renderId);
      });
    } catch (error) {
      log(`Could not re-queue expired leases (retrying in ${everySeconds} s): ${String(error)}`);
    }
  };
  // No warning for a pass missed while the machine was busy: the next one makes it up.
  return startCronJob("lease-reaper", `*/${everySeconds} * * * * *`, reap, { suppressMissedWarning: true });
}
