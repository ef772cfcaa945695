import type { Sequelize, Transaction } from "sequelize";
import type { OutputFormat } from "../models";
import { LEASE_HELD, isToken, lockRenderOfTask, select, type Lease } from "./common";
import { recordFailure, type FailAnswer } from "./failures";
import { payForResult } from "./render-credits";

// What agents deliver under a lease: frame images and an archive's scene facts.

export interface LeasedTask {
  id: number;
  kind: "render" | "inspect";
  renderId: number | null;
  archiveId: number;
  frameStart: number | null;
  frameEnd: number | null;
  frameStep: number;
  outputFormat: OutputFormat | null;
  expected: { width: number; height: number } | null;
}

/** The task behind a valid lease, with what checking an uploaded frame needs; null when stale. */
export async function findLeasedTask(sequelize: Sequelize, lease: Lease): Promise<LeasedTask | null> {
  if (!isToken(lease.leaseToken)) return null;
  const [row] = await select<LeasedTaskRow>(
    sequelize,
    /* sql */ `
SELECT t.id, t.kind, t.render_id, coalesce(t.archive_id, r.archive_id) AS archive_id, t.frame_start, t.frame_end,
       coalesce(r.frame_step, 1) AS frame_step, r.output_format, r.output_width, r.output_height
  FROM tasks t
  LEFT JOIN renders r ON r.id = t.render_id
 WHERE ${LEASE_HELD}`,
    lease,
  );
  if (!row) return null;
  return {
    id: row.id,
    kind: row.kind,
    renderId: row.render_id,
    archiveId: row.archive_id,
    frameStart: row.frame_start,
    frameEnd: row.frame_end,
    frameStep: row.frame_step,
    outputFormat: row.output_format,
    // The size the render's scene writes, its resolution percentage applied (recorded when requested).
    expected: row.output_width !== null && row.output_height !== null ? { width: row.output_width, height: row.output_height } : null,
  };
}

interface LeasedTaskRow {
  id: number;
  kind: "render" | "inspect";
  render_id: number | null;
  archive_id: number;
  frame_start: number | null;
  frame_end: number | null;
  frame_step: number;
  output_format: OutputFormat | null;
  output_width: number | null;
  output_height: number | null;
}

/** Whether a task leased to this worker uses the archive of this hash: only then may it download it. */
export async function workerHoldsArchive(sequelize: Sequelize, workerId: number, hash: string): Promise<boolean> {
  const [row] = await select<{ holds: boolean }>(
    sequelize,
    /* sql */ `
SELECT EXISTS (
  SELECT 1 FROM tasks t
    LEFT JOIN renders r ON r.id = t.render_id
    JOIN archives a ON a.id = coalesce(t.archive_id, r.archive_id)
   WHERE t.worker_id = $workerId AND t.status = 'leased' AND t.lease_expires_at > now() AND a.hash = $hash
) AS holds`,
    { workerId, hash },
  );
  return row.holds;
}

export interface FrameResult {
  frame: number;
  imageKey: string;
  /** The image's size, so listing frames need not stat each one in storage. */
  imageBytes: number;
  thumbnailKey: string | null;
  width: number;
  height: number;
  renderTimeMs: number;
  blenderVersion: string | null;
}

export type ResultAnswer =
  | { ok: true; resultId: number; duplicate: boolean }
  | { ok: false; reason: "stale" | "not-in-task" };

/**
 * Accepts a frame's image while the lease holds. The lease row is share-locked for the
 * insert, so a reaper or cancel cannot take the task back in between; a frame another
 * lease already delivered stays as it was (results_accepted_frame_key) and the answer
 * says duplicate, so the caller can drop the second image.
 */
