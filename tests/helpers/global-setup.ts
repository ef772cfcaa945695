import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { migrate } from "../../db/migrate";
import { connectDatabase } from "../../app/lib/db.server";
import { startEmbeddedPostgres } from "../../app/lib/embedded-postgres.server";
import { TEMPLATE_DATABASE } from "./template";

declare module "vitest" {
  export interface ProvidedContext {
    postgresAdminUrl: string;
  }
}

/**
 * One embedded PostgreSQL for the whole run, with a migrated template database; each
 * test file copies the template into a database of its own (tests/helpers/db.ts).
 */
export default async function setup(project: TestProject) {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-test-pg-"));
  const postgres = await startEmbeddedPostgres(dataDir, TEMPLATE_DATABASE);
  const sequelize = connectDatabase(postgres.url);
  await migrate(sequelize);
  await sequelize.close();
  project.provide("postgresAdminUrl", postgres.urlFor("postgres"));
  return async () => {
    await postgres.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  };
}
