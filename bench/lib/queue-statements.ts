import type { Sequelize } from "sequelize";
import { rows } from "./queue-postgres";

// Where the server's time goes, statement by statement: pg_stat_statements with planning
// tracked. It needs the library preloaded (a restart), so `npm run bench:claim` switches
// it on only after the timed runs, for short runs of its own: the goal figures come from
// a server without it.

export const STATEMENT_STATS_SETTINGS = {
  shared_preload_libraries: "pg_stat_statements",
  "pg_stat_statements.track_planning": "on",
};

export interface StatementTime {
  statement: string;
  calls: number;
  /** Mean milliseconds per call: a prepared statement run from its cached plan plans less than once a call. */
  planMs: number;
  execMs: number;
}

/** Starts counting from zero in this database (the extension must be preloaded). */
export async function resetStatementStats(sequelize: Sequelize): Promise<void> {
  await sequelize.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  await sequelize.query("SELECT pg_stat_statements_reset()");
}

/** What the queue's statements and the comparison UPDATE cost the server since the reset. */
export async function statementTimes(sequelize: Sequelize): Promise<StatementTime[]> {
  const found = await rows<{ query: string; calls: number; plan_ms: number; exec_ms: number }>(
    sequelize,
    /* sql */ `
SELECT query, calls::int AS calls, total_plan_time AS plan_ms, total_exec_time AS exec_ms
  FROM pg_stat_statements
 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND calls >= 10
 ORDER BY total_plan_time + total_exec_time DESC`,
  );
  return found.flatMap(({ query, calls, plan_ms, exec_ms }) => {
    const statement = STATEMENTS.find(([, pattern]) => pattern.test(query))?.[0];
    return statement ? [{ statement, calls, planMs: plan_ms / calls, execMs: exec_ms / calls }] : [];
  });
}

/** The statements by name, recognised in their normalised text (constants are $n there). */
const STATEMENTS: [string, RegExp][] = [
  ["claim", /^\s*WITH worker AS MATERIALIZED/],
  ["heartbeat", /^\s*UPDATE tasks t\s+SET lease_expires_at/],
  ["complete", /^\s*UPDATE tasks t SET status = \$\d+, progress = \$\d+/],
  ["complete's render check", /^\s*SELECT status, EXISTS \(SELECT \$\d+ FROM tasks WHERE render_id/],
  ["PK UPDATE", /^\s*UPDATE bench_rows SET/],
];
