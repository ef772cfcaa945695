import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import type { Sequelize } from "sequelize";
import { claimTask } from "../db/sql/queue";
import { PGBENCH_SCRIPT, SimulatedAgents, createBenchRows, rawUpdate, sequelizeUpdate } from "./lib/queue-agents";
import { addEconomy, seedFarm, workerIds, type Farm } from "./lib/queue-data";
import { latencies, runWindow, type Window } from "./lib/queue-load";
import { BenchPostgres, hasPgbench, openPool, pgbench } from "./lib/queue-postgres";
import { report, type Diagnosis, type Latency, type Throughput } from "./lib/queue-report";
import { STATEMENT_STATS_SETTINGS, resetStatementStats, statementTimes } from "./lib/queue-statements";
import { runBench } from "./lib/run";
import { ROOT } from "./lib/server-process";

// `npm run bench:claim`: the queue's statements (db/sql/queue.ts) on a fresh embedded
// Postgres, against the cheapest write Postgres does. What is compared is told in
// bench/lib/queue-report.ts, above the table it prints.
//
// 1. Throughput: 200 simulated agents (async loops, one worker each) over one Sequelize
//    pool doing claim → heartbeat → complete as fast as they can, on a farm of 20 users
//    × 10 workers with ~190 000 queued tasks; then at the same concurrency on the same
//    pool size a single-row primary-key UPDATE through plain `pg`, through Sequelize, and
//    in pgbench. The measurements alternate in rounds, so the machine's other load falls
//    on each alike.
// 2. Claim latency with 1 000 000 tasks and 10 000 workers in the tables, one claim at a
//    time and from a few claimers at once.
// 3. Where the server's time goes (pg_stat_statements, after a restart that loads it):
//    short runs of their own, so the figures of 1 and 2 come from a server without it.

const { values: flags } = parseArgs({
  options: {
    pool: { type: "string", default: "20" },
    agents: { type: "string", default: "200" },
    seconds: { type: "string", default: "20" },
    rounds: { type: "string", default: "4" },
    warmup: { type: "string", default: "2" },
    claims: { type: "string", default: "2000" },
    claimers: { type: "string", default: "4" },
    economy: { type: "string", default: "both" },
  },
});
const POOL = Number(flags.pool);
const AGENTS = Number(flags.agents);
const ROUNDS = Number(flags.rounds);
const WARMUP = Number(flags.warmup);
const CLAIMS = Number(flags.claims);
const CLAIMERS = Number(flags.claimers);
/** off: every worker takes its owner's renders only (the farm before issue 11); on: the economy (addEconomy); both: off, then on. */
const ECONOMY = flags.economy;
if (!["off", "on", "both"].includes(ECONOMY!)) throw new Error("--economy is off, on or both");
let economy = false;
const farmName = () => (economy ? "claim_farm_economy" : "claim_farm");
const bigName = () => (economy ? "claim_big_economy" : "claim_big");
const ROUND_SECONDS = Number(flags.seconds) / ROUNDS;
if (![POOL, AGENTS, ROUNDS, ROUND_SECONDS, CLAIMS, CLAIMERS].every((n) => n > 0) || !(WARMUP >= 0) || AGENTS % 20 !== 0) {
  throw new Error(
    "usage: npm run bench:claim -- [--pool 20] [--agents 200 (a multiple of 20)] [--seconds 20] [--rounds 4] " +
      "[--warmup 2] [--claims 2000] [--claimers 4]",
  );
}

const FARM: Farm = { users: 20, workersPerUser: AGENTS / 20, rendersPerUser: 5, tasksPerRender: 3000, failureEvery: 300, results: true };
const MILLION: Farm = { users: 200, workersPerUser: 50, rendersPerUser: 10, tasksPerRender: 500, failureEvery: 25, results: false };

