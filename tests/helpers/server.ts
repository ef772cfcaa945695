import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../../app/lib/env.server";
import { startServer, type CactusServer } from "../../server/app";
import { createTestDatabase } from "./db";

export const ADMIN = { username: "admin", password: "correct horse battery staple" };

export interface TestServer extends CactusServer {
  dataDir: string;
  databaseUrl: string;
}

/**
 * The real server (the Remix build from `npm run build`) on its own database and data
 * dir, listening on a free loopback port, with the admin above.
 */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "cactus-test-data-"));
  const databaseUrl = await createTestDatabase();
  const config = loadConfig({
    NODE_ENV: "test",
    PORT: "0",
    HOST: "127.0.0.1",
    DATABASE_URL: databaseUrl,
    CACTUS_DATA_DIR: dataDir,
    CACTUS_ADMIN_USER: ADMIN.username,
    CACTUS_ADMIN_PASSWORD: ADMIN.password,
    ...env,
  });
  const server = await startServer(config, () => undefined);
  return {
    ...server,
    dataDir,
    databaseUrl,
    async close() {
      await server.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
