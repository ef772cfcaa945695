import type { Sequelize, Transaction } from "sequelize";
import type { OutputFormat } from "../../domain/output-format";
import {
  eventFromTasks,
  transition,
  type RenderEvent,
  type RenderStatus,
  type TaskTally,
  type Transition,
} from "../../domain/render-lifecycle";
import { withinPreauthorised } from "../../domain/ledger";
import { tasksAfterSampling } from "../../domain/sampling";
import type { TaskStatus } from "../models";
import { applyRulesToRender } from "./acknowledgements";
import { select } from "./common";
import { applyEscrowPlan, escrowPlan, ownerCanPay, releaseEscrow } from "./ledger";
import { createRenderEstimate, refreshEstimate } from "./render-estimate";
import { createRenderTasks } from "./render-tasks";

// The one place that writes a render's status (decision 012). Each change follows the
// lifecycle table (domain/render-lifecycle.ts), locks the render's row first (the lock
// order of common.ts), applies the table's effects, appends a render_events row and
// sends a NOTIFY — all in one transaction, so what the outbox says happened did.

/**
 * Postgres NOTIFY channel of render_events; the payload is
 * `{"renderId":…,"eventId":…,"userId":…,"to":…}` (and `"anyone": true` once it asks other
 * people's workers): the render's owner and new status let a held claim (work-signals.ts)
 * tell whether the change brings work without a query.
 */
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
  /** What the owner pre-authorised (`--max-credits`): confirmed by itself only within it. Null: within their balance. */
  maxCostMilli?: number | null;
  needsDenoiser: boolean;
  /** Rendered first, for the quote (domain/sampling.ts); empty: it skips sampling. */
  sampleFrames: readonly number[];
  /** Its owner confirms the quote before the rest is rendered. */
  estimateOnly: boolean;
  /** The render's options; null: the file's own. */
  scene: string | null;
  camera: string | null;
  viewLayer: string | null;
  resolutionPercentage: number | null;
  samples: number | null;
  /** Of the scene it renders, when its facts are known: what the claim and the frame check need. */
  engine: string | null;
  outputWidth: number | null;
  outputHeight: number | null;
}

/**
 * Inserts a render in its first status ('requested': estimating, or queued when it has
 * nothing to sample) with its first outbox row and its estimate's; in the caller's
 * transaction, which also makes its tasks.
 */
