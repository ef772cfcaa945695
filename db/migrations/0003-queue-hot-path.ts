import type { Migration } from "../migrate";

// What `npm run bench:claim` found in the queue's hot path (claim → heartbeat → complete).
export const migration: Migration = {
  name: "0003-queue-hot-path",
  sql: /* sql */ `
-- A heartbeat moves only lease_expires_at, progress and updated_at. While lease_expires_at
-- was indexed, each heartbeat wrote a new row version with an entry in every index of
-- tasks; now it can be a HOT update (the new version on the same page, no index entry).
-- The reaper finds expired leases through tasks_worker_idx, which holds the leased tasks
-- only: one per busy worker.
DROP INDEX tasks_lease_expiry_idx;

-- Room on each page for those new versions (HOT needs the same page). Only pages written
-- from now on keep it: the existing rows are not rewritten.
ALTER TABLE tasks SET (fillfactor = 80);
`,
};
