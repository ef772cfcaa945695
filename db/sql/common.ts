import { QueryTypes, type Sequelize, type Transaction } from "sequelize";
import { RUNNABLE_RENDER_STATUSES } from "../../app/domain/scheduler";

// What the queue's statements (db/sql/*.ts) share. Every statement that hands out or
// takes back work checks the lease in its own WHERE, so any number of server replicas
// can share one Postgres without handing a task out twice.
//
// Lock order, against deadlocks: a render's row before its tasks' rows (cancel, fail,
// settling the status). The claim is the one exception and never waits for a render row.

export interface Lease {
  taskId: number;
  workerId: number;
  leaseToken: string;
}

export type Options = { transaction?: Transaction };

/** Rows of a statement (SELECT, or anything with RETURNING), with named `$binds`. */
export function select<T extends object>(
  sequelize: Sequelize,
  sql: string,
  bind: object = {},
  transaction?: Transaction,
): Promise<T[]> {
  return sequelize.query<T>(sql, { bind: bind as Record<string, unknown>, type: QueryTypes.SELECT, transaction });
}

// Literal, not a parameter: the planner only uses the partial indexes on runnable
// renders when the query's predicate visibly implies theirs.
export const RUNNABLE = RUNNABLE_RENDER_STATUSES.map((status) => `'${status}'`).join(", ");

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A token that is not even a uuid is as stale as a wrong one (and must not reach a ::uuid cast). */
export const isToken = (token: string) => UUID.test(token);

/** The WHERE of "this lease is still the worker's" over `tasks t`, binding $taskId, $workerId, $leaseToken. */
export const LEASE_HELD = `t.id = $taskId AND t.worker_id = $workerId AND t.lease_token = $leaseToken::uuid
  AND t.status = 'leased' AND t.lease_expires_at > now()`;

/** Puts a task back in the queue for anyone eligible; the old lease becomes stale. */
export const REQUEUE = `status = 'queued', worker_id = NULL, lease_token = NULL, lease_expires_at = NULL,
  progress = 0, updated_at = now()`;

/** Locks the row of the task's render (if it has one): first, as the lock order says. */
export async function lockRenderOfTask(sequelize: Sequelize, taskId: number, transaction: Transaction): Promise<void> {
  // A task's render never changes, so reading it unlocked is safe.
  await select(
    sequelize,
    `SELECT id FROM renders WHERE id = (SELECT render_id FROM tasks WHERE id = $taskId) FOR UPDATE`,
    { taskId },
    transaction,
  );
}
