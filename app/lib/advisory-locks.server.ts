import pg from "pg";

// Postgres advisory locks, which every server replica on the database sees (decision
// 020). They live on a small pool of their own: a lock is wanted by code that may already
// hold one of Sequelize's connections (an archive is stored inside its hash lock's
// transaction), and a second connection waited for from that same pool could be waited
// for forever when every connection is held that way.

export interface KeyLocks {
  /** Runs `run` holding `key`'s lock shared: any number at once, none while it is held exclusively. */
  shared<T>(key: string, run: () => Promise<T>): Promise<T>;
  /** Runs `run` holding `key`'s lock alone, once the shared holders are done. */
  exclusive<T>(key: string, run: () => Promise<T>): Promise<T>;
}

export interface AdvisoryLocks extends KeyLocks {
  /**
   * Runs the job `name` unless a replica (this one or another) runs it now; says whether
   * it ran. A replica that dies mid-run lets go: its connection closes with it.
   */
  runAlone(name: string, run: () => Promise<void>): Promise<boolean>;
  close(): Promise<void>;
}

const POOL_SIZE = 5;

/** hashtextextended: a lock is a bigint; names keep jobs, keys and archives (app/models/archive.server.ts) apart. */
const LOCK_ID = "hashtextextended($1, 0)";

export function createAdvisoryLocks(databaseUrl: string, log: (message: string) => void = console.error): AdvisoryLocks {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: POOL_SIZE, idleTimeoutMillis: 10_000 });
  // An idle connection cut (Postgres restarted) is dropped by the pool; unheard, the error would end the process.
  pool.on("error", (error) => log(`A lock connection to the database broke (it is replaced): ${error.message}`));

  /** A pooled connection; one whose statement failed is closed on release rather than reused. */
  async function withClient<T>(work: (sql: (text: string, values?: unknown[]) => Promise<pg.QueryResult>) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    let broken: Error | undefined;
    // The connection cut while held (Postgres restarted, the session ended): the query in
    // flight fails with it; unheard, the client's own 'error' would end the process.
    const onError = (error: Error) => (broken = error);
    client.on("error", onError);
    const sql = (text: string, values?: unknown[]) =>
      client.query(text, values).catch((error: Error) => {
        broken = error;
        throw error;
      });
    try {
      return await work(sql);
    } finally {
      client.off("error", onError);
      client.release(broken);
    }
  }

  const inTransaction = <T>(lock: string, key: string, run: () => Promise<T>) =>
    withClient(async (sql) => {
      await sql("BEGIN");
      // Released by COMMIT, ROLLBACK, or the connection's end, whatever happens to `run`.
      await sql(`SELECT ${lock}(${LOCK_ID})`, [`blob:${key}`]);
      let value: T;
      try {
        value = await run();
      } catch (error) {
        await sql("ROLLBACK").catch(() => undefined);
        throw error;
      }
      await sql("COMMIT");
      return value;
    });

  return {
    shared: (key, run) => inTransaction("pg_advisory_xact_lock_shared", key, run),
    exclusive: (key, run) => inTransaction("pg_advisory_xact_lock", key, run),
    runAlone: (name, run) =>
      withClient(async (sql) => {
        // A session lock, outside any transaction: a sweep may run for an hour, and an
        // open transaction that long would hold back vacuum.
        const { rows } = await sql(`SELECT pg_try_advisory_lock(${LOCK_ID}) AS locked`, [`job:${name}`]);
        if (!(rows[0] as { locked: boolean }).locked) return false;
        try {
          await run();
        } finally {
          // Should the unlock fail, the connection is closed on release, which lets go too.
          await sql(`SELECT pg_advisory_unlock(${LOCK_ID})`, [`job:${name}`]).catch(() => undefined);
        }
        return true;
      }),
    close: () => pool.end(),
  };
}
