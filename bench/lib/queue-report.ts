import { BENCH_ROWS, OPERATIONS_PER_CYCLE } from "./queue-agents";
import type { FarmCounts } from "./queue-data";
import { percentile, type Window } from "./queue-load";
import type { StatementTime } from "./queue-statements";

// The figures of `npm run bench:claim` and their goals (issue 3).
//
// What the ratio compares: a cycle is claim + heartbeat + complete, the three queue
// statements an agent's task costs; each does more than a one-row UPDATE (the claim
// walks the owner's renders and locks, leases and returns a task, and may mark its
// render started; the heartbeat checks the lease and the render; complete checks that
// every frame has its accepted result and whether a task of the render is still queued
// (when none is, it reads whether the render is done after committing — a fourth,
// read-only statement, not counted). So queue operations per second (3 per cycle) are
// set against single-row primary-key UPDATEs per second, with the same number of loops
// over a pool of the same size on the same server: statement for statement, the queue
// against the cheapest write Postgres does. Every statement is its own transaction on
// both sides, so both pay a commit each.

export const GOAL_RATIO = 0.5;
export const GOAL_P95_MS = 20;

export interface Throughput {
  cycles: Window;
  rawUpdates: Window;
  sequelizeUpdates: Window;
  pgbenchTps: number | null;
  farm: FarmCounts;
}

export interface Latency {
  /** Sorted milliseconds of each claim. */
  single: number[];
  concurrent: number[];
  found: number;
  tables: FarmCounts;
}

export interface Diagnosis {
  farm: StatementTime[];
  million: StatementTime[];
}

export interface Run {
  postgres: string;
  machine: string;
  settings: { pool: number; agents: number; rounds: number; roundSeconds: number; warmup: number; claims: number; claimers: number };
  runSeconds: number;
  throughput: Throughput;
  latency: Latency;
  diagnosis: Diagnosis;
}

const verdict = (ok: boolean) => (ok ? "PASS" : "MISS");
const perSecond = (count: number, window: Window) => count / window.seconds;
const rate = (value: number) => `${Math.round(value).toLocaleString("en")}/s`;
const n = (value: number) => value.toLocaleString("en");
const ms = (value: number) => value.toFixed(1);
const percent = (ratio: number) => `${(ratio * 100).toFixed(0)} %`;

