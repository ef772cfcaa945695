import fs from "node:fs/promises";
import path from "node:path";
import { ROOT } from "./server-process";

// How every `npm run bench:*` runs: in a directory of its own under bench/.tmp, and
// cleaned up once, whichever comes first — the end of the run, its failure, or Ctrl-C
// (SIGINT or SIGTERM: exit 130). What the run started is stopped, then its directory
// removed, so no server, agent or data outlives the bench.

export function runBench(bench: {
  /** The run's directory is bench/.tmp/<name>-<pid>-<time>. */
  name: string;
  /** What Ctrl-C stops, in the message it prints: "the agents and the server". */
  stops: string;
  run: (runDir: string) => Promise<void>;
  /** Stops what the run has started so far (perhaps nothing yet). */
  stop: () => Promise<void>;
}): void {
  let interrupted = false;
  const main = async () => {
    const runDir = path.join(ROOT, "bench/.tmp", `${bench.name}-${process.pid}-${Date.now()}`);
    await fs.mkdir(runDir, { recursive: true });
    let cleaning: Promise<void> | undefined;
    const cleanUp = () =>
      (cleaning ??= (async () => {
        // Logged, not thrown, so the run's own error is still the one shown; the exit code says it.
        await bench.stop().catch((error: unknown) => {
          console.error(`Could not stop ${bench.stops}: ${String(error)}`);
          process.exitCode = 1;
        });
        await fs.rm(runDir, { recursive: true, force: true });
      })());
    const interrupt = () => {
      interrupted = true;
      console.error(`Interrupted: stopping ${bench.stops}, removing the bench files…`);
      void cleanUp().finally(() => process.exit(130));
    };
    process.once("SIGINT", interrupt);
    process.once("SIGTERM", interrupt);
    try {
      await bench.run(runDir);
    } finally {
      await cleanUp();
    }
  };
  main().catch((error: unknown) => {
    // After Ctrl-C the run fails as what it started goes; the interrupt handler ends the process.
    if (interrupted) return;
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
