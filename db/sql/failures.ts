import type { Sequelize, Transaction } from "sequelize";
import { isBlocklisted, taskAfterFailure } from "../../domain/scheduler";
import type { RenderStatus } from "../models";
import { LEASE_HELD, REQUEUE, isToken, lockRenderOfTask, select, type Lease } from "./common";
import { settleRenderFromTasks } from "./render-status";

// A worker failing a task: the rules of domain/scheduler.ts (3 workers fail a task,
// 3 failures blocklist a worker for the render) applied in the failure's transaction.

export interface FailAnswer {
  /** The task's render (null for inspect tasks). */
  renderId: number | null;
  taskStatus: "queued" | "failed";
  /** The render's status after the failure (null for inspect tasks). */
  renderStatus: RenderStatus | null;
  /** This worker gets no more tasks of the render. */
  workerBlocklisted: boolean;
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
}

/** The task of a valid lease, locked until the transaction ends (after lockRenderOfTask). */
export async function lockLeasedTask(
  sequelize: Sequelize,
  lease: Lease,
  transaction: Transaction,
): Promise<LockedTask | undefined> {
  const [task] = await select<LockedTask>(
    sequelize,
    `SELECT t.id, t.kind, t.render_id, t.archive_id FROM tasks t WHERE ${LEASE_HELD} FOR UPDATE OF t`,
    lease,
    transaction,
  );
  return task;
}

/** The failure rules over a task locked by lockLeasedTask, in its transaction. */
export async function recordFailure(
  sequelize: Sequelize,
  task: LockedTask,
  workerId: number,
  { error, logTail }: { error: string; logTail: string | null },
  transaction: Transaction,
): Promise<FailAnswer> {
  const bind = { taskId: task.id, renderId: task.render_id, archiveId: task.archive_id, workerId, error, logTail };
  await select(
    sequelize,
    `INSERT INTO task_failures (task_id, render_id, worker_id, error, log_tail)
     VALUES ($taskId, $renderId, $workerId, $error, $logTail) RETURNING id`,
    bind,
    transaction,
  );
  const [counts] = await select<{ failed_workers: number; worker_failures: number }>(
    sequelize,
    /* sql */ `
SELECT (SELECT count(DISTINCT worker_id) FROM task_failures WHERE task_id = $taskId) AS failed_workers,
       (SELECT count(*) FROM task_failures WHERE render_id = $renderId AND worker_id = $workerId) AS worker_failures`,
    bind,
    transaction,
  );
  const taskStatus = taskAfterFailure(counts.failed_workers);
  const workerBlocklisted = task.render_id !== null && isBlocklisted(counts.worker_failures);
  if (taskStatus === "queued") {
    await select(sequelize, `UPDATE tasks SET ${REQUEUE} WHERE id = $taskId RETURNING id`, bind, transaction);
  } else {
    await select(sequelize, `UPDATE tasks SET status = 'failed', updated_at = now() WHERE id = $taskId RETURNING id`, bind, transaction);
    if (task.archive_id !== null) {
      await select(
        sequelize,
        `UPDATE archives SET inspected_at = now(), inspection_error = $error WHERE id = $archiveId RETURNING id`,
        bind,
        transaction,
      );
    }
  }
  const renderStatus =
    task.render_id === null ? null : await settleRenderFromTasks(sequelize, task.render_id, { transaction, detail: { error } });
  return { renderId: task.render_id, taskStatus, renderStatus, workerBlocklisted };
}