export function report(run: Run): void {
  const { throughput: t, latency: l, settings: s } = run;
  const cycles = perSecond(t.cycles.operations, t.cycles);
  const operations = cycles * OPERATIONS_PER_CYCLE;
  const raw = perSecond(t.rawUpdates.operations, t.rawUpdates);
  const latencyRow = (label: string, sorted: number[]) => {
    const p95 = percentile(sorted, 95);
    const value = `${ms(percentile(sorted, 50))} / ${ms(p95)} / ${ms(percentile(sorted, 99))} ms`;
    return [label, value, `p95 ≤ ${GOAL_P95_MS} ms`, verdict(p95 <= GOAL_P95_MS)];
  };
  const rows: string[][] = [
    ["figure", "value", "goal", ""],
    ["claim → heartbeat → complete cycles", rate(cycles), "", ""],
    [`queue operations (${OPERATIONS_PER_CYCLE} a cycle)`, rate(operations), "", ""],
    ["  SQL statements sent for them", rate(perSecond(t.cycles.statements, t.cycles)), "", ""],
    ["single-row PK UPDATEs, plain pg", rate(raw), "", ""],
    ["  the same through Sequelize", rate(perSecond(t.sequelizeUpdates.operations, t.sequelizeUpdates)), "", ""],
    ...(t.pgbenchTps === null ? [] : [[`  the same in pgbench (-c ${s.pool} -j 1)`, rate(t.pgbenchTps), "", ""]]),
    ["queue operations ÷ PK UPDATEs (plain pg)", percent(operations / raw), `≥ ${percent(GOAL_RATIO)}`, verdict(operations / raw >= GOAL_RATIO)],
    ...(t.pgbenchTps === null ? [] : [["  ÷ pgbench's UPDATEs", percent(operations / t.pgbenchTps), "", ""]]),
    latencyRow("claim p50 / p95 / p99, one at a time", l.single),
    latencyRow(`claim p50 / p95 / p99, ${s.claimers} at once`, l.concurrent),
  ];
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column].length)));
  const line = (row: string[]) =>
    `  ${row[0].padEnd(widths[0])}  ${row[1].padStart(widths[1])}  ${row[2].padEnd(widths[2])}  ${row[3]}`.trimEnd();

  const { farm } = t;
  const big = l.tables;
  console.log(
    [
      "",
      `${run.postgres}; ${run.machine}; Node ${process.version}; ${run.runSeconds.toFixed(0)} s.`,
      `Throughput: ${s.agents} agents (async loops, one worker each) over a pool of ${s.pool} connections; each figure ` +
        `${s.rounds} × ${s.roundSeconds} s after ${s.warmup} s warm-ups, in alternating rounds; ${n(t.cycles.operations)} cycles timed. ` +
        `Tables: ${n(farm.workers)} workers of ${farm.users} users, ${farm.runnableRenders} runnable of ${farm.renders} renders, ` +
        `${n(farm.queuedTasks)} of ${n(farm.tasks)} tasks queued, ${n(farm.taskFailures)} task failures.`,
      `The UPDATE loops run the same ${s.agents} loops over ${s.pool} connections, on bench_rows (${n(BENCH_ROWS)} rows, a random id each).`,
      `Latency: ${n(big.tasks)} tasks (${n(big.queuedTasks)} queued, ${n(big.leasedTasks)} leased), ${n(big.workers)} workers ` +
        `of ${big.users} users, ${n(big.renders)} renders, ${n(big.taskFailures)} task failures; ${n(s.claims)} claims by ` +
        `random workers each way, timed in the client (${n(l.found)} of ${n(2 * s.claims)} found a task).`,
      "A queue operation is one of claim, heartbeat, complete: each more than a one-row UPDATE (bench/lib/queue-report.ts).",
      "",
    ].join("\n"),
  );
  for (const [index, row] of rows.entries()) {
    console.log(line(row));
    if (index === 0) console.log(line(widths.map((width) => "-".repeat(width)).concat("----")));
  }
  printDiagnosis(t, run.diagnosis);
}

function printDiagnosis(t: Throughput, { farm, million }: Diagnosis): void {
  const cpu = (window: Window, perOperation: number, side: "serverCpuSeconds" | "clientCpuSeconds") =>
    ((window[side] / (window.operations * perOperation)) * 1000).toFixed(3);
  const each = (times: StatementTime[]) =>
    times.map(({ statement, planMs, execMs }) => `    ${statement.padEnd(24)} ${planMs.toFixed(3)} + ${execMs.toFixed(3)} ms`);
  const server = (times: StatementTime[], names: string[]) =>
    times.filter(({ statement }) => names.includes(statement)).reduce((sum, time) => sum + time.planMs + time.execMs, 0);
  const cycle = server(farm, ["claim", "heartbeat", "complete", "complete's render check"]);
  const update = server(farm, ["PK UPDATE"]);
  console.log(
    [
      "",
      "CPU per operation in the timed rounds (/proc), ms: a queue operation (a third of a cycle) | a PK UPDATE in plain pg | through Sequelize",
      ...(["serverCpuSeconds", "clientCpuSeconds"] as const).map(
        (side) =>
          `  ${side === "serverCpuSeconds" ? "Postgres    " : "this process"}  ${cpu(t.cycles, OPERATIONS_PER_CYCLE, side)} | ` +
          `${cpu(t.rawUpdates, 1, side)} | ${cpu(t.sequelizeUpdates, 1, side)}`,
      ),
      "",
      "Server time per call, planning + execution (pg_stat_statements; short runs after a restart that loads it):",
      "  the farm, 200 agents:",
      ...each(farm),
      `    a cycle: ${cycle.toFixed(2)} ms, ${(cycle / OPERATIONS_PER_CYCLE / update).toFixed(0)}× a PK UPDATE's per queue operation`,
      "  a million tasks, one claim at a time:",
      ...each(million),
    ].join("\n"),
  );
}
