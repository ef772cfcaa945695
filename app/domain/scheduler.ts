import type { RenderStatus } from "../../db/models";

// The scheduler's rules (DESIGN §5), kept apart from the SQL that applies them
// (db/sql/queue.ts) so they can be read and tested on their own.

/** A task fails once this many different workers failed it (Flamenco's "soft fail" count). */
export const WORKERS_TO_FAIL_TASK = 3;
/** A worker that failed this many times in a render gets no more of its tasks. */
export const FAILURES_TO_BLOCKLIST = 3;
/** Lease length unless the caller asks otherwise; each heartbeat extends it by as much. */
export const DEFAULT_LEASE_SECONDS = 60;

/** Renders whose tasks may be handed out. */
export const RUNNABLE_RENDER_STATUSES = ["estimating", "queued", "rendering"] as const satisfies readonly RenderStatus[];
const FINISHED_RENDER_STATUSES: readonly RenderStatus[] = ["done", "cancelled", "failed"];

export function isRenderRunnable(status: RenderStatus): boolean {
  return (RUNNABLE_RENDER_STATUSES as readonly RenderStatus[]).includes(status);
}

export function isRenderFinished(status: RenderStatus): boolean {
  return FINISHED_RENDER_STATUSES.includes(status);
}

/** What becomes of a task after a failure, given how many different workers have failed it so far. */
export function taskAfterFailure(distinctFailedWorkers: number): "queued" | "failed" {
  return distinctFailedWorkers >= WORKERS_TO_FAIL_TASK ? "failed" : "queued";
}

export function isBlocklisted(failuresOfWorkerInRender: number): boolean {
  return failuresOfWorkerInRender >= FAILURES_TO_BLOCKLIST;
}

export interface TaskTally {
  queued: number;
  leased: number;
  done: number;
  failed: number;
  cancelled: number;
}

/**
 * A render's status as its tasks say. Finished renders stay as they are; a failed task
 * fails the render; all tasks done is done; the owner's choices (paused) and the
 * economy's states (quoted, needs-credits) are not the tasks' to change.
 */
export function renderStatusFromTasks(current: RenderStatus, tally: TaskTally): RenderStatus {
  if (isRenderFinished(current)) return current;
  if (tally.failed > 0) return "failed";
  const total = tally.queued + tally.leased + tally.done + tally.failed + tally.cancelled;
  if (total > 0 && tally.done === total) return "done";
  if (current === "queued" && tally.leased + tally.done > 0) return "rendering";
  return current;
}

/** Why an agent should stop a task of a render in this status, or null when it may go on. */
export function reasonToStop(status: RenderStatus): string | null {
  if (isRenderRunnable(status)) return null;
  return status === "paused" ? "The render was paused." : `The render is ${status}.`;
}
