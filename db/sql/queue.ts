import type { Sequelize } from "sequelize";
import { reasonToStop } from "../../domain/render-lifecycle";
import { DEFAULT_LEASE_SECONDS } from "../../domain/scheduler";
import type { RenderStatus, TaskStatus } from "../models";
import { LEASE_HELD, REQUEUE, RUNNABLE, execute, isToken, prepare, select, type Lease } from "./common";
import { settleRenderFromTasks } from "./render-status";
import { tellingWaitingClaims } from "./work-signals";

// The queue (docs/design.md §5): handing out tasks and the life of their leases. Import the
// queue from here; its other parts live beside it: claim.ts (handing out tasks),
// failures.ts (failing a task and the blocklist), results.ts (frames and scene facts
// delivered under a lease), render-tasks.ts (a render's tasks as a whole),
// render-status.ts (the only writer of a render's status, and its outbox).

export type { Lease } from "./common";
export { claimTask, nextArchives, type ClaimedTask, type NextArchive } from "./claim";
export { failTask, type FailAnswer } from "./failures";
export {
  completeInspection,
  findLeasedTask,
  recordResult,
  rejectResult,
  workerHoldsArchive,
  type FrameResult,
  type LeasedTask,
  type ResultAnswer,
} from "./results";
export { createInspectTask, createRenderTasks } from "./render-tasks";
export { CALIBRATION_WINDOW, readEstimates, refreshEstimate, type StoredEstimate } from "./render-estimate";
export { WORK_QUEUED_CHANNEL } from "./work-signals";
export {
  RENDER_EVENTS_CHANNEL,
  applyRenderEvent,
  confirmRender,
  insertRender,
  NotEnoughCredits,
  settleRenderFromTasks,
  type EventDetail,
  type NewRender,
} from "./render-status";

export type HeartbeatAnswer = { keepRunning: true; leaseExpiresAt: Date } | { keepRunning: false; reason: string };

// Changes no indexed column (0003 dropped the index on lease_expires_at): a HOT update,
// which writes no index entry. The render's status is read by its key: as EXISTS, the
// planner could hash every runnable render for the one task.
const HEARTBEAT = prepare(
  "cactus_heartbeat",
  /* sql */ `
UPDATE tasks t
   SET lease_expires_at = now() + make_interval(secs => $leaseSeconds), progress = $progress, updated_at = now()
 WHERE ${LEASE_HELD}
   AND (t.render_id IS NULL OR (SELECT r.status IN (${RUNNABLE}) FROM renders r WHERE r.id = t.render_id))
RETURNING t.lease_expires_at`,
);

/**
 * Extends the lease while the task is still this worker's and its render still runs.
 * A task whose render was paused, cancelled or failed answers keepRunning false; a lease
 * that expired, was reaped or never was this worker's is 'stale'.
 */
export async function heartbeatTask(
  sequelize: Sequelize,
  { progress, leaseSeconds = DEFAULT_LEASE_SECONDS, ...lease }: Lease & { progress: number; leaseSeconds?: number },
): Promise<HeartbeatAnswer | "stale"> {
  if (!isToken(lease.leaseToken)) return "stale";
  const [extended] = await execute<{ lease_expires_at: Date }>(sequelize, HEARTBEAT, {
    ...lease,
    leaseSeconds,
    progress: Math.min(1, Math.max(0, progress)),
  });
  if (extended) return { keepRunning: true, leaseExpiresAt: extended.lease_expires_at };

  // Not extended: say "stop" when the lease is still this worker's but the render stopped.
  const [task] = await select<{ status: TaskStatus; lease_valid: boolean; render_status: RenderStatus | null }>(
    sequelize,
    /* sql */ `
SELECT t.status, t.lease_expires_at > now() AS lease_valid, r.status AS render_status
  FROM tasks t LEFT JOIN renders r ON r.id = t.render_id
 WHERE t.id = $taskId AND t.worker_id = $workerId AND t.lease_token = $leaseToken::uuid`,
    lease,
  );
  const stoppedRender = task?.render_status ? reasonToStop(task.render_status) : null;
  if (task?.status === "cancelled") return { keepRunning: false, reason: stoppedRender ?? "The task was cancelled." };
  if (task?.status === "leased" && task.lease_valid && stoppedRender) return { keepRunning: false, reason: stoppedRender };
  return "stale";
}

export type CompleteAnswer =
  | { ok: true; renderId: number; renderStatus: RenderStatus }
  | { ok: false; reason: "stale" }
  | { ok: false; reason: "missing-frames"; frames: number[] };

/** The frames of task `t` that have no accepted result yet. */
const MISSING_FRAMES = `
  SELECT wanted.frame
    FROM generate_series(t.frame_start, t.frame_end, (SELECT frame_step FROM renders WHERE id = t.render_id)) AS wanted (frame)
   WHERE NOT EXISTS (SELECT 1 FROM results x WHERE x.render_id = t.render_id AND x.frame = wanted.frame AND x.accepted)`;

