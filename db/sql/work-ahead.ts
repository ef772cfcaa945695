import type { Sequelize } from "sequelize";
import { select } from "./common";
import { mayTakeRender, WORKER_FACTS, workerColumns } from "./eligibility";

// The work ahead of a render at a price (docs/design.md §4 "expected start at this
// price"): the workers online now that would take it (eligibility.ts's one condition,
// as a forecast: a quoted render counts as confirmed, a standing rule as an answer at
// that price), and what they hand out before it by the claim's order — their owners'
// own renders first, then the renders their owners accepted, dearest first, then the
// oldest. domain/work-ahead.ts has the same rules in TypeScript; tests/db/work-ahead.test.ts
// replays them against this. Only renders confirmed or handing out their own (queued,
// rendering) count: an estimating render queues its few sample frames only.

export interface WorkAheadRow {
  /** The renders ahead. */
  renderIds: number[];
  /** Their remaining WU, of those with an estimate. */
  wu: number;
  /** Renders ahead with nothing measured yet. */
  unmeasured: number;
  /** The WUPM of each worker online now that would take the render: calibrated on it, else benchmarked. */
  wupm: number[];
  /** How many of those are other people's (paid); the owner's own cost nothing. */
  othersWorkers: number;
}

/** What the claim hands out before `renderId` at `priceMilli`, and the speeds that would render it. */
export async function readWorkAhead(
  sequelize: Sequelize,
  { renderId, priceMilli, offlineAfterMs, blocklistAfter }: { renderId: number; priceMilli: number; offlineAfterMs: number; blocklistAfter: number },
): Promise<WorkAheadRow> {
  const [row] = await select<{ render_ids: string[] | null; wu: number; unmeasured: number; wupm: number[] | null; others: number }>(
    sequelize,
    /* sql */ `
WITH r AS MATERIALIZED (SELECT * FROM renders WHERE id = $renderId),
online AS MATERIALIZED (
  SELECT ${WORKER_FACTS}, coalesce(s.wupm, src.wupm) AS speed
    FROM workers src LEFT JOIN render_speeds s ON s.render_id = $renderId AND s.worker_id = src.id
   WHERE src.enabled AND src.status <> 'sleeping' AND src.last_seen_at > now() - make_interval(secs => $offlineSeconds)
     AND coalesce(s.wupm, src.wupm) IS NOT NULL
),
takers AS MATERIALIZED (
  SELECT w.user_id, w.speed, w.user_id <> r.created_by AS others FROM online w, r WHERE ${mayTakeRender(workerColumns("w"), { forecast: true, price: "$priceMilli::bigint" })}
),
helpers AS MATERIALIZED (SELECT DISTINCT user_id FROM takers),
ahead AS (
  SELECT q.id FROM renders q, r
   WHERE q.status IN ('queued', 'rendering') AND q.id <> r.id
     AND EXISTS (
       SELECT 1 FROM helpers h
        WHERE (q.created_by = h.user_id
               OR (q.frame_cost_milli IS NOT NULL AND EXISTS (
                     SELECT 1 FROM render_request_acks k WHERE k.render_id = q.id AND k.user_id = h.user_id AND k.decision = 'accepted')))
          -- The claim's order for a worker of h: its own first, then the dearest, then the oldest.
          AND CASE WHEN (q.created_by = h.user_id) <> (r.created_by = h.user_id) THEN q.created_by = h.user_id
                   ELSE q.price_milli > $priceMilli::bigint
                     OR (q.price_milli = $priceMilli::bigint AND (q.created_at, q.id) < (r.created_at, r.id)) END)
)
SELECT (SELECT array_agg(a.id::text ORDER BY a.id) FROM ahead a) AS render_ids,
       (SELECT coalesce(sum((e.estimate ->> 'remainingWu')::float8), 0)::float8
          FROM ahead a JOIN render_estimates e ON e.render_id = a.id) AS wu,
       (SELECT count(*)::int FROM ahead a LEFT JOIN render_estimates e ON e.render_id = a.id
         WHERE e.estimate ->> 'remainingWu' IS NULL) AS unmeasured,
       (SELECT array_agg(speed) FROM takers) AS wupm,
       (SELECT count(*)::int FROM takers WHERE others) AS others`,
    { renderId, priceMilli, offlineSeconds: offlineAfterMs / 1000, blocklistAfter },
  );
  return {
    renderIds: (row?.render_ids ?? []).map(Number),
    wu: row?.wu ?? 0,
    unmeasured: row?.unmeasured ?? 0,
    wupm: row?.wupm ?? [],
    othersWorkers: row?.others ?? 0,
  };
}
