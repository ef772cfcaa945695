import type { Sequelize, Transaction } from "sequelize";
import { RENDER_EVENTS_CHANNEL } from "./render-status";

// How a held claim hears that work it may take appeared (docs/design.md §5, decision 026).
// An idle agent's claim waits on the server until then; every replica listens to these
// channels on a connection of its own, so a task queued through one replica wakes the
// claims held by any other.
//
// Two signals mean "work appeared":
// - a render became runnable (requested, confirmed, resumed): its render_events row's
//   NOTIFY (render-status.ts), which names the render's owner and its new status;
// - a task went into the queue without a render event: an archive's inspect task, and
//   every requeue (released, reaped, failed on another worker, its worker disabled).
//   Those statements send WORK_QUEUED_CHANNEL themselves.
// The hot statements (claim, heartbeat, complete) queue nothing and send nothing: no
// trigger on tasks, whose every UPDATE would pay for it (bench:claim).

export { RENDER_EVENTS_CHANNEL };

/**
 * NOTIFY channel of tasks put in the queue; the payload is `{"userId":…}`, the owner of
 * the work, with `"anyone": true` when other people's workers may take it too (a render
 * confirmed with an escrow asks them), or `{}` when anyone's claim may now find work
 * (an answer, a switch, a price: consent changed, no task moved).
 */
export const WORK_QUEUED_CHANNEL = "cactus_work_queued";

/** SQL: the payload that names render `r`'s (else archive `a`'s) owner, and anyone when `r` asks other people's workers. */
export const workPayload = (owner: string) => `(CASE WHEN r.frame_cost_milli IS NOT NULL
         THEN json_build_object('userId', ${owner}, 'anyone', true) ELSE json_build_object('userId', ${owner}) END)`;

/**
 * Wraps a statement that queues tasks (`… RETURNING t.id, t.render_id, t.archive_id` over
 * `tasks t`) so that it also tells waiting claims, once per owner (Postgres folds equal
 * payloads of one transaction into one). Its rows are the tasks' ids and renders.
 */
export function tellingWaitingClaims(queueing: string): string {
  return /* sql */ `
WITH queued AS (${queueing})
SELECT queued.id, queued.render_id,
       pg_notify('${WORK_QUEUED_CHANNEL}', ${workPayload("coalesce(r.created_by, a.uploaded_by)")}::text)
  FROM queued
  LEFT JOIN renders r ON r.id = queued.render_id
  LEFT JOIN archives a ON a.id = queued.archive_id`;
}

/**
 * Tells held claims that consent changed without a task moving — an answer to a request,
 * a standing rule, a switch, a price, an escrow topped up: `userId`'s workers (their
 * owner answered), or anyone's. In `transaction` when given: sent if it commits.
 */
export async function tellWaitingClaims(sequelize: Sequelize, { userId }: { userId?: number } = {}, transaction?: Transaction): Promise<void> {
  await sequelize.query(`SELECT pg_notify('${WORK_QUEUED_CHANNEL}', $payload)`, {
    bind: { payload: JSON.stringify(userId === undefined ? {} : { userId }) },
    transaction,
  });
}
