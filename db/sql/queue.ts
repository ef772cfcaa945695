import type { Sequelize } from "sequelize";
import { expectedFrameSize } from "../../app/domain/frames";
import { DEFAULT_LEASE_SECONDS, FAILURES_TO_BLOCKLIST, reasonToStop } from "../../app/domain/scheduler";
import type { ArchiveKind, OutputFormat, RenderStatus, TaskStatus } from "../models";
import { LEASE_HELD, REQUEUE, RUNNABLE, isToken, select, type Lease } from "./common";
import { updateRenderStatusFromTasks } from "./render-tasks";

// The queue (DESIGN §5): handing out tasks and the life of their leases. Import the
// queue from here; its other parts live beside it: failures.ts (failing a task and the
// blocklist), results.ts (frames and scene facts delivered under a lease),
// render-tasks.ts (a render's tasks as a whole).

export type { Lease } from "./common";
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
export {
  cancelRender,
  createInspectTask,
  createRenderTasks,
  pauseRender,
  resumeRender,
  updateRenderStatusFromTasks,
} from "./render-tasks";

export interface ClaimedTask {
  id: number;
  kind: "render" | "inspect";
  renderId: number | null;
  /** Null for inspect tasks. */
  frameStart: number | null;
  frameEnd: number | null;
  outputFormat: OutputFormat | null;
  leaseToken: string;
  leaseExpiresAt: Date;
  leaseSeconds: number;
  archive: { id: number; hash: string; size: number; kind: ArchiveKind; mainPath: string | null };
  /** The image size the scene's facts promise, when they are known. */
  expected: { width: number; height: number } | null;
}

/**
 * The first claimable task of render or archive `owner`, locked, skipping tasks other
 * claims hold. `failed` matches the worker's failures of that task.
 */
const firstClaimableTask = (ownerColumn: string, owner: string, kind: string, failed: string) => `
  SELECT t.id FROM tasks t
   WHERE t.${ownerColumn} = ${owner} AND t.status = 'queued' AND t.kind = '${kind}'
     -- never again a task this worker failed
     AND NOT EXISTS (SELECT 1 FROM task_failures f WHERE ${failed})
   ORDER BY t.is_sample DESC, t.frame_start
   LIMIT 1
   FOR UPDATE OF t SKIP LOCKED`;

// A render task's failures are looked up with the render: task_failures_render_worker_idx
// then reads the worker's failures of this render alone (a few rows: three blocklist it).
// By task and worker only, the planner read all the worker's failures in every render for
// each claim (5 ms of a 6 ms claim with a million tasks). Inspect tasks have no render.
const FAILED_RENDER_TASK = "f.render_id = r.id AND f.worker_id = $workerId AND f.task_id = t.id";
const FAILED_INSPECT_TASK = "f.task_id = t.id AND f.worker_id = $workerId";

/**
 * Leases the best task this worker may take, or null. One statement: candidates are
 * walked in priority order, each render's first free task locked with SKIP LOCKED (so
 * concurrent claims pass each other instead of waiting), leased, and its render marked
 * rendering in a data-modifying CTE of the same statement — no second round trip, and
 * the render turns 'rendering' exactly when its first task is out.
 *
 * Renders (and archives) are put in order inside an OFFSET 0 fence before any task is
 * locked: the nested loop then tries them one by one and stops at the first task, so
 * whatever plan the renders get (index walk on a big table, sort on a small one), no
 * other render's task is locked and skipped by concurrent claims for nothing.
 */
