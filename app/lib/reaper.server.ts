import { schedule } from "node-cron";
import type { Sequelize } from "sequelize";
import { reapExpiredLeases } from "../../db/sql/queue";

export interface LeaseReaper {
  /** Stops the schedule and waits for a pass in progress, so the pool can close after. */
  stop(): Promise<void>;
}

/**
 * Every `everySeconds` (CACTUS_REAPER_SECONDS), puts the tasks whose lease expired (an
 * agent killed or cut off) back in the queue. Every replica runs one: the statement
 * skips rows another holds.
 */
export function startLeaseReaper(sequelize: Sequelize, log: (message: string) => void, everySeconds = 10): LeaseReaper {
  let pass: Promise<void> = Promise.resolve();
  const reap = async () => {
    try {
      const reaped = await reapExpiredLeases(sequelize);
      if (reaped > 0) log(`Re-queued ${reaped} task(s) whose lease expired.`);
    } catch (error) {
      log(`Could not re-queue expired leases (retrying in ${everySeconds} s): ${String(error)}`);
    }
  };
  const task = schedule(
    `*/${everySeconds} * * * * *`,
    () => {
      pass = reap();
      return pass;
    },
    // A pass missed while the machine was busy is made up by the next one.
    { name: "lease-reaper", noOverlap: true, suppressMissedWarning: true },
  );
  return {
    async stop() {
      await task.destroy();
      await pass;
    },
  };
}
