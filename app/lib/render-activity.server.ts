import { QueryTypes } from "sequelize";
import { noteWorkerFailing } from "../../db/sql/worker-events";
import { WORKER_FAILURES_IN_A_ROW } from "../../domain/notifications";
import { db } from "./db.server";
import { RENDER_ACTIVITY_CHANNEL } from "./db-events.server";

// "Something of these renders moved": a task handed out, a frame accepted, a task done,
// failed, given back or reaped; or an owner's workers changed (what `waiting` says).
// The queue's statements stay as they are (bench:claim measures them): the model code
// calls these after them, and this replica sends what gathered as one NOTIFY at most
// every FLUSH_MS, whatever the number of agents. The live pages of every replica hear it
// (app/lib/db-events.server.ts) and load only what changed.

export interface RenderActivity {
  renders: number[];
  /** Owners whose renders may all show something new (their workers changed). */
  users: number[];
}

const FLUSH_MS = 150;

const renders = new Set<number>();
const users = new Set<number>();
let timer: NodeJS.Timeout | undefined;

export function noteRenderActivity(renderId: number | null | undefined): void {
  if (renderId === null || renderId === undefined) return;
  renders.add(renderId);
  schedule();
}

export function noteOwnerActivity(userId: number): void {
  users.add(userId);
  schedule();
}

function schedule() {
  timer ??= setTimeout(flush, FLUSH_MS);
}

function flush() {
  timer = undefined;
  const activity: RenderActivity = { renders: [...renders], users: [...users] };
  renders.clear();
  users.clear();
  // NOTIFY payloads stop at 8000 bytes: a huge batch goes as several.
  const batches: RenderActivity[] = [];
  for (let index = 0; index < Math.max(activity.renders.length, activity.users.length); index += 500) {
    batches.push({ renders: activity.renders.slice(index, index + 500), users: activity.users.slice(index, index + 500) });
  }
  for (const batch of batches) {
    db()
      .query(`SELECT pg_notify('${RENDER_ACTIVITY_CHANNEL}', $payload)`, {
        bind: { payload: JSON.stringify(batch) },
        type: QueryTypes.SELECT,
      })
      // A live page misses this change (it catches up on the next one); the work is done.
      .catch((error: unknown) => console.error(`Could not signal render activity: ${String(error)}`));
  }
}

/**
 * After a worker's failure: a worker event when it keeps failing (a push to its owner).
 * Off the request's path: its answer never waits for this nor fails with it.
 */
export function noteWorkerFailure(workerId: number): void {
  void noteWorkerFailing(db(), workerId, WORKER_FAILURES_IN_A_ROW).catch((error: unknown) =>
    console.error(`Could not check whether worker ${workerId} keeps failing: ${String(error)}`),
  );
}

export function isRenderActivity(payload: unknown): payload is RenderActivity {
  const value = payload as RenderActivity | null;
  return Array.isArray(value?.renders) && Array.isArray(value?.users);
}
