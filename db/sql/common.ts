import type pg from "pg";
import { QueryTypes, type Sequelize, type Transaction } from "sequelize";
import { RUNNABLE_RENDER_STATUSES } from "../../domain/render-lifecycle";

// What the queue's statements (db/sql/*.ts) share. Every statement that hands out or
// takes back work checks the lease in its own WHERE, so any number of server replicas
// can share one Postgres without handing a task out twice.
//
// Lock order, against deadlocks: a render's row before its tasks' rows (cancel, fail,
// settling the status). The claim locks its task alone; marking the render started is a
// statement of its own after it (claim.ts).

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

/**
 * One of the queue's hot statements (claim, heartbeat, complete), prepared under a name.
 * Sequelize sends every statement unnamed, so Postgres plans it on every call: for the
 * claim, planning cost more than running it (bench:claim, pg_stat_statements). A named
 * statement is planned on its first calls on each connection, then runs from the generic
 * plan Postgres keeps once that costs no more than the custom ones did. For the claim,
 * heartbeat and complete the generic plan is the custom one (EXPLAIN under each
 * plan_cache_mode, with a million tasks).
 */
export interface NamedStatement {
  name: string;
  /** The SQL with `$1`, `$2`… where it had `$name` binds. */
  text: string;
  /** The bind names in `$1`, `$2`… order. */
  binds: readonly string[];
}

/** Names `sql`, written with `$name` binds as for select(). */
export function prepare(name: string, sql: string): NamedStatement {
  const binds: string[] = [];
  const text = sql.replace(/\$([A-Za-z_]\w*)/g, (_match, bind: string) => {
    if (!binds.includes(bind)) binds.push(bind);
    return `$${binds.indexOf(bind) + 1}`;
  });
  return { name, text, binds };
}

/**
 * Rows of a named statement, run as its own transaction on a connection of Sequelize's
 * pool (Sequelize cannot send a name). Statements inside a transaction go through
 * select(): none of them is hot.
 */
export async function execute<T extends object>(
  sequelize: Sequelize,
  statement: NamedStatement,
  bind: object,
): Promise<T[]> {
  const values = statement.binds.map((name) => {
    const value = (bind as Record<string, unknown>)[name];
    if (value === undefined) throw new Error(`The statement ${statement.name} needs $${name}.`);
    return value;
  });
  // CACTUS_SQL_LOG (app/lib/db.server.ts) shows these too, as Sequelize shows its own.
  const { logging } = (sequelize as unknown as { options: { logging?: false | ((sql: string) => void) } }).options;
  if (typeof logging === "function") logging(`Executing (${statement.name}): ${statement.text} ${JSON.stringify(values)}`);
  const connection = (await sequelize.connectionManager.getConnection({ type: "write" })) as pg.ClientBase;
  try {
    return (await connection.query({ name: statement.name, text: statement.text, values })).rows as T[];
  } finally {
    sequelize.connectionManager.releaseConnection(connection);
  }
}

// Literal, not a parameter: the planner only uses the partial indexes on runnable
// renders when the query's predicate visibly implies theirs.
export const RUNNABLE = RUNNABLE_RENDER_STATUSES.map((status) => `'${status}'`).join(", ");

/**
 * SQL: a worker can render this render's scene — it has a denoiser when the scene
 * denoises, and the scene's engine is one it rendered a test frame with. A worker whose
 * agent is too old to say which engines (no `engines`) may take any. `render` names the
 * renders row; `hasDenoiser` and `engines` are the worker's, as SQL.
 */
export const workerCanRender = (render: string, hasDenoiser: string, engines: string) =>
  `(NOT ${render}.needs_denoiser OR ${hasDenoiser}) AND ${engineAmong(render, engines)}`;

/** SQL: the render's engine (unknown: any) is among `engines` (unknown: all). */
export const engineAmong = (render: string, engines: string) =>
  `(${render}.engine IS NULL OR ${engines} IS NULL OR ${engines} @> jsonb_build_array(${render}.engine))`;

/** The worker row `w`'s side of workerCanRender. */
export const WORKER_HAS_DENOISER = (w: string) => `coalesce(${w}.capabilities @> '{"denoiser": true}', false)`;
export const WORKER_ENGINES = (w: string) => `(${w}.capabilities -> 'engines')`;

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
