import { performance } from "node:perf_hooks";
import pg from "pg";

// Load for `npm run bench:claim`: many async loops over one pool for a fixed time, and
// the latency of single operations.

export interface Window {
  /** Operations that finished inside the timed window. */
  operations: number;
  /** SQL statements sent inside it, when counted. */
  statements: number;
  seconds: number;
  /** CPU seconds inside the window: of the Postgres server (when asked for), and of this process. */
  serverCpuSeconds: number;
  clientCpuSeconds: number;
}

/**
 * Runs `loops` concurrent loops of `operation` (its argument: the loop's index) for
 * `warmupSeconds`, then counts what finishes in the next `seconds`, then lets the loops
 * finish their current operation. An operation that throws ends the run with its error.
 */
export async function runWindow(options: {
  loops: number;
  warmupSeconds: number;
  seconds: number;
  operation: (loop: number) => Promise<void>;
  /**
   * Count the statements sent, by every pg client of this process: Sequelize's and the
   * queue's named statements (db/sql/common.ts execute), which Sequelize's hooks miss.
   */
  countStatements?: boolean;
  /** The server's CPU seconds so far, read as the timed window opens and closes. */
  serverCpu?: () => Promise<number>;
}): Promise<Window> {
  let phase: "warmup" | "timed" | "over" = "warmup";
  let operations = 0;
  let statements = 0;
  const countStatement = () => {
    if (phase === "timed") statements += 1;
  };
  const stopCounting = options.countStatements ? countClientQueries(countStatement) : () => undefined;
  let failure: unknown;
  const loop = async (index: number) => {
    while (phase !== "over" && failure === undefined) {
      await options.operation(index);
      if (phase === "timed") operations += 1;
    }
  };
  const running = Promise.all(
    Array.from({ length: options.loops }, (_, index) =>
      loop(index).catch((error: unknown) => {
        failure ??= error;
      }),
    ),
  );
  try {
    await sleepUnlessFailed(options.warmupSeconds, () => failure);
    const serverCpu = options.serverCpu ?? (async () => 0);
    const serverCpuBefore = await serverCpu();
    const clientCpuBefore = process.cpuUsage();
    phase = "timed";
    const started = performance.now();
    await sleepUnlessFailed(options.seconds, () => failure);
    const seconds = (performance.now() - started) / 1000;
    phase = "over";
    const clientCpu = process.cpuUsage(clientCpuBefore);
    const serverCpuSeconds = (await serverCpu()) - serverCpuBefore;
    await running;
    if (failure !== undefined) throw failure;
    return { operations, statements, seconds, serverCpuSeconds, clientCpuSeconds: (clientCpu.user + clientCpu.system) / 1e6 };
  } finally {
    phase = "over";
    await running;
    stopCounting();
  }
}

/** Calls `count` on each query a pg client sends, until the returned function is called. */
function countClientQueries(count: () => void): () => void {
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    count();
    return (query as (...args: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  return () => {
    pg.Client.prototype.query = query;
  };
}

async function sleepUnlessFailed(seconds: number, failed: () => unknown): Promise<void> {
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end && failed() === undefined) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(50, end - performance.now())));
  }
}

/** Milliseconds of each of `count` calls of `operation`, made by `concurrency` loops; sorted. */
export async function latencies(count: number, concurrency: number, operation: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  let started = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < count) {
        started += 1;
        const before = performance.now();
        await operation();
        times.push(performance.now() - before);
      }
    }),
  );
  return times.sort((a, b) => a - b);
}

/** The nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
