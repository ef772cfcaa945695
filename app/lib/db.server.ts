import pg from "pg";
import { Sequelize } from "sequelize";
import { initModels } from "../../db/models";

// Ids and milli-credit amounts are bigint columns whose values stay far below 2^53.
pg.defaults.parseInt8 = true;

let current: Sequelize | undefined;

/** How long the server waits on Postgres before it answers 503 (decision 019). */
export interface DatabaseTimeouts {
  /** Postgres cancels a statement running this long. */
  statementMs: number;
  /** Connecting, and waiting for a free connection of the pool, give up after this long. */
  connectMs: number;
}

// A stalled Postgres cancels nothing, so the client gives up on a query a little after the
// server would have; that connection is then closed, not handed to the next request.
const CLIENT_GRACE_MS = 2000;
const QUERY_READ_TIMEOUT = "Query read timeout";

/** A Sequelize for `url`, with no models bound: for migrations, which may run long. */
export function openDatabase(url: string, timeouts?: DatabaseTimeouts): Sequelize {
  const sequelize = new Sequelize(url, {
    dialect: "postgres",
    dialectModule: pg,
    logging: process.env.CACTUS_SQL_LOG ? console.log : false,
    pool: { max: 20, min: 0, idle: 10_000, ...(timeouts ? { acquire: timeouts.connectMs } : {}) },
    dialectOptions: timeouts
      ? {
          statement_timeout: timeouts.statementMs,
          query_timeout: timeouts.statementMs + CLIENT_GRACE_MS,
          connectionTimeoutMillis: timeouts.connectMs,
          // A transaction left open by a request that died must not hold its locks for long.
          idle_in_transaction_session_timeout: Math.max(60_000, timeouts.statementMs * 2),
        }
      : {},
  });
  if (timeouts) {
    sequelize.addHook("afterConnect", (connection) => {
      const client = connection as pg.Client & { _invalid?: boolean };
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      // After a read timeout the client still waits for that query's answer, and every
      // later query on it would queue behind: the pool must not hand it out again.
      const invalidate = (error: unknown) => {
        if (error instanceof Error && error.message === QUERY_READ_TIMEOUT && !client._invalid) {
          client._invalid = true;
          (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
        }
      };
      (client as unknown as { query: typeof query }).query = (...args: unknown[]) => {
        const last = args.length - 1;
        const callback = args[last];
        if (typeof callback === "function") {
          args[last] = (error: unknown, result: unknown) => {
            invalidate(error);
            (callback as (error: unknown, result: unknown) => void)(error, result);
          };
        }
        const result = query(...args);
        if (result instanceof Promise) result.catch(invalidate);
        return result;
      };
    });
  }
  return sequelize;
}

/** The server's connection pool, with the models bound to it. */
export function connectDatabase(url: string, timeouts?: DatabaseTimeouts): Sequelize {
  const sequelize = openDatabase(url, timeouts);
  initModels(sequelize);
  current = sequelize;
  return sequelize;
}

/** The server's connection pool, set up at boot. */
export function db(): Sequelize {
  if (!current) throw new Error("The database is not connected yet: startCactus() connects it.");
  return current;
}

const UNAVAILABLE_ERRORS = new Set([
  "SequelizeConnectionError",
  "SequelizeConnectionRefusedError",
  "SequelizeConnectionTimedOutError",
  "SequelizeHostNotFoundError",
  "SequelizeHostNotReachableError",
  "SequelizeInvalidConnectionError",
  "SequelizeConnectionAcquireTimeoutError",
]);
// query_canceled (statement_timeout), admin_shutdown, crash_shutdown, cannot_connect_now,
// and the connection_exception class.
const UNAVAILABLE_CODES = /^(57014|57P0[1-3]|08...)$/;
const UNAVAILABLE_MESSAGES = /^(Query read timeout|Connection terminated|timeout expired|Client has encountered a connection error)/;

/**
 * Whether an error says the database is not answering (down, stalled, overloaded), as
 * opposed to a bug: those are a 503 that says to try again, not a 500 with a stack.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 4; depth++) {
    const { name, message, code } = cause as Error & { code?: string };
    if (UNAVAILABLE_ERRORS.has(name)) return true;
    if (typeof code === "string" && (UNAVAILABLE_CODES.test(code) || ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE"].includes(code))) return true;
    if (UNAVAILABLE_MESSAGES.test(message)) return true;
    cause = (cause as { original?: unknown; parent?: unknown; cause?: unknown }).original ?? (cause as { cause?: unknown }).cause;
  }
  return false;
}
