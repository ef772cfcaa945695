import { schedule } from "node-cron";

export interface CronJob {
  /** Stops the schedule and waits for a run in progress, so what it uses can close after. */
  stop(): Promise<void>;
}

/**
 * Runs `run` on the node-cron `expression`, never two at once. `run` reports its own
 * errors: a job of the server must not end it.
 */
export function startCronJob(
  name: string,
  expression: string,
  run: () => Promise<void>,
  { suppressMissedWarning = false }: { suppressMissedWarning?: boolean } = {},
): CronJob {
  let pass: Promise<void> = Promise.resolve();
  const task = schedule(
    expression,
    () => {
      pass = run();
      return pass;
    },
    { name, noOverlap: true, suppressMissedWarning },
  );
  return {
    async stop() {
      await task.destroy();
      await pass;
    },
  };
}