export async function claimTask(
  sequelize: Sequelize,
  { workerId, leaseSeconds = DEFAULT_LEASE_SECONDS }: { workerId: number; leaseSeconds?: number },
): Promise<ClaimedTask | null> {
  const [row] = await select<ClaimRow>(
    sequelize,
    /* sql */ `
WITH worker AS MATERIALIZED (
  SELECT id, user_id, coalesce(capabilities @> '{"denoiser": true}', false) AS has_denoiser
    FROM workers WHERE id = $workerId AND enabled
),
picked AS (
  -- Archives awaiting their scene facts first: render requests wait on them, and they take seconds.
  (SELECT task.id
     FROM (SELECT id FROM archives
            WHERE uploaded_by = (SELECT user_id FROM worker) AND inspected_at IS NULL
            ORDER BY id OFFSET 0) a
     CROSS JOIN LATERAL (${firstClaimableTask("archive_id", "a.id", "inspect", FAILED_INSPECT_TASK)}) task
    ORDER BY a.id
    LIMIT 1)
  UNION ALL
  -- Then the owner's own renders, highest price first, oldest first on a tie.
  (SELECT task.id
     FROM (SELECT id, price_milli, created_at, needs_denoiser FROM renders
            WHERE created_by = (SELECT user_id FROM worker) AND status IN (${RUNNABLE})
            ORDER BY price_milli DESC, created_at, id OFFSET 0) r
     CROSS JOIN LATERAL (${firstClaimableTask("render_id", "r.id", "render", FAILED_RENDER_TASK)}) task
    WHERE (NOT r.needs_denoiser OR (SELECT has_denoiser FROM worker))
      -- blocklisted: this worker failed this render too often
      AND (SELECT count(*) FROM task_failures f WHERE f.render_id = r.id AND f.worker_id = $workerId) < $blocklistAfter
      -- The economy issue adds here: the RenderWorker switch for (r, worker); other people's
      -- renders come in a third branch (walking renders_runnable_idx) with the worker
      -- owner's accepted render_request_acks row and escrow covering the task.
    ORDER BY r.price_milli DESC, r.created_at, r.id
    LIMIT 1)
  -- Branches run in order and stop at the first row: a later branch locks nothing.
  LIMIT 1
),
leased AS (
  UPDATE tasks t
     SET status = 'leased', worker_id = $workerId, lease_token = gen_random_uuid(),
         lease_expires_at = now() + make_interval(secs => $leaseSeconds),
         attempts = t.attempts + 1, progress = 0, updated_at = now()
    FROM picked
   WHERE t.id = picked.id
  RETURNING t.*
),
-- SKIP LOCKED: a claim holds its task and never waits for a render row (see common.ts
-- on lock order). Whoever holds the row is a claim marking it too, or pause/cancel.
started AS (
  UPDATE renders r SET status = 'rendering', started_at = coalesce(r.started_at, now()), updated_at = now()
   WHERE r.id IN (SELECT q.id FROM renders q JOIN leased ON q.id = leased.render_id
                   WHERE q.status = 'queued' FOR UPDATE OF q SKIP LOCKED)
)
SELECT leased.id, leased.kind, leased.render_id, leased.frame_start, leased.frame_end,
       leased.lease_token, leased.lease_expires_at, r.output_format,
       a.id AS archive_id, a.hash, a.size, a.kind AS archive_kind, a.main_path,
       a.resolution_x, a.resolution_y, a.resolution_percentage,
       a.scene_facts -> 'outputWidth' AS output_width, a.scene_facts -> 'outputHeight' AS output_height
  FROM leased
  LEFT JOIN renders r ON r.id = leased.render_id
  JOIN archives a ON a.id = coalesce(leased.archive_id, r.archive_id)`,
    { workerId, leaseSeconds, blocklistAfter: FAILURES_TO_BLOCKLIST },
  );
  if (!row) return null;
  return {
    id: row.id,
    kind: row.kind,
    renderId: row.render_id,
    frameStart: row.frame_start,
    frameEnd: row.frame_end,
    outputFormat: row.output_format,
    leaseToken: row.lease_token,
    leaseExpiresAt: row.lease_expires_at,
    leaseSeconds,
    archive: { id: row.archive_id, hash: row.hash, size: row.size, kind: row.archive_kind, mainPath: row.main_path },
    expected: expectedFrameSize({
      resolutionX: row.resolution_x,
      resolutionY: row.resolution_y,
      resolutionPercentage: row.resolution_percentage,
      outputWidth: row.output_width,
      outputHeight: row.output_height,
    }),
  };
}

interface ClaimRow {
  id: number;
  kind: "render" | "inspect";
  render_id: number | null;
  frame_start: number | null;
  frame_end: number | null;
  lease_token: string;
  lease_expires_at: Date;
  output_format: OutputFormat | null;
  archive_id: number;
  hash: string;
  size: number;
  archive_kind: ArchiveKind;
  main_path: string | null;
  resolution_x: number | null;
  resolution_y: number | null;
  resolution_percentage: number | null;
  output_width: unknown;
  output_height: unknown;
}