async function throughput(server: BenchPostgres, runDir: string): Promise<Throughput> {
  const { sequelize, url } = await server.create(farmName(), POOL);
  console.error(`Seeding the farm: ${FARM.users} users × ${FARM.workersPerUser} workers, ${FARM.rendersPerUser} renders each…`);
  const farm = await seedFarm(sequelize, FARM);
  if (economy) await addEconomy(sequelize);
  await createBenchRows(sequelize);
  const script = path.join(runDir, "update.sql");
  await fs.writeFile(script, PGBENCH_SCRIPT);
  const withPgbench = await hasPgbench();
  if (!withPgbench) console.error("pgbench is not installed (Debian: apt-get install postgresql-client): its row is left out.");

  const agents = new SimulatedAgents(sequelize, await workerIds(sequelize));
  const rawPool = new pg.Pool({ connectionString: url, max: POOL });
  const sum = { cycles: empty(), rawUpdates: empty(), sequelizeUpdates: empty(), pgbenchTps: 0 };
  try {
    await Promise.all([openPool(sequelize, POOL), Promise.all(Array.from({ length: POOL }, () => rawPool.query("SELECT 1")))]);
    const window = { loops: AGENTS, warmupSeconds: WARMUP, seconds: ROUND_SECONDS, serverCpu: () => server.cpuSeconds() };
    for (let round = 1; round <= ROUNDS; round += 1) {
      console.error(`Round ${round}/${ROUNDS}: UPDATE in plain pg, agents, UPDATE through Sequelize${withPgbench ? ", pgbench" : ""}…`);
      add(sum.rawUpdates, await runWindow({ ...window, operation: rawUpdate(rawPool) }));
      add(sum.cycles, await runWindow({ ...window, operation: agents.cycle, countStatements: true }));
      add(sum.sequelizeUpdates, await runWindow({ ...window, operation: sequelizeUpdate(sequelize) }));
      if (withPgbench) {
        const tps = await pgbench({ url, script, clients: POOL, threads: 1, seconds: Math.max(1, Math.round(ROUND_SECONDS)) });
        sum.pgbenchTps += tps / ROUNDS;
      }
    }
  } finally {
    await rawPool.end();
    await sequelize.close();
  }
  return { ...sum, pgbenchTps: withPgbench ? sum.pgbenchTps : null, farm };
}

const empty = (): Window => ({ operations: 0, statements: 0, seconds: 0, serverCpuSeconds: 0, clientCpuSeconds: 0 });
function add(sum: Window, window: Window): void {
  for (const key of Object.keys(sum) as (keyof Window)[]) sum[key] += window[key];
}

/** Claims by random workers: each claim's milliseconds, and how many found a task. */
function randomClaims(sequelize: Sequelize, ids: readonly number[]) {
  let found = 0;
  const claim = async () => {
    if (await claimTask(sequelize, { workerId: ids[Math.floor(Math.random() * ids.length)] })) found += 1;
  };
  return async (count: number, concurrency: number) => {
    const before = found;
    const times = await latencies(count, concurrency, claim);
    return { times, found: found - before };
  };
}

async function claimLatency(server: BenchPostgres): Promise<Latency> {
  const { sequelize } = await server.create(bigName(), CLAIMERS);
  console.error(`Seeding a million tasks: ${MILLION.users} users × ${MILLION.workersPerUser} workers, ${MILLION.rendersPerUser} renders of ${MILLION.tasksPerRender} tasks each…`);
  const tables = await seedFarm(sequelize, MILLION);
  if (economy) await addEconomy(sequelize);
  try {
    const claims = randomClaims(sequelize, await workerIds(sequelize));
    await openPool(sequelize, CLAIMERS);
    await claims(50, 1); // the caches and the catalogue, as on a server that has run a while
    console.error(`Timing ${CLAIMS} claims one at a time, then ${CLAIMS} from ${CLAIMERS} claimers at once…`);
    const single = await claims(CLAIMS, 1);
    const concurrent = await claims(CLAIMS, CLAIMERS);
    return { single: single.times, concurrent: concurrent.times, found: single.found + concurrent.found, tables };
  } finally {
    await sequelize.close();
  }
}

