import type { Sequelize } from "sequelize";
import { select } from "./common";

// What happened to workers that their owners may be told about (worker_events, decision
// 021). Each insert also NOTIFYs the push senders (cactus_worker_events).

const NOTIFY = `SELECT pg_notify('cactus_worker_events', json_build_object('workerId', worker_id, 'eventId', id)::text) FROM added`;

/**
 * Enabled workers whose agent has been silent longer than `offlineAfterMs` (and was heard
 * in the last day) went offline: one event per silence. Run by each replica's push sender
 * every sweep (app/lib/push/sender.server.ts); the NOT EXISTS keeps replicas from doubling it.
 */
export async function noteWorkersOffline(sequelize: Sequelize, offlineAfterMs: number): Promise<number> {
  const rows = await select(
    sequelize,
    /* sql */ `
WITH added AS (
  INSERT INTO worker_events (worker_id, event, detail)
  SELECT w.id, 'went-offline', jsonb_build_object('lastSeenAt', w.last_seen_at)
    FROM workers w
   WHERE w.enabled
     AND w.last_seen_at < now() - make_interval(secs => $seconds)
     AND w.last_seen_at > now() - interval '1 day'
     AND NOT EXISTS (SELECT 1 FROM worker_events e
                      WHERE e.worker_id = w.id AND e.event = 'went-offline' AND e.created_at > w.last_seen_at)
  RETURNING id, worker_id
)
${NOTIFY}`,
    { seconds: offlineAfterMs / 1000 },
  );
  return rows.length;
}

/**
 * The worker's last `inARow` failures came within the last hour with no frame accepted
 * since the first of them: it keeps failing. Once per run of failures.
 */
export async function noteWorkerFailing(sequelize: Sequelize, workerId: number, inARow: number): Promise<boolean> {
  const rows = await select(
    sequelize,
    /* sql */ `
WITH recent AS (
  -- An error in the scene (no camera…) is the file's, not the worker's (decision 015).
  SELECT error, created_at FROM task_failures WHERE worker_id = $workerId AND blames_worker ORDER BY created_at DESC LIMIT $inARow
), run AS (
  SELECT count(*)::int AS failures, min(created_at) AS since,
         (array_agg(error ORDER BY created_at DESC))[1] AS error
    FROM recent
), added AS (
  INSERT INTO worker_events (worker_id, event, detail)
  SELECT $workerId, 'keeps-failing', jsonb_build_object('failures', run.failures, 'error', run.error)
    FROM run
   WHERE run.failures >= $inARow AND run.since > now() - interval '1 hour'
     AND NOT EXISTS (SELECT 1 FROM results x WHERE x.worker_id = $workerId AND x.accepted AND x.created_at > run.since)
     AND NOT EXISTS (SELECT 1 FROM worker_events e
                      WHERE e.worker_id = $workerId AND e.event = 'keeps-failing' AND e.created_at >= run.since)
  RETURNING id, worker_id
)
${NOTIFY}`,
    { workerId, inARow },
  );
  return rows.length > 0;
}