export type HeartbeatAnswer = { keepRunning: true; leaseExpiresAt: Date } | { keepRunning: false; reason: string };

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
  const [extended] = await select<{ lease_expires_at: Date }>(
    sequelize,
    /* sql */ `
UPDATE tasks t
   SET lease_expires_at = now() + make_interval(secs => $leaseSeconds), progress = $progress, updated_at = now()
 WHERE ${LEASE_HELD}
   AND (t.render_id IS NULL OR EXISTS (SELECT 1 FROM renders r WHERE r.id = t.render_id AND r.status IN (${RUNNABLE})))
RETURNING t.lease_expires_at`,
    { ...lease, leaseSeconds, progress: Math.min(1, Math.max(0, progress)) },
  );
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
  | { ok: true; renderStatus: RenderStatus }
  | { ok: false; reason: "stale" }
  | { ok: false; reason: "missing-frames"; frames: number[] };

/**
 * Marks a render task done once every one of its frames has an accepted result (from
 * this lease or an earlier one), then settles the render: done when nothing is left.
 */
export async function completeTask(sequelize: Sequelize, lease: Lease): Promise<CompleteAnswer> {
  if (!isToken(lease.leaseToken)) return { ok: false, reason: "stale" };
  const missingFrames = (task: string) => `
    SELECT wanted.frame FROM renders r, generate_series(${task}.frame_start, ${task}.frame_end, r.frame_step) AS wanted (frame)
     WHERE r.id = ${task}.render_id
       AND NOT EXISTS (SELECT 1 FROM results x WHERE x.render_id = r.id AND x.frame = wanted.frame AND x.accepted)`;
  const [done] = await select<{ render_id: number }>(
    sequelize,
    /* sql */ `
UPDATE tasks t SET status = 'done', progress = 1, updated_at = now()
 WHERE ${LEASE_HELD} AND t.kind = 'render' AND NOT EXISTS (${missingFrames("t")})
RETURNING t.render_id`,
    lease,
  );
  if (!done) {
    const missing = await select<{ frame: number }>(
      sequelize,
      `SELECT missing.frame FROM tasks t, LATERAL (${missingFrames("t")}) missing
        WHERE ${LEASE_HELD} AND t.kind = 'render' ORDER BY missing.frame`,
      lease,
    );
    if (missing.length === 0) return { ok: false, reason: "stale" };
    return { ok: false, reason: "missing-frames", frames: missing.map(({ frame }) => frame) };
  }
  // After this transaction committed: of two last tasks completing at once, the later
  // commit's check sees both done, so the render is never left 'rendering'.
  const [render] = await select<{ status: RenderStatus; unfinished: boolean }>(
    sequelize,
    `SELECT status, EXISTS (SELECT 1 FROM tasks WHERE render_id = $renderId AND status IN ('queued', 'leased')) AS unfinished
       FROM renders WHERE id = $renderId`,
    { renderId: done.render_id },
  );
  if (render.unfinished) return { ok: true, renderStatus: render.status };
  return { ok: true, renderStatus: await updateRenderStatusFromTasks(sequelize, done.render_id) };
}

/** Gives the task back without counting a failure (the agent is stopping). */
export async function releaseTask(sequelize: Sequelize, lease: Lease): Promise<"released" | "stale"> {
  if (!isToken(lease.leaseToken)) return "stale";
  // An expired lease not yet reaped may still be given back: that is what the reaper would do.
  const released = await select(
    sequelize,
    `UPDATE tasks t SET ${REQUEUE}
      WHERE t.id = $taskId AND t.worker_id = $workerId AND t.lease_token = $leaseToken::uuid AND t.status = 'leased'
     RETURNING t.id`,
    lease,
  );
  return released.length > 0 ? "released" : "stale";
}

/**
 * Puts tasks whose lease expired back in the queue and returns how many. An expiry is
 * not counted as a failure: the machine may just have been switched off, and a user
 * with one worker would otherwise never see that task rendered.
 */
export async function reapExpiredLeases(sequelize: Sequelize): Promise<number> {
  const reaped = await select(
    sequelize,
    /* sql */ `
UPDATE tasks SET ${REQUEUE}
 WHERE id IN (SELECT id FROM tasks WHERE status = 'leased' AND lease_expires_at <= now() FOR UPDATE SKIP LOCKED)
RETURNING id`,
  );
  return reaped.length;
}
