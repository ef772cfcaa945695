import type { Sequelize, Transaction } from "sequelize";
import { type FailureBlame, classifyFailure } from "../../domain/blender-failure";
import { FAILURES_TO_BLOCKLIST, type TaskFailedBecause, isBlocklisted, taskAfterFailure } from "../../domain/scheduler";
import type { RenderStatus } from "../models";
import {
  LEASE_HELD,
  REQUEUE,
  WORKER_ENGINES,
  WORKER_HAS_DENOISER,
  isToken,
  lockRenderOfTask,
  select,
  workerCanRender,
  type Lease,
} from "./common";
import { applyRenderEvent, settleRenderFromTasks } from "./render-status";
import { tellingWaitingClaims } from "./work-signals";

// A worker failing a task: the rules of domain/scheduler.ts applied in the failure's
// transaction. An error in the scene (domain/blender-failure.ts) fails the task and the
// render at once and blames no worker; any other failure sends the task to another
// worker, until 3 different workers failed it, none is left that may try, or the render
// failed too often in all. 3 failures of a worker in a render blocklist it there.

export interface FailAnswer {
  /** The task's render (null for inspect tasks). */
  renderId: number | null;
  taskStatus: "queued" | "failed";
  /** The render's status after the failure (null for inspect tasks). */
  renderStatus: RenderStatus | null;
  /** This worker gets no more tasks of the render. */
  workerBlocklisted: boolean;
  /** scene: an error every worker would hit, which blames no worker. */
  blame: FailureBlame;
  /** Why the task failed, when it did. */
  because?: TaskFailedBecause;
}

/** Why a render failed, kept with its `failed` event (render_events.detail): what its page says. */
export interface RenderFailedDetail {
  because: TaskFailedBecause;
  /** The failure's error as the agent reported it. */
  error: string;
  /** Blender's line that showed a scene error, and what to do about it. */
  line: string | null;
  advice: string | null;
  taskId: number;
  frameStart: number;
  frameEnd: number;
  /** Different workers that failed the task, and failures of the render in all. */
  workers: number;
  failures: number;
}

/**
 * Records that this worker failed the task. The task goes back in the queue (never to
 * this worker again) unless enough different workers failed it: then it fails, and
 * with it the render, or for an inspect task the archive's inspection.
 */
export async function failTask(
  sequelize: Sequelize,
  { error, logTail = null, ...lease }: Lease & { error: string; logTail?: string | null },
): Promise<FailAnswer | "stale"> {
  if (!isToken(lease.leaseToken)) return "stale";
  return sequelize.transaction(async (transaction) => {
    await lockRenderOfTask(sequelize, lease.taskId, transaction);
    const task = await lockLeasedTask(sequelize, lease, transaction);
    return task ? recordFailure(sequelize, task, lease.workerId, { error, logTail }, transaction) : "stale";
  });
}

export interface LockedTask {
  id: number;
  kind: "render" | "inspect";
  render_id: number | null;
  archive_id: number | null;
  frame_start: number | null;
  frame_end: number | null;
}

/** The task of a valid lease, locked until the transaction ends (after lockRenderOfTask). */
export async function lockLeasedTask(
  sequelize: Sequelize,
  lease: Lease,
  transaction: Transaction,
): Promise<LockedTask | undefined> {
  const [task] = await select<LockedTask>(
    sequelize,
    `SELECT t.id, t.kind, t.render_id, t.archive_id, t.frame_start, t.frame_end FROM tasks t WHERE ${LEASE_HELD} FOR UPDATE OF t`,
    lease,
    transaction,
  );
  return task;
}

/**
 * Whether a worker of the owner's other than those that failed the task may still take it
 * (the claim's rules, db/sql/claim.ts: enabled, able to render the scene, not blocklisted).
 * Asleep or offline counts: it may come back.
 */
const ANOTHER_WORKER_FOR_RENDER = /* sql */ `
EXISTS (SELECT 1 FROM renders r JOIN workers w ON w.user_id = r.created_by AND w.enabled
         WHERE r.id = $renderId
           AND ${workerCanRender("r", WORKER_HAS_DENOISER("w"), WORKER_ENGINES("w"))}
           AND NOT EXISTS (SELECT 1 FROM task_failures f WHERE f.task_id = $taskId AND f.worker_id = w.id)
           AND (SELECT count(*) FROM task_failures f
                 WHERE f.render_id = r.id AND f.worker_id = w.id AND f.blames_worker) < ${FAILURES_TO_BLOCKLIST})`;