export async function recordResult(sequelize: Sequelize, lease: Lease, result: FrameResult): Promise<ResultAnswer> {
  if (!isToken(lease.leaseToken)) return { ok: false, reason: "stale" };
  return sequelize.transaction(async (transaction) => {
    // The render first (the lock order): paying for the frame may change its status.
    await lockRenderOfTask(sequelize, lease.taskId, transaction);
    const task = await lockLeasedRenderTask(sequelize, lease, transaction);
    if (!task) return { ok: false, reason: "stale" };
    if (!frameInTask(task, result.frame)) return { ok: false, reason: "not-in-task" };
    // The frame's WU (decision 013): its render minutes × the worker's speed on this render
    // as calibrated so far (render_speeds), else its benchmark; none without either.
    const [inserted] = await select<{ id: number; wu: number | null }>(
      sequelize,
      /* sql */ `
INSERT INTO results (task_id, render_id, frame, author_id, worker_id, image_key, image_bytes, thumbnail_key,
                     width, height, render_time_ms, blender_version, accepted, wupm, wu)
SELECT $taskId, $renderId, $frame, $authorId, $workerId, $imageKey, $imageBytes, $thumbnailKey,
       $width, $height, $renderTimeMs, $blenderVersion, true, speed.wupm, $renderTimeMs::int / 60000.0 * speed.wupm
  FROM (SELECT coalesce((SELECT wupm FROM render_speeds WHERE render_id = $renderId AND worker_id = $workerId),
                        (SELECT wupm FROM workers WHERE id = $workerId)) AS wupm) speed
ON CONFLICT (render_id, frame) WHERE accepted DO NOTHING
RETURNING id, wu`,
      { ...result, taskId: task.id, renderId: task.render_id, authorId: task.author_id, workerId: lease.workerId },
      transaction,
    );
    if (inserted) {
      // Paid in the transaction that accepts it: the frame and its payment commit together.
      const payment = { renderId: task.render_id, taskId: task.id, resultId: inserted.id, workerId: lease.workerId, wu: inserted.wu };
      await payForResult(sequelize, payment, transaction);
      return { ok: true, resultId: inserted.id, duplicate: false };
    }
    const [earlier] = await select<{ id: number }>(
      sequelize,
      `SELECT id FROM results WHERE render_id = $renderId AND frame = $frame AND accepted`,
      { renderId: task.render_id, frame: result.frame },
      transaction,
    );
    return { ok: true, resultId: earlier.id, duplicate: true };
  });
}

/**
 * Refuses a frame's image (wrong format, size, empty): the image is kept as a rejected
 * result with its reason, and it counts as this worker failing the task (failTask's rules).
 */
export async function rejectResult(
  sequelize: Sequelize,
  lease: Lease,
  { frame, reason, logTail = null }: { frame: number; reason: string; logTail?: string | null },
): Promise<FailAnswer | "stale"> {
  if (!isToken(lease.leaseToken)) return "stale";
  return sequelize.transaction(async (transaction) => {
    await lockRenderOfTask(sequelize, lease.taskId, transaction);
    const task = await lockLeasedRenderTask(sequelize, lease, transaction, "FOR UPDATE");
    if (!task) return "stale";
    await select(
      sequelize,
      `INSERT INTO results (task_id, render_id, frame, author_id, worker_id, accepted, reject_reason)
       VALUES ($taskId, $renderId, $frame, $authorId, $workerId, false, $reason) RETURNING id`,
      { taskId: task.id, renderId: task.render_id, frame, authorId: task.author_id, workerId: lease.workerId, reason },
      transaction,
    );
    const failure = {
      id: task.id,
      kind: "render" as const,
      render_id: task.render_id,
      archive_id: null,
      frame_start: task.frame_start,
      frame_end: task.frame_end,
    };
    return recordFailure(sequelize, failure, lease.workerId, { error: `Frame ${frame} was refused: ${reason}`, logTail }, transaction);
  });
}

interface LockedRenderTask {
  id: number;
  render_id: number;
  frame_start: number;
  frame_end: number;
  frame_step: number;
  author_id: number;
}

function lockLeasedRenderTask(
  sequelize: Sequelize,
  lease: Lease,
  transaction: Transaction,
  lock: "FOR SHARE" | "FOR UPDATE" = "FOR SHARE",
) {
  return select<LockedRenderTask>(
    sequelize,
    /* sql */ `
SELECT t.id, t.render_id, t.frame_start, t.frame_end, r.frame_step, w.user_id AS author_id
  FROM tasks t JOIN renders r ON r.id = t.render_id JOIN workers w ON w.id = t.worker_id
 WHERE ${LEASE_HELD} AND t.kind = 'render'
   ${lock} OF t`,
    lease,
    transaction,
  ).then(([task]) => task);
}

function frameInTask(task: LockedRenderTask, frame: number): boolean {
  return frame >= task.frame_start && frame <= task.frame_end && (frame - task.frame_start) % task.frame_step === 0;
}

/**
 * Finishes an inspect task: `saveFacts` writes the scene facts into the archive in the
 * same transaction that checks the lease and marks the archive inspected.
 */
export async function completeInspection(
  sequelize: Sequelize,
  lease: Lease,
  saveFacts: (archiveId: number, transaction: Transaction) => Promise<void>,
): Promise<"done" | "stale"> {
  if (!isToken(lease.leaseToken)) return "stale";
  return sequelize.transaction(async (transaction) => {
    const [task] = await select<{ archive_id: number }>(
      sequelize,
      `UPDATE tasks t SET status = 'done', progress = 1, updated_at = now()
        WHERE ${LEASE_HELD} AND t.kind = 'inspect' RETURNING t.archive_id`,
      lease,
      transaction,
    );
    if (!task) return "stale";
    await saveFacts(task.archive_id, transaction);
    await select(
      sequelize,
      `UPDATE archives SET inspected_at = now(), inspection_error = NULL WHERE id = $archiveId RETURNING id`,
      { archiveId: task.archive_id },
      transaction,
    );
    return "done";
  });
}