export async function insertRender(sequelize: Sequelize, render: NewRender, transaction: Transaction): Promise<{ id: number; status: RenderStatus }> {
  const sampling = render.sampleFrames.length > 0;
  const first = transition(null, "requested", { skipsSampling: !sampling })!;
  const [row] = await select<{ id: number }>(
    sequelize,
    /* sql */ `
INSERT INTO renders (archive_id, project_id, created_by, frame_start, frame_end, frame_step, chunk_size,
                     output_format, price_milli, max_cost_milli, needs_denoiser, sample_frames, estimate_only, scene, camera,
                     view_layer, resolution_percentage, samples, engine, output_width, output_height, status)
VALUES ($archiveId, $projectId, $createdBy, $frameStart, $frameEnd, $frameStep, $chunkSize,
        $outputFormat, $priceMilli, $maxCostMilli, $needsDenoiser, $sampleFrames::int[], $estimateOnly, $scene, $camera,
        $viewLayer, $resolutionPercentage, $samples, $engine, $outputWidth, $outputHeight, $status)
RETURNING id`,
    { ...render, maxCostMilli: render.maxCostMilli ?? null, sampleFrames: [...render.sampleFrames], status: first.to },
    transaction,
  );
  await appendEvent(sequelize, row.id, first, null, transaction);
  const range = { start: render.frameStart, end: render.frameEnd, step: render.frameStep };
  await createRenderEstimate(sequelize, row.id, { sampling, range }, transaction);
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
    const [render] = await select<{ status: RenderStatus; started: boolean; estimate_only: boolean; paused_from: RenderStatus | null }>(
      sequelize,
      /* sql */ `
SELECT r.status, r.started_at IS NOT NULL AS started, r.estimate_only,
       (SELECT e.from_status FROM render_events e
         WHERE e.render_id = r.id AND e.event = 'paused' ORDER BY e.id DESC LIMIT 1) AS paused_from
  FROM renders r WHERE r.id = $renderId FOR UPDATE OF r`,
      { renderId },
      t,
    );
    if (!render) return null;
    const change = transition(render.status, event, {
      started: render.started,
      pausedFrom: render.paused_from,
      estimateOnly: render.estimate_only,
    });
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
    if (has("queue-unsampled-frames")) await queueUnsampledFrames(sequelize, renderId, t);
    // The caller (confirmRender) checked the owner can pay; the database refuses it otherwise.
    if (has("escrow-quote")) {
      await applyEscrowPlan(sequelize, renderId, await escrowPlan(sequelize, renderId, t), t);
      // Now it asks for other people's workers: the standing rules that accept it do.
      await applyRulesToRender(sequelize, renderId, t);
    }
    if (has("release-escrow")) await releaseEscrow(sequelize, renderId, t);
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

/** The frames a render did not sample become its tasks (chunked as it asked), once its quote is confirmed. */
async function queueUnsampledFrames(sequelize: Sequelize, renderId: number, transaction: Transaction): Promise<void> {
  const [render] = await select<{ frame_start: number; frame_end: number; frame_step: number; chunk_size: number; sample_frames: number[] }>(
    sequelize,
    `SELECT frame_start, frame_end, frame_step, chunk_size, sample_frames FROM renders WHERE id = $renderId`,
    { renderId },
    transaction,
  );
  const range = { start: render.frame_start, end: render.frame_end, step: render.frame_step };
  const tasks = tasksAfterSampling(range, render.chunk_size, render.sample_frames);
  if (tasks.length > 0) await createRenderTasks(sequelize, renderId, tasks, { transaction });
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
SELECT pg_notify('${RENDER_EVENTS_CHANNEL}', (json_build_object(
         'renderId', $renderId::bigint, 'eventId', event.id, 'userId', r.created_by, 'to', $to::text)::jsonb
         -- Confirmed with an escrow, it asks other people's workers: their held claims look too.
         || CASE WHEN r.frame_cost_milli IS NOT NULL THEN '{"anyone": true}'::jsonb ELSE '{}'::jsonb END)::text)
  FROM event, renders r WHERE r.id = $renderId`,
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
    if (event === "sampled") return quoteRender(sequelize, renderId, t);
    const change = await applyRenderEvent(sequelize, renderId, event, { transaction: t, detail });
    return change?.to ?? render.status;
  };
  return transaction ? settle(transaction) : sequelize.transaction(settle);
}

/**
 * The sample frames are in: the estimate made from them is the quote (kept in
 * renders.estimate), and the render is `quoted`. Unless its owner asked to confirm it,
 * the same transaction confirms it, and it carries on by itself.
 */
async function quoteRender(sequelize: Sequelize, renderId: number, transaction: Transaction): Promise<RenderStatus> {
  const quote = await refreshEstimate(sequelize, renderId, { transaction, endSampling: true });
  const [render] = await select<{ estimate_only: boolean }>(
    sequelize,
    `UPDATE renders SET estimate = $quote::jsonb WHERE id = $renderId RETURNING estimate_only`,
    { renderId, quote: quote === null ? null : JSON.stringify({ ...quote, curve: undefined, quotedAt: new Date().toISOString() }) },
    transaction,
  );
  const sampled = await applyRenderEvent(sequelize, renderId, "sampled", { transaction });
  if (!sampled || render.estimate_only) return sampled?.to ?? "estimating";
  // It carries on by itself only within what its owner pre-authorised and can pay;
  // otherwise it waits, quoted, and the quote-ready notice tells them (decision 023).
  const plan = await escrowPlan(sequelize, renderId, transaction);
  if (!ownerCanPay(plan) || !withinPreauthorised(plan.targetMilli, plan.maxCostMilli)) return sampled.to;
  return (await confirmRender(sequelize, renderId, { transaction }))?.to ?? sampled.to;
}

/** The owner's balance cannot pay the quote's upper bound into the render's escrow. */
export class NotEnoughCredits extends Error {
  constructor(
    readonly neededMilli: number,
    readonly balanceMilli: number,
  ) {
    super(`The escrow needs ${neededMilli} milli-credits more than the balance of ${balanceMilli}.`);
  }
}

/**
 * Confirms a quoted render: its other frames are queued (the lifecycle's effect) and it
 * renders on. A render whose every frame was a sample frame is done there and then (the
 * transition returned is that last one). Null when the render is not quoted. The one
 * place a quote is accepted: the lifecycle's effect moves the quote's upper bound into
 * the render's escrow; throws NotEnoughCredits, with nothing written, when the owner's
 * balance cannot pay it.
 */
export async function confirmRender(
  sequelize: Sequelize,
  renderId: number,
  { transaction }: { transaction?: Transaction } = {},
): Promise<Transition | null> {
  const confirm = async (t: Transaction) => {
    // The render's row first (the lock order), then its escrow and the owner's account.
    await select(sequelize, `SELECT id FROM renders WHERE id = $renderId FOR UPDATE`, { renderId }, t);
    const plan = await escrowPlan(sequelize, renderId, t);
    if (!ownerCanPay(plan)) throw new NotEnoughCredits(plan.targetMilli - plan.escrowMilli, plan.ownerBalanceMilli);
    const change = await applyRenderEvent(sequelize, renderId, "confirmed", { transaction: t });
    if (!change) return null;
    const [open] = await select<{ any: boolean }>(
      sequelize,
      `SELECT EXISTS (SELECT 1 FROM tasks WHERE render_id = $renderId AND status <> 'done') AS any`,
      { renderId },
      t,
    );
    if (open.any) return change;
    return (await applyRenderEvent(sequelize, renderId, "finished", { transaction: t })) ?? change;
  };
  return transaction ? confirm(transaction) : sequelize.transaction(confirm);
}
