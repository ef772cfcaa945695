import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { Sequelize } from "sequelize";
import { migrate } from "../../db/migrate";
import { countUsers, createUser, UsernameTakenError } from "../models/user.server";
import { createAdvisoryLocks, type AdvisoryLocks } from "./advisory-locks.server";
import { connectDatabase, openDatabase } from "./db.server";
import { databaseDown, setDatabaseWatch, watchDatabase, type DatabaseWatch } from "./db-watch.server";
import { listenToDatabase, type DatabaseEvents } from "./db-events.server";
import { startPushSender, type PushSender } from "./push/sender.server";
import { loadVapidKeys } from "./push/vapid.server";
import { startEmbeddedPostgres, type RunningPostgres } from "./embedded-postgres.server";
import { warnOfMissingBlobs } from "./blob-check.server";
import { startBlobSweep } from "./blob-sweep.server";
import type { CronJob } from "./cron.server";
import { startLeaseReaper } from "./reaper.server";
import type { CactusConfig } from "./env.server";
import { hashSecret, newSecret } from "./secrets.server";
import { configureRuntime, type ServerHooks } from "./runtime.server";
import { settingOrCreate, writeSetting } from "./settings.server";
import { closeEventStreams } from "./sse.server";
import { checkBucket, createS3Storage, s3Client } from "./s3-storage.server";
import { createFileStorage, type BlobStorage } from "./storage.server";
import { startWorkSignals, type WorkSignals } from "./work-signals.server";

export interface RunningCactus {
  sequelize: Sequelize;
  /** Printed once when no user exists and no admin was configured. */
  setupCode?: string;
  /** Sends web pushes off the request path; runNow() for a pass at once. */
  push: PushSender;
  /**
   * Ends the open event streams (SSE) and answers the claims held open (204), which would
   * otherwise keep the HTTP server from closing.
   */
  closeStreams(): void;
  /** Whether the database is known not to answer right now (requests then get a 503 at once). */
  databaseDown(): boolean;
  stop(): Promise<void>;
}

type Log = (message: string) => void;

/** Connects (or starts) Postgres, migrates, and readies what the routes need. */
export async function startCactus(config: CactusConfig, log: Log = console.log, hooks: ServerHooks = {}): Promise<RunningCactus> {
  await fs.mkdir(config.dataDir, { recursive: true });
  let embedded: RunningPostgres | undefined;
  let databaseUrl = config.DATABASE_URL;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres(config.dataDir);
    databaseUrl = embedded.url;
    log(`Embedded PostgreSQL running with its data in ${path.join(config.dataDir, "pg")}`);
  }
  const sequelize = connectDatabase(databaseUrl, {
    statementMs: config.CACTUS_DB_STATEMENT_TIMEOUT_MS,
    connectMs: config.CACTUS_DB_CONNECT_TIMEOUT_MS,
  });
  const locks = createAdvisoryLocks(databaseUrl, log);
  let storage: OpenedStorage | undefined;
  let reaper: CronJob | undefined;
  let sweep: CronJob | undefined;
  let watch: DatabaseWatch | undefined;
  let events: DatabaseEvents | undefined;
  let push: PushSender | undefined;
  let workSignals: WorkSignals | undefined;
  const stop = async () => {
    await workSignals?.close();
    await push?.stop();
    await events?.close();
    await reaper?.stop();
    await sweep?.stop();
    await watch?.stop();
    setDatabaseWatch(undefined);
    storage?.close();
    await locks.close();
    await sequelize.close();
    await embedded?.stop();
  };
  try {
    // Without the request timeouts: a migration may rightly run for minutes.
    const migrator = openDatabase(databaseUrl);
    const applied = await migrate(migrator).finally(() => migrator.close());
    if (applied.length > 0) log(`Applied migrations: ${applied.join(", ")}`);
    watch = watchDatabase(databaseUrl, { log });
    setDatabaseWatch(watch);
    const sessionSecret =
      config.CACTUS_SESSION_SECRET ?? (await settingOrCreate("session_secret", () => randomBytes(32).toString("hex")));
    storage = await openStorage(config, locks, log);
    await warnOfMissingBlobs(storage.blobs, config, log);
    events = listenToDatabase(databaseUrl, log);
    workSignals = startWorkSignals(events);
    const vapid = await loadVapidKeys(config.CACTUS_PUBLIC_URL);
    configureRuntime({ config, sessionSecret, storage: storage.blobs, hooks, events, vapidPublicKey: vapid.publicKey, workSignals });
    const setupCode = await ensureFirstAdmin(config, log);
    reaper = startLeaseReaper(sequelize, locks, log, config.CACTUS_REAPER_SECONDS);
    sweep = startBlobSweep(sequelize, storage.blobs, locks, log);
    push = startPushSender(sequelize, events, vapid, log);
    const closeStreams = () => {
      closeEventStreams();
      void workSignals?.close();
    };
    return { sequelize, setupCode, push, closeStreams, databaseDown, stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

interface OpenedStorage {
  blobs: BlobStorage;
  close(): void;
}

/** The data dir's blobs/, or the S3 bucket once it answers (decision 020). */
async function openStorage(config: CactusConfig, locks: AdvisoryLocks, log: Log): Promise<OpenedStorage> {
  if (!config.s3) return { blobs: createFileStorage(path.join(config.dataDir, "blobs")), close: () => undefined };
  const client = await s3Client(config.s3);
  try {
    await checkBucket(client, config.s3);
  } catch (error) {
    client.destroy();
    throw error;
  }
  const { bucket, prefix, endpoint } = config.s3;
  log(`Blobs are kept in the S3 bucket ${bucket}${prefix ? ` under ${prefix}` : ""}${endpoint ? ` at ${endpoint}` : ""}.`);
  const blobs = createS3Storage({
    client,
    bucket: config.s3.bucket,
    prefix: config.s3.prefix,
    // Uploads arrive here before they go to the bucket: this replica's own disk.
    temporaryDir: path.join(config.dataDir, "uploads"),
    locks,
  });
  return { blobs, close: () => client.destroy() };
}

async function ensureFirstAdmin(config: CactusConfig, log: Log): Promise<string | undefined> {
  if ((await countUsers()) > 0) return undefined;
  if (config.CACTUS_ADMIN_USER && config.CACTUS_ADMIN_PASSWORD) {
    try {
      await createUser({ username: config.CACTUS_ADMIN_USER, password: config.CACTUS_ADMIN_PASSWORD, role: "admin" });
      log(`Created the admin user "${config.CACTUS_ADMIN_USER}".`);
    } catch (error) {
      // Replicas started together: another one created it first.
      if (!(error instanceof UsernameTakenError)) throw error;
    }
    return undefined;
  }
  // A fresh code each start until the admin exists; only its hash is stored.
  const setupCode = newSecret("ccs");
  await writeSetting("setup_code_hash", hashSecret(setupCode));
  log(`No users yet. Create the admin at /setup with this one-time code:\n\n    ${setupCode}\n`);
  return setupCode;
}
