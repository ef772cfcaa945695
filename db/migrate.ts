import type { Sequelize } from "sequelize";
import { migration as initial } from "./migrations/0001-initial";
import { migration as renderPipeline } from "./migrations/0002-render-pipeline";
import { migration as queueHotPath } from "./migrations/0003-queue-hot-path";
import { migration as resultImageBytes } from "./migrations/0004-result-image-bytes";
import { migration as taskChecks } from "./migrations/0005-task-checks";
import { migration as resultBlobKeys } from "./migrations/0006-result-blob-keys";
import { migration as renderEvents } from "./migrations/0007-render-events";
import { migration as workUnits } from "./migrations/0008-work-units";
import { migration as renderOptions } from "./migrations/0010-render-options";
import { migration as sessions } from "./migrations/0012-sessions";
import { migration as push } from "./migrations/0015-push";
import { migration as credits } from "./migrations/0017-credits";
import { migration as consent } from "./migrations/0018-consent";
import { migration as workerPaused } from "./migrations/0020-worker-paused";

export interface Migration {
  /** `NNNN-name`, the order they run in; a landed migration is never edited. */
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  initial,
  renderPipeline,
  queueHotPath,
  resultImageBytes,
  taskChecks,
  resultBlobKeys,
  renderEvents,
  workUnits,
  renderOptions,
  sessions,
  push,
  credits,
  consent,
  workerPaused,
];

// Any fixed number: replicas starting at once take turns, so each migration runs once.
const MIGRATION_LOCK_ID = 4_242_001;

/**
 * Applies the migrations not yet applied, each in its own transaction, and returns
 * their names. Each transaction first takes an advisory lock and re-reads what is
 * applied, so replicas starting at once never run a migration twice.
 */
export async function migrate(sequelize: Sequelize): Promise<string[]> {
  await sequelize.query(`
    CREATE TABLE IF NOT EXISTS cactus_migrations (
      name text PRIMARY KEY,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
  const newlyApplied: string[] = [];
  for (const migration of migrations) {
    const ran = await sequelize.transaction(async (transaction) => {
      await sequelize.query("SELECT pg_advisory_xact_lock(:id)", {
        replacements: { id: MIGRATION_LOCK_ID },
        transaction,
      });
      const [rows] = await sequelize.query("SELECT 1 FROM cactus_migrations WHERE name = :name", {
        replacements: { name: migration.name },
        transaction,
      });
      if (rows.length > 0) return false;
      await sequelize.query(migration.sql, { transaction });
      await sequelize.query("INSERT INTO cactus_migrations (name) VALUES (:name)", {
        replacements: { name: migration.name },
        transaction,
      });
      return true;
    });
    if (ran) newlyApplied.push(migration.name);
  }
  return newlyApplied;
}
