import { isConfigError, loadConfig } from "../app/lib/env.server";
import { startServer, type CactusServer } from "./app";

// The server's entry: the one place that exits the process.
async function main(): Promise<void> {
  let server: CactusServer | undefined;
  let stopping = false;
  const close = (running: CactusServer) =>
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  // Hooked before the boot: a signal then, or just after "serving", must still stop the
  // embedded Postgres, which would otherwise outlive us and hold the data dir.
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    if (!server) {
      console.log(`${signal}: stopping once started.`);
      return;
    }
    console.log(`${signal}: finishing running requests, then stopping.`);
    void close(server);
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  try {
    server = await startServer(loadConfig());
  } catch (error) {
    console.error(isConfigError(error) ? error.message : error);
    process.exit(1);
  }
  console.log(`Cactus is serving on ${server.url}`);
  if (stopping) void close(server);
}

void main();
