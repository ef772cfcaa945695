import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { QueryTypes, Sequelize } from "sequelize";
import { startEmbeddedPostgres, type RunningPostgres } from "../../app/lib/embedded-postgres.server";
import { migrate } from "../../db/migrate";

// The Postgres side of `npm run bench:claim`: a fresh embedded server, migrated databases
// on it, the pools the queue statements run through, and pgbench against the same server.

// As app/lib/db.server.ts: ids are bigint columns, read as numbers.
pg.defaults.parseInt8 = true;

/**
 * The embedded server of one bench run, in `dataDir`. Pools come from `open`; `stop`
 * closes them all and stops the server; so does `restart`, which starts the server
 * again on the same data (on a new port: pools opened before it are gone).
 */
export class BenchPostgres {
  version = "";
  maxConnections = 0;
  private pools: Sequelize[] = [];
  private adminPool: Sequelize | undefined;

  private constructor(
    private readonly dataDir: string,
    private server: RunningPostgres,
  ) {}

  static async start(dataDir: string): Promise<BenchPostgres> {
    const bench = new BenchPostgres(dataDir, await startEmbeddedPostgres(dataDir, "postgres"));
    try {
      const [settings] = await rows<{ version: string; max_connections: number }>(
        bench.admin(),
        "SELECT current_setting('server_version') AS version, current_setting('max_connections')::int AS max_connections",
      );
      bench.version = settings.version;
      bench.maxConnections = settings.max_connections;
      return bench;
    } catch (error) {
      await bench.stop();
      throw error;
    }
  }

  /** A Sequelize pool of `poolSize` on database `name`, closed by stop() or restart(). */
  open(name: string, poolSize: number): { sequelize: Sequelize; url: string } {
    const url = this.server.urlFor(name);
    const sequelize = connect(url, poolSize);
    this.pools.push(sequelize);
    return { sequelize, url };
  }

  /** A new database, migrated as the server migrates its own. */
  async create(name: string, poolSize: number): Promise<{ sequelize: Sequelize; url: string }> {
    await this.admin().query(`CREATE DATABASE ${name}`);
    const database = this.open(name, poolSize);
    await migrate(database.sequelize);
    return database;
  }

  /** Sets `settings` (ALTER SYSTEM) and restarts the server, e.g. for shared_preload_libraries. */
  async restart(settings: Record<string, string>): Promise<void> {
    const admin = this.admin();
    for (const [name, value] of Object.entries(settings)) {
      await admin.query(`ALTER SYSTEM SET ${name} = ${pg.escapeLiteral(value)}`);
    }
    await this.stop();
    this.server = await startEmbeddedPostgres(this.dataDir, "postgres");
  }

  /**
   * CPU seconds the server has used so far: the postmaster, its children running now
   * (backends, autovacuum, WAL writer…) and, through the postmaster's count of the
   * children it reaped, those that have exited.
   */
  async cpuSeconds(): Promise<number> {
    // initialise() puts the cluster in <dataDir>/pg (app/lib/embedded-postgres.server.ts).
    const postmaster = Number((await fs.readFile(path.join(this.dataDir, "pg", "postmaster.pid"), "utf8")).split("\n")[0]);
    const pids = (await fs.readdir("/proc")).filter((name) => /^\d+$/.test(name)).map(Number);
    const stats = await Promise.all(pids.map((pid) => procStat(pid)));
    let ticks = 0;
    for (const [index, stat] of stats.entries()) {
      if (!stat) continue;
      if (pids[index] === postmaster) ticks += stat.utime + stat.stime + stat.cutime + stat.cstime;
      else if (stat.ppid === postmaster) ticks += stat.utime + stat.stime;
    }
    return ticks / 100; // USER_HZ, as in bench/lib/proc.ts
  }

  /** One connection to the `postgres` database, for settings and CREATE DATABASE. */
  private admin(): Sequelize {
    this.adminPool ??= this.open("postgres", 1).sequelize;
    return this.adminPool;
  }

  async stop(): Promise<void> {
    this.adminPool = undefined;
    const pools = this.pools.splice(0);
    await Promise.allSettled(pools.map((pool) => pool.close()));
    await this.server.stop();
  }
}

/** The fields of /proc/<pid>/stat we need, in clock ticks; undefined when the process is gone. */
async function procStat(pid: number) {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, "utf8");
    // After the command name (in parentheses, may hold spaces): state, ppid, … (proc(5)).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
    return { ppid: fields[1], utime: fields[11], stime: fields[12], cutime: fields[13], cstime: fields[14] };
  } catch {
    return undefined;
  }
}

/** The server's pool options (app/lib/db.server.ts) but the bench's size, kept open. */
export function connect(url: string, poolSize: number): Sequelize {
  return new Sequelize(url, {
    dialect: "postgres",
    dialectModule: pg,
    logging: false,
    pool: { max: poolSize, min: 0, idle: 60_000 },
  });
}

export function rows<T extends object>(sequelize: Sequelize, sql: string, bind: object = {}): Promise<T[]> {
  return sequelize.query<T>(sql, { type: QueryTypes.SELECT, bind: bind as Record<string, unknown> });
}

/** Every open pool connection made now, so no timed window pays for a connection. */
export async function openPool(sequelize: Sequelize, size: number): Promise<void> {
  await Promise.all(Array.from({ length: size }, () => rows(sequelize, "SELECT pg_sleep(0.05)")));
}

/**
 * pgbench's transactions per second (its `tps =` line) for `script` with `clients`
 * connections for `seconds`, in the extended protocol: parse, bind, execute, as
 * node-postgres sends a query with parameters.
 */
export async function pgbench(options: {
  url: string;
  script: string;
  clients: number;
  threads: number;
  seconds: number;
}): Promise<number> {
  const url = new URL(options.url);
  const args = [
    "--no-vacuum",
    "--protocol=extended",
    `--client=${options.clients}`,
    `--jobs=${options.threads}`,
    `--time=${options.seconds}`,
    `--file=${options.script}`,
    `--host=${url.hostname}`,
    `--port=${url.port}`,
    `--username=${decodeURIComponent(url.username)}`,
    url.pathname.slice(1),
  ];
  const env = { ...process.env, PGPASSWORD: decodeURIComponent(url.password) };
  const child = spawn("pgbench", args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", resolve);
  });
  const tps = /^tps = ([\d.]+)/m.exec(output);
  if (code !== 0 || !tps) throw new Error(`pgbench ${args.join(" ")} exited ${code}:\n${output}`);
  return Number(tps[1]);
}

/** Whether pgbench is on the PATH (Debian: postgresql-client). */
export async function hasPgbench(): Promise<boolean> {
  const child = spawn("pgbench", ["--version"], { stdio: "ignore" });
  return new Promise((resolve) => {
    child.on("error", () => resolve(false));
    child.on("exit", (code) => resolve(code === 0));
  });
}
