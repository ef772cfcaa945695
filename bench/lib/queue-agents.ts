import type pg from "pg";
import type { Sequelize } from "sequelize";
import { claimTask, completeTask, heartbeatTask } from "../../db/sql/queue";

// What `npm run bench:claim` puts through the pool: an agent's round with the queue's
// own statements (db/sql/queue.ts, as the agent routes call them, minus HTTP), and the
// single-row primary-key UPDATE it is compared with.

/** The queue statements an agent's round makes: claim, one heartbeat, complete. */
export const OPERATIONS_PER_CYCLE = 3;

export class SimulatedAgents {
  /** Every task handed out in the run: one handed out twice would be a queue bug. */
  private readonly claimed = new Set<number>();
  cycles = 0;

  constructor(
    private readonly sequelize: Sequelize,
    private readonly workerIds: readonly number[],
  ) {}

  /**
   * One agent's round as worker `workerIds[agent]`: claim, heartbeat, complete (the
   * frame's accepted result is in the table already). Anything but the happy answers
   * throws: the figures of a run where the queue misbehaved would mean nothing.
   */
  cycle = async (agent: number): Promise<void> => {
    const workerId = this.workerIds[agent];
    const task = await claimTask(this.sequelize, { workerId });
    if (!task) throw new Error(`worker ${workerId} found no task: the farm ran out of queued tasks`);
    if (this.claimed.has(task.id)) throw new Error(`task ${task.id} was handed out twice`);
    this.claimed.add(task.id);
    const lease = { taskId: task.id, workerId, leaseToken: task.leaseToken };
    const heartbeat = await heartbeatTask(this.sequelize, { ...lease, progress: 0.5 });
    if (heartbeat === "stale" || !heartbeat.keepRunning) throw new Error(`heartbeat of task ${task.id}: ${JSON.stringify(heartbeat)}`);
    const completed = await completeTask(this.sequelize, lease);
    if (!completed.ok) throw new Error(`complete of task ${task.id}: ${JSON.stringify(completed)}`);
    this.cycles += 1;
  };
}

export const BENCH_ROWS = 100_000;

/** The table the raw UPDATE (and pgbench's) works on: about as many rows as the farm has tasks. */
export async function createBenchRows(sequelize: Sequelize): Promise<void> {
  await sequelize.query(`
CREATE TABLE bench_rows (id integer PRIMARY KEY, n bigint NOT NULL DEFAULT 0);
INSERT INTO bench_rows (id) SELECT generate_series(1, ${BENCH_ROWS});`);
  await sequelize.query("VACUUM ANALYZE bench_rows");
}

/** pgbench's script of the same statement. */
export const PGBENCH_SCRIPT = `\\set id random(1, ${BENCH_ROWS})
UPDATE bench_rows SET n = n + 1 WHERE id = :id;
`;

const UPDATE = "UPDATE bench_rows SET n = n + 1 WHERE id = $1";
const randomRow = () => 1 + Math.floor(Math.random() * BENCH_ROWS);

/** The single-row primary-key UPDATE through a plain node-postgres pool. */
export const rawUpdate = (pool: pg.Pool) => async () => {
  const result = await pool.query(UPDATE, [randomRow()]);
  if (result.rowCount !== 1) throw new Error(`the raw UPDATE changed ${result.rowCount} rows`);
};

/** The same UPDATE through Sequelize, as the queue's statements go: what the ORM layer costs. */
export const sequelizeUpdate = (sequelize: Sequelize) => async () => {
  await sequelize.query(UPDATE, { bind: [randomRow()] });
};
