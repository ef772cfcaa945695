import { QueryTypes, type Transaction } from "sequelize";
import { collectSource } from "../../../db/sql/push";
import {
  RENDER_NOTICE_AUDIENCE,
  renderMessage,
  workerFailingMessage,
  workerOfflineMessage,
  type NotificationEvent,
  type PushMessage,
} from "../../../domain/notifications";
import { toCredits } from "../../../domain/ledger";
import { UNFINISHED_RENDER_STATUSES, type RenderNotice } from "../../../domain/render-lifecycle";
import { OFFLINE_AFTER_MS } from "../../../domain/worker-status";
import { db } from "../db.server";

// Where pushes come from: each source turns its committed rows into messages for their
// people. A new event is a message in domain/notifications.ts and a case here (or a new
// source: a table with a bigserial id, a push_cursors row in a migration, an entry below).

/**
 * Rows are read once they are this old: a row's id is taken when it is inserted, so a
 * transaction that commits late may add an id below one already read. Every writer of
 * these outboxes commits within milliseconds; this margin covers them.
 */
const SETTLE_SECONDS = 2;

type Push = { userId: number; event: NotificationEvent; message: PushMessage };

const rows = <T extends object>(sql: string, afterId: number, limit: number, transaction: Transaction) =>
  db().query<T>(sql, { bind: { afterId, limit, settle: SETTLE_SECONDS }, type: QueryTypes.SELECT, transaction });

interface RenderEventRow {
  id: number;
  /** The render's owner. */
  userId: number;
  /** For a request: the people it asks who have not answered it (ids as text: bigint). */
  asked: string[];
  owner: string;
  priceMilli: string;
  notice: RenderNotice;
  detail: { error?: string } | null;
  renderId: number;
  filename: string;
  framesDone: number;
  totalFrames: number;
}

const UNFINISHED = UNFINISHED_RENDER_STATUSES.map((status) => `'${status}'`).join(", ");
const ASKED_NOTICES = Object.entries(RENDER_NOTICE_AUDIENCE)
  .filter(([, audience]) => audience === "asked")
  .map(([notice]) => `'${notice}'`)
  .join(", ");

const renderEvents = () =>
  collectSource<RenderEventRow>(
    db(),
    "render_events",
    (afterId, limit, transaction) =>
      rows<RenderEventRow>(
        /* sql */ `
SELECT e.id, r.created_by AS "userId", u.username AS owner, r.price_milli AS "priceMilli", e.notice, e.detail,
       r.id AS "renderId", a.filename,
       (SELECT count(*) FROM results x WHERE x.render_id = r.id AND x.accepted)::int AS "framesDone",
       ((r.frame_end - r.frame_start) / r.frame_step + 1)::int AS "totalFrames",
       -- A request is for everyone else with a worker switched on who has not answered it
       -- (a standing rule answered in the confirm's transaction), while it still asks.
       CASE WHEN e.notice IN (${ASKED_NOTICES}) AND r.status IN (${UNFINISHED}) THEN ARRAY(
         SELECT DISTINCT w.user_id::text FROM workers w
          WHERE w.user_id <> r.created_by AND w.enabled
            AND NOT EXISTS (SELECT 1 FROM render_request_acks k WHERE k.render_id = r.id AND k.user_id = w.user_id))
       ELSE '{}' END AS asked
  FROM render_events e JOIN renders r ON r.id = e.render_id JOIN archives a ON a.id = r.archive_id
  JOIN users u ON u.id = r.created_by
 WHERE e.id > $afterId AND e.notice IS NOT NULL AND e.created_at < now() - make_interval(secs => $settle)
 ORDER BY e.id LIMIT $limit`,
        afterId,
        limit,
        transaction,
      ),
    (events): Push[] =>
      events.flatMap((row) => {
        const message = renderMessage(row.notice, {
          id: row.renderId,
          filename: row.filename,
          framesDone: row.framesDone,
          totalFrames: row.totalFrames,
          error: row.detail?.error ?? null,
          owner: row.owner,
          price: toCredits(Number(row.priceMilli)),
        });
        const people = RENDER_NOTICE_AUDIENCE[row.notice] === "owner" ? [row.userId] : row.asked.map(Number);
        return people.map((userId) => ({ userId, event: message.event, message }));
      }),
  );

interface WorkerEventRow {
  id: number;
  userId: number;
  event: "went-offline" | "keeps-failing";
  detail: { failures?: number; error?: string } | null;
  workerId: number;
  name: string;
}

const workerEvents = () =>
  collectSource<WorkerEventRow>(
    db(),
    "worker_events",
    (afterId, limit, transaction) =>
      rows<WorkerEventRow>(
        /* sql */ `
SELECT e.id, w.user_id AS "userId", e.event, e.detail, w.id AS "workerId", w.name
  FROM worker_events e JOIN workers w ON w.id = e.worker_id
 WHERE e.id > $afterId AND e.created_at < now() - make_interval(secs => $settle)
 ORDER BY e.id LIMIT $limit`,
        afterId,
        limit,
        transaction,
      ),
    (events): Push[] =>
      events.map((row) => {
        const worker = { id: row.workerId, name: row.name };
        const message =
          row.event === "went-offline"
            ? workerOfflineMessage(worker, { minutes: OFFLINE_AFTER_MS / 60_000 })
            : workerFailingMessage(worker, { failures: row.detail?.failures ?? 0, error: row.detail?.error ?? "" });
        return { userId: row.userId, event: message.event, message };
      }),
  );

/** Each source, read until it has nothing new: the pushes they call for become deliveries. */
export async function collectPushes(): Promise<number> {
  let total = 0;
  for (const collect of [renderEvents, workerEvents]) {
    for (let read = await collect(); read > 0; read = await collect()) total += read;
  }
  return total;
}

/** How long after a notification the sources have the row (SETTLE_SECONDS and a little). */
export const COLLECT_DELAY_MS = SETTLE_SECONDS * 1000 + 300;
