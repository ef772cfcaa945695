// The scheduler's rules (DESIGN §5), kept apart from the SQL that applies them
// (db/sql/queue.ts) so they can be read and tested on their own.

/** A task's life: queued → leased → done, or back to queued (released, expired, failed on too few workers). */
export const TASK_STATUSES = ["queued", "leased", "done", "failed", "cancelled"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** A task fails once this many different workers failed it (Flamenco's "soft fail" count). */
export const WORKERS_TO_FAIL_TASK = 3;
/** A worker that failed this many times in a render gets no more of its tasks. */
export const FAILURES_TO_BLOCKLIST = 3;
/** Lease length unless the caller asks otherwise; each heartbeat extends it by as much. */
export const DEFAULT_LEASE_SECONDS = 60;

/** What becomes of a task after a failure, given how many different workers have failed it so far. */
export function taskAfterFailure(distinctFailedWorkers: number): "queued" | "failed" {
  return distinctFailedWorkers >= WORKERS_TO_FAIL_TASK ? "failed" : "queued";
}

export function isBlocklisted(failuresOfWorkerInRender: number): boolean {
  return failuresOfWorkerInRender >= FAILURES_TO_BLOCKLIST;
}