async function diagnose(server: BenchPostgres): Promise<Diagnosis> {
  console.error("Restarting Postgres with pg_stat_statements for the statement times…");
  await server.restart(STATEMENT_STATS_SETTINGS);
  const farm = server.open(farmName(), POOL);
  const big = server.open(bigName(), CLAIMERS);
  const rawPool = new pg.Pool({ connectionString: farm.url, max: POOL });
  try {
    await Promise.all([resetStatementStats(farm.sequelize), resetStatementStats(big.sequelize)]);
    const agents = new SimulatedAgents(farm.sequelize, await workerIds(farm.sequelize));
    const window = { loops: AGENTS, warmupSeconds: 1, seconds: 3 };
    await runWindow({ ...window, operation: agents.cycle });
    await runWindow({ ...window, operation: rawUpdate(rawPool) });
    await randomClaims(big.sequelize, await workerIds(big.sequelize))(500, 1);
    return { farm: await statementTimes(farm.sequelize), million: await statementTimes(big.sequelize) };
  } finally {
    await rawPool.end();
  }
}

/** Before (own renders only) and after (the economy), the figures the goals are about. */
function sideBySide(before: { t: Throughput; l: Latency }, after: { t: Throughput; l: Latency }): void {
  const ratio = (t: Throughput) => {
    const rate = (w: { operations: number; seconds: number }) => w.operations / w.seconds;
    return `${((rate(t.cycles) * 3 * 100) / rate(t.rawUpdates)).toFixed(0)} %`;
  };
  const p95 = (times: number[]) => `${[...times].sort((a, b) => a - b)[Math.floor(times.length * 0.95)]?.toFixed(2)} ms`;
  console.log("\n== Before and after issue 11, side by side ==");
  console.log(["", "before (own renders only)", "after (economy)", "goal"].join(" | "));
  console.log(["queue operations ÷ PK UPDATEs", ratio(before.t), ratio(after.t), "≥ 50 %"].join(" | "));
  console.log(["claim p95, one at a time", p95(before.l.single), p95(after.l.single), "≤ 20 ms"].join(" | "));
  console.log([`claim p95, ${CLAIMERS} at once`, p95(before.l.concurrent), p95(after.l.concurrent), "≤ 20 ms"].join(" | "));
}

const loadAverage = () =>
  os
    .loadavg()
    .map((value) => value.toFixed(1))
    .join(" ");

let server: BenchPostgres | undefined;
runBench({
  name: "claim",
  stops: "Postgres",
  run: async (runDir) => {
    console.error(`Starting an embedded PostgreSQL in ${path.relative(ROOT, runDir)}…`);
    const loadBefore = loadAverage();
    const started = Date.now();
    server = await BenchPostgres.start(path.join(runDir, "data"));
    const modes = ECONOMY === "both" ? [false, true] : [ECONOMY === "on"];
    const runs: { economy: boolean; t: Throughput; l: Latency }[] = [];
    for (const mode of modes) {
      economy = mode;
      console.error(economy ? "With the economy (issue 11): prices, consent, escrow…" : "Own renders only (the farm before issue 11)…");
      runs.push({ economy, t: await throughput(server, runDir), l: await claimLatency(server) });
    }
    const loadAfter = loadAverage();
    const d = await diagnose(server);
    for (const run of runs) {
      console.log(run.economy ? "\n== With the economy (issue 11) ==" : "\n== Own renders only (before issue 11) ==");
      report({
        postgres: `PostgreSQL ${server.version} (embedded, fresh, max_connections ${server.maxConnections})`,
        machine: `${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), load average ${loadBefore} before, ${loadAfter} after`,
        settings: { pool: POOL, agents: AGENTS, rounds: ROUNDS, roundSeconds: ROUND_SECONDS, warmup: WARMUP, claims: CLAIMS, claimers: CLAIMERS },
        runSeconds: (Date.now() - started) / 1000,
        throughput: run.t,
        latency: run.l,
        diagnosis: d,
      });
    }
    if (runs.length === 2) sideBySide(runs[0], runs[1]);
  },
  stop: async () => {
    await server?.stop();
  },
});
