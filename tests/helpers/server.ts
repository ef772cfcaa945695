import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../../app/lib/env.server";
import { startServer, type CactusServer, type ServerOptions } from "../../server/app";

export const ADMIN = { username: "admin", password: "correct horse battery staple" };

export interface TestServer extends CactusServer {
  dataDir: string;
  databaseUrl: string;
}

/** Where a server keeps its state, when a test starts it again on the same (a restart). */
export interface ServerPlace {
  databaseUrl: string;
  dataDir: string;
}

/**
 * The real server (the Remix build from `npm run build`) on its own database and data
 * dir, listening on a free loopback port, with the admin above. Given a `place` (and a
 * PORT in `env`), it starts on that database and data dir instead, and close() leaves
 * the data dir to the caller.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  place?: ServerPlace,
  options: ServerOptions = {},
): Promise<TestServer> {
  const dataDir = place?.dataDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), "cactus-test-data-")));
  // ./db needs the vitest runner: a script that gives its own place runs without it.
  const databaseUrl = place?.databaseUrl ?? (await (await import("./db")).createTestDatabase());
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
  const server = await startServer(config, process.env.CACTUS_TEST_SERVER_LOG ? console.log : () => undefined, options);
  return {
    ...server,
    dataDir,
    databaseUrl,
    async close() {
      await server.close();
      if (!place) await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
