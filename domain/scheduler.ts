// The scheduler's rules (docs/design.md §5), kept apart from the SQL that applies them
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

/** A render whose tasks failed this many times in all (on any frames, any workers) fails. */
export const FAILURES_TO_FAIL_RENDER = 10;

/**
 * Why a failure failed its task, and with it the render: an error in the scene every
 * worker would hit (domain/blender-failure.ts); WORKERS_TO_FAIL_TASK different workers
 * failed it; none of the workers that may take it is left to try; the render's failures
 * reached FAILURES_TO_FAIL_RENDER.
 */
export const TASK_FAILED_BECAUSE = ["scene-error", "workers", "no-other-worker", "failure-limit"] as const;
export type TaskFailedBecause = (typeof TASK_FAILED_BECAUSE)[number];

export interface FailureCounts {
  blame: "scene" | "machine";
  /** Different workers that failed this task, this failure included. */
  distinctFailedWorkers: number;
  /** Failures of the task's render in all, this one included (0 for an inspect task). */
  renderFailures: number;
  /** A worker that may take the task is left: eligible for it, and it never failed it. */
  anotherWorkerMayTake: boolean;
}

/**
 * What becomes of a task after a failure: back in the queue for another worker, or
 * failed, and why. A scene error fails it at once; otherwise it fails when enough
 * workers tried, when nobody else may try, or when its render failed too often in all.
 */
export function taskAfterFailure(counts: FailureCounts): { status: "queued" } | { status: "failed"; because: TaskFailedBecause } {
  if (counts.blame === "scene") return { status: "failed", because: "scene-error" };
  if (counts.distinctFailedWorkers >= WORKERS_TO_FAIL_TASK) return { status: "failed", because: "workers" };
  if (counts.renderFailures >= FAILURES_TO_FAIL_RENDER) return { status: "failed", because: "failure-limit" };
  if (!counts.anotherWorkerMayTake) return { status: "failed", because: "no-other-worker" };
  return { status: "queued" };
}

/** Scene errors blame no worker: only the failures that blame it count. */
export function isBlocklisted(failuresOfWorkerInRender: number): boolean {
  return failuresOfWorkerInRender >= FAILURES_TO_BLOCKLIST;
}