/** An archive's scene is read by one of its uploader's workers (the claim's inspect branch). */
const ANOTHER_WORKER_FOR_ARCHIVE = /* sql */ `
EXISTS (SELECT 1 FROM archives a JOIN workers w ON w.user_id = a.uploaded_by AND w.enabled
         WHERE a.id = $archiveId
           AND NOT EXISTS (SELECT 1 FROM task_failures f WHERE f.task_id = $taskId AND f.worker_id = w.id))`;

/** The failure rules over a task locked by lockLeasedTask, in its transaction. */
export async function recordFailure(
  sequelize: Sequelize,
  task: LockedTask,
  workerId: number,
  { error, logTail }: { error: string; logTail: string | null },
  transaction: Transaction,
): Promise<FailAnswer> {
  const forRender = task.render_id !== null;
  // Reading a scene renders nothing: only a render's failure can be the scene's.
  const verdict = forRender ? classifyFailure({ error, logTail }) : { blame: "machine" as const, line: null, advice: null };
  const bind = {
    taskId: task.id,
    renderId: task.render_id,
    archiveId: task.archive_id,
    workerId,
    error,
    logTail,
    blamesWorker: verdict.blame === "machine",
  };
  await select(
    sequelize,
    `INSERT INTO task_failures (task_id, render_id, worker_id, error, log_tail, blames_worker)
     VALUES ($taskId, $renderId, $workerId, $error, $logTail, $blamesWorker) RETURNING id`,
    bind,
    transaction,
  );
  const [counts] = await select<{ failed_workers: number; worker_failures: number; render_failures: number; another_worker: boolean }>(
    sequelize,
    /* sql */ `
SELECT (SELECT count(DISTINCT worker_id) FROM task_failures WHERE task_id = $taskId)::int AS failed_workers,
       (SELECT count(*) FROM task_failures WHERE render_id = $renderId AND worker_id = $workerId AND blames_worker)::int AS worker_failures,
       (SELECT count(*) FROM task_failures WHERE render_id = $renderId)::int AS render_failures,
       ${forRender ? ANOTHER_WORKER_FOR_RENDER : ANOTHER_WORKER_FOR_ARCHIVE} AS another_worker`,
    bind,
    transaction,
  );
  const outcome = taskAfterFailure({
    blame: verdict.blame,
    distinctFailedWorkers: counts.failed_workers,
    renderFailures: counts.render_failures,
    anotherWorkerMayTake: counts.another_worker,
  });
  const answer = {
    renderId: task.render_id,
    taskStatus: outcome.status,
    workerBlocklisted: forRender && isBlocklisted(counts.worker_failures),
    blame: verdict.blame,
    ...(outcome.status === "failed" ? { because: outcome.because } : {}),
  };
  if (outcome.status === "queued") {
    await select(
      sequelize,
      tellingWaitingClaims(`UPDATE tasks t SET ${REQUEUE} WHERE t.id = $taskId RETURNING t.id, t.render_id, t.archive_id`),
      bind,
      transaction,
    );
    return { ...answer, renderStatus: forRender ? await settleRenderFromTasks(sequelize, task.render_id!, { transaction }) : null };
  }
  await select(sequelize, `UPDATE tasks SET status = 'failed', updated_at = now() WHERE id = $taskId RETURNING id`, bind, transaction);
  if (!forRender) {
    await select(
      sequelize,
      `UPDATE archives SET inspected_at = now(), inspection_error = $error WHERE id = $archiveId RETURNING id`,
      bind,
      transaction,
    );
    return { ...answer, renderStatus: null };
  }
  const detail: RenderFailedDetail = {
    because: outcome.because,
    error,
    line: verdict.line,
    advice: verdict.advice,
    taskId: task.id,
    frameStart: task.frame_start!,
    frameEnd: task.frame_end!,
    workers: counts.failed_workers,
    failures: counts.render_failures,
  };
  // The lifecycle cancels the render's other open tasks: a failed render has no frame queued.
  const change = await applyRenderEvent(sequelize, task.render_id!, "failed", { transaction, detail: { ...detail } });
  return { ...answer, renderStatus: change?.to ?? (await settleRenderFromTasks(sequelize, task.render_id!, { transaction })) };
}
