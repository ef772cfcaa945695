import type { Sequelize, Transaction } from "sequelize";
import type { OutputFormat } from "../../domain/output-format";
import {
  eventFromTasks,
  transition,
  type LifecycleContext,
  type RenderEvent,
  type RenderStatus,
  type TaskTally,
  type Transition,
} from "../../domain/render-lifecycle";
import type { TaskStatus } from "../models";
import { select } from "./common";

// The one place that writes a render's status (decision 012). Each change follows the
// lifecycle table (domain/render-lifecycle.ts), locks the render's row first (the lock
// order of common.ts), applies the table's effects, appends a render_events row and
// sends a NOTIFY — all in one transaction, so what the outbox says happened did.

/** Postgres NOTIFY channel of render_events; the payload is `{"renderId":…,"eventId":…}`. */
export const RENDER_EVENTS_CHANNEL = "cactus_render_events";

/** Why a change happened, kept with its outbox row: the error that failed a render, and such. */
export type EventDetail = Record<string, unknown>;

export interface NewRender {
  archiveId: number;
  projectId: number;
  createdBy: number;
  frameStart: number;
  frameEnd: number;
  frameStep: number;
  chunkSize: number;
  outputFormat: OutputFormat;
  priceMilli: number;
  needsDenoiser: boolean;
}

/**
 * Inserts a render in its first status ('requested': estimating, or queued when it has
 * nothing to sample) with its first outbox row; in the caller's transaction, which also
 * makes its tasks.
 */
export async function insertRender(
  sequelize: Sequelize,
  render: NewRender,
  context: Pick<LifecycleContext, "skipsSampling">,
  transaction: Transaction,
): Promise<{ id: number; status: RenderStatus }> {
  const first = transition(null, "requested", context)!;
  const [row] = await select<{ id: number }>(
    sequelize,
    /* sql */ `
INSERT INTO renders (archive_id, project_id, created_by, frame_start, frame_end, frame_step, chunk_size,
                     output_format, price_milli, needs_denoiser, status)
VALUES ($archiveId, $projectId, $createdBy, $frameStart, $frameEnd, $frameStep, $chunkSize,
        $outputFormat, $priceMilli, $needsDenoiser, $status)
RETURNING id`,
    { ...render, status: first.to },
    transaction,
  );
  await appendEvent(sequelize, row.id, first, null, transaction);
  return { id: row.id, status: first.to };
}

/**
 * Applies `event` to the render: its new status, the table's effects and an outbox row.
 * Returns the transition, or null when the event cannot happen in the render's status
 * now (nothing is written) or the render is gone. Runs in `transaction` when given.
 */
export async function applyRenderEvent(
  sequelize: Sequelize,
  renderId: number,
  event: RenderEvent,
  { transaction, detail = null }: { transaction?: Transaction; detail?: EventDetail | null } = {},
): Promise<Transition | null> {
  const apply = async (t: Transaction) => {
    const [render] = await select<{ status: RenderStatus; started: boolean; paused_from: RenderStatus | null }>(
      sequelize,
      /* sql */ `
SELECT r.status, r.started_at IS NOT NULL AS started,
       (SELECT e.from_status FROM render_events e
         WHERE e.render_id = r.id AND e.event = 'paused' ORDER BY e.id DESC LIMIT 1) AS paused_from
  FROM renders r WHERE r.id = $renderId FOR UPDATE OF r`,
      { renderId },
      t,
    );
    if (!render) return null;
    const change = transition(render.status, event, { started: render.started, pausedFrom: render.paused_from });
    if (!change) return null;
    const has = (effect: Transition["effects"][number]) => change.effects.includes(effect);
    await select(
      sequelize,
      /* sql */ `
UPDATE renders SET status = $status, updated_at = now(),
       started_at = CASE WHEN $stampStarted THEN coalesce(started_at, now()) ELSE started_at END,
       finished_at = CASE WHEN $stampFinished THEN now() ELSE finished_at END
 WHERE id = $renderId RETURNING id`,
      { renderId, status: change.to, stampStarted: has("stamp-started"), stampFinished: has("stamp-finished") },
      t,
    );
    if (has("cancel-open-tasks")) {
      // Leased tasks keep their lease, so their agents hear "stop" on the next heartbeat.
      await select(
        sequelize,
        `UPDATE tasks SET status = 'cancelled', updated_at = now()
          WHERE render_id = $renderId AND status IN ('queued', 'leased') RETURNING id`,
        { renderId },
        t,
      );
    }
    await appendEvent(sequelize, renderId, change, detail, t);
    return change;
  };
  return transaction ? apply(transaction) : sequelize.transaction(apply);
}

async function appendEvent(
  sequelize: Sequelize,
  renderId: number,
  change: Transition,
  detail: EventDetail | null,
  transaction: Transaction,
): Promise<void> {
  await select(
    sequelize,
    /* sql */ `
WITH event AS (
  INSERT INTO render_events (render_id, event, from_status, to_status, notice, detail)
  VALUES ($renderId, $event, $from, $to, $notice, $detail::jsonb)
  RETURNING id
)
SELECT pg_notify('${RENDER_EVENTS_CHANNEL}', json_build_object('renderId', $renderId::bigint, 'eventId', event.id)::text)
  FROM event`,
    {
      renderId,
      event: change.event,
      from: change.from,
      to: change.to,
      notice: change.notice,
      detail: detail === null ? null : JSON.stringify(detail),
    },
    transaction,
  );
}

/**
 * Settles the render's status from its tasks' (domain eventFromTasks): done when all are
 * done, failed when one failed, rendering once one is out. Returns the status after.
 * The render row is locked first, so two callers settle one after the other.
 */
export async function settleRenderFromTasks(
  sequelize: Sequelize,
  renderId: number,
  { transaction, detail = null }: { transaction?: Transaction; detail?: EventDetail | null } = {},
): Promise<RenderStatus> {
  const settle = async (t: Transaction) => {
    const [render] = await select<{ status: RenderStatus }>(
      sequelize,
      `SELECT status FROM renders WHERE id = $renderId FOR UPDATE`,
      { renderId },
      t,
    );
    const counts = await select<{ status: TaskStatus; count: number }>(
      sequelize,
      `SELECT status, count(*)::int AS count FROM tasks WHERE render_id = $renderId GROUP BY status`,
      { renderId },
      t,
    );
    const tally: TaskTally = { queued: 0, leased: 0, done: 0, failed: 0, cancelled: 0 };
    for (const { status, count } of counts) tally[status] = count;
    const event = eventFromTasks(render.status, tally);
    if (!event) return render.status;
    const change = await applyRenderEvent(sequelize, renderId, event, { transaction: t, detail });
    return change?.to ?? render.status;
  };
  return transaction ? settle(transaction) : sequelize.transaction(settle);
}
