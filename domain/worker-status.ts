/** paused: its agent gave the machine back to its owner, who is using it (domain/politeness.ts). */
export const WORKER_STATUSES = ["idle", "rendering", "sleeping", "paused", "offline"] as const;
export type WorkerStatus = (typeof WORKER_STATUSES)[number];

/**
 * An agent says hello about once a minute even when it sleeps, and heartbeats while it
 * renders; silence for longer than this means the machine is off or cut off.
 */
export const OFFLINE_AFTER_MS = 2 * 60_000;

/**
 * The status a person sees. Derived at read time rather than stored: nobody is there
 * to write "offline" when a machine goes away, and a held lease says "rendering" better
 * than the last thing the agent reported.
 */
export function workerStatusNow(
  worker: { status: WorkerStatus; lastSeenAt: Date | null; holdsLease: boolean },
  now: Date = new Date(),
): WorkerStatus {
  if (!worker.lastSeenAt || now.getTime() - worker.lastSeenAt.getTime() > OFFLINE_AFTER_MS) return "offline";
  if (worker.holdsLease) return "rendering";
  // Seen recently, so not offline, whatever was stored before its hello.
  return worker.status === "offline" || worker.status === "rendering" ? "idle" : worker.status;
}
