import type { Sequelize } from "sequelize";
import { REQUEUE, select, type Options } from "./common";
import { tellingWaitingClaims } from "./work-signals";

// The queue's side of a worker going away.

/**
 * Puts the tasks a worker holds back in the queue, for anyone eligible, without counting
 * a failure: the owner removed or disabled the machine, it did not fail. Its old leases
 * become stale. Run it in the transaction that deletes the worker (a leased task must
 * have a worker) or disables it.
 */
export async function requeueWorkerTasks(sequelize: Sequelize, workerId: number, { transaction }: Options = {}): Promise<number> {
  const requeued = await select(
    sequelize,
    tellingWaitingClaims(
      `UPDATE tasks t SET ${REQUEUE} WHERE t.worker_id = $workerId AND t.status = 'leased' RETURNING t.id, t.render_id, t.archive_id`,
    ),
    { workerId },
    transaction,
  );
  return requeued.length;
}
