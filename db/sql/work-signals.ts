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

/** NOTIFY channel of tasks put in the queue; the payload is `{"userId":…}`, the owner of the work. */
export const WORK_QUEUED_CHANNEL = "cactus_work_queued";

/**
 * Wraps a statement that queues tasks (`… RETURNING t.id, t.render_id, t.archive_id` over
 * `tasks t`) so that it also tells waiting claims, once per owner (Postgres folds equal
 * payloads of one transaction into one). Its rows are the tasks' ids and renders.
 */
export function tellingWaitingClaims(queueing: string): string {
  return /* sql */ `
WITH queued AS (${queueing})
SELECT queued.id, queued.render_id,
       pg_notify('${WORK_QUEUED_CHANNEL}', json_build_object('userId', coalesce(r.created_by, a.uploaded_by))::text)
  FROM queued
  LEFT JOIN renders r ON r.id = queued.render_id
  LEFT JOIN archives a ON a.id = queued.archive_id`;
}