// RETURNING also answers "is the render done?" when it can, from the same snapshot: not
// while another of its tasks is still queued (its own task reads as leased there). It
// looks from the render's last frame down: claims take frames from the first up, and the
// index entries of the tasks they took stay behind until vacuum, each a heap visit for a
// scan from the first frame up. The render is read by its key where needed: joined in
// FROM, it was hashed whole for the one task.
const TASKS_QUEUED = `(SELECT true FROM tasks q WHERE q.render_id = t.render_id AND q.status = 'queued'
  ORDER BY q.is_sample, q.frame_start DESC LIMIT 1) IS NOT NULL`;
const COMPLETE = prepare(
  "cactus_complete_task",
  /* sql */ `
UPDATE tasks t SET status = 'done', progress = 1, updated_at = now()
 WHERE ${LEASE_HELD} AND t.kind = 'render' AND NOT EXISTS (${MISSING_FRAMES})
RETURNING t.render_id, (SELECT status FROM renders WHERE id = t.render_id) AS render_status, ${TASKS_QUEUED} AS tasks_queued`,
);

// Prepared too: every task completed once its render has nothing queued runs it.
const RENDER_UNFINISHED = prepare(
  "cactus_render_unfinished",
  `SELECT status, EXISTS (SELECT 1 FROM tasks WHERE render_id = $renderId AND status IN ('queued', 'leased')) AS unfinished
     FROM renders WHERE id = $renderId`,
);

interface CompletedRow {
  render_id: number;
  render_status: RenderStatus;
  tasks_queued: boolean;
}

/**
 * Marks a render task done once every one of its frames has an accepted result (from
 * this lease or an earlier one), then settles the render: done when nothing is left.
 */
export async function completeTask(sequelize: Sequelize, lease: Lease): Promise<CompleteAnswer> {
  if (!isToken(lease.leaseToken)) return { ok: false, reason: "stale" };
  const [done] = await execute<CompletedRow>(sequelize, COMPLETE, lease);
  if (!done) {
    const missing = await select<{ frame: number }>(
      sequelize,
      `SELECT missing.frame FROM tasks t, LATERAL (${MISSING_FRAMES}) missing
        WHERE ${LEASE_HELD} AND t.kind = 'render' ORDER BY missing.frame`,
      lease,
    );
    if (missing.length === 0) return { ok: false, reason: "stale" };
    return { ok: false, reason: "missing-frames", frames: missing.map(({ frame }) => frame) };
  }
  // A task still queued in this statement's snapshot has yet to be claimed, rendered,
  // uploaded and completed, all begun after this statement: its completion checks long
  // after this one committed, and sees it. No need to look again here.
  if (done.tasks_queued) return { ok: true, renderId: done.render_id, renderStatus: done.render_status };
  // Otherwise look after this transaction committed: of two last tasks completing at
  // once, the later commit's check sees both done, so the render is never left 'rendering'.
  const [render] = await execute<{ status: RenderStatus; unfinished: boolean }>(sequelize, RENDER_UNFINISHED, {
    renderId: done.render_id,
  });
  if (render.unfinished) return { ok: true, renderId: done.render_id, renderStatus: render.status };
  return { ok: true, renderId: done.render_id, renderStatus: await settleRenderFromTasks(sequelize, done.render_id) };
}

/** Gives the task back without counting a failure (the agent is stopping); answers its render. */
export async function releaseTask(sequelize: Sequelize, lease: Lease): Promise<{ renderId: number | null } | "stale"> {
  if (!isToken(lease.leaseToken)) return "stale";
  // An expired lease not yet reaped may still be given back: that is what the reaper would do.
  const [released] = await select<{ render_id: number | null }>(
    sequelize,
    tellingWaitingClaims(`UPDATE tasks t SET ${REQUEUE}
      WHERE t.id = $taskId AND t.worker_id = $workerId AND t.lease_token = $leaseToken::uuid AND t.status = 'leased'
     RETURNING t.id, t.render_id, t.archive_id`),
    lease,
  );
  return released ? { renderId: released.render_id } : "stale";
}

/**
 * Puts tasks whose lease expired back in the queue and returns their renders (a render
 * once per task). An expiry is
 * not counted as a failure: the machine may just have been switched off, and a user
 * with one worker would otherwise never see that task rendered.
 */
export async function reapExpiredLeases(sequelize: Sequelize): Promise<(number | null)[]> {
  const reaped = await select<{ render_id: number | null }>(
    sequelize,
    tellingWaitingClaims(/* sql */ `
UPDATE tasks t SET ${REQUEUE}
 WHERE t.id IN (SELECT id FROM tasks WHERE status = 'leased' AND lease_expires_at <= now() FOR UPDATE SKIP LOCKED)
RETURNING t.id, t.render_id, t.archive_id`),
  );
  return reaped.map((row) => row.render_id);
}
