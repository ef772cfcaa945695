import { ruleMatches } from "./acknowledgements";
import { RUNNABLE, WORKER_ENGINES, WORKER_HAS_DENOISER, workerCanRender } from "./common";

// Who may take which task (docs/design.md §5, decision 025), written once: the claim
// hands out work with these conditions, and what tells an owner why frames wait reads
// them too. The cases they must decide are a table in domain/eligibility.ts, replayed
// against Postgres by tests/db/eligibility.test.ts.
//
// Over `r` (a row of renders) and a worker given as SQL expressions (WorkerSql): the
// columns of a joined row, or the claim's scalar reads of its one worker.

/** What the conditions read of a worker, from `workers` aliased `src`. */
export const WORKER_FACTS = /* sql */ `
  src.id, src.user_id, src.enabled,
  ${WORKER_HAS_DENOISER("src")} AS has_denoiser, ${WORKER_ENGINES("src")} AS engines,
  -- Another person's file only in the sandbox, or where the owner turned it off knowingly;
  -- and only with a speed, so each frame's WU (what it is paid) is known.
  -- (An agent that has not said whether it is sandboxed is not: false, never null.)
  (coalesce((src.capabilities ->> 'sandbox') = 'bwrap', false) OR src.others_unsandboxed) AND src.wupm IS NOT NULL AS may_render_others`;

/** A worker in the conditions: SQL expressions of its WORKER_FACTS columns. */
export interface WorkerSql {
  id: string;
  userId: string;
  hasDenoiser: string;
  engines: string;
  mayRenderOthers: string;
}

/** The worker's columns of a row with WORKER_FACTS, aliased `alias`. */
export const workerColumns = (alias: string): WorkerSql => ({
  id: `${alias}.id`,
  userId: `${alias}.user_id`,
  hasDenoiser: `${alias}.has_denoiser`,
  engines: `${alias}.engines`,
  mayRenderOthers: `${alias}.may_render_others`,
});

/**
 * Worker w may take render r's tasks now: r hands out work; w's Blender can render it
 * (its engine, the denoiser it needs: common.ts workerCanRender);
 * w did not fail r too often; and both sides agreed — own workers unless switched off;
 * another person's once its owner accepted r (and r was confirmed with an escrow, not
 * only sampling), if sandboxed, unless r's owner switched it off or enables workers one
 * by one. `$blocklistAfter` is bound by the statement. w being enabled is the caller's.
 *
 * `forecast`: w will take r's tasks once r hands them out, at `price` (r's own by
 * default) — what the ETA and the work ahead count. Whatever r's status (estimating,
 * quoted, paused, waiting for credits), it counts as confirmed and running, and another
 * person's worker counts by its owner's answer: by hand, else by their standing rule at
 * that price (which a confirm or a price change makes into an answer).
 */
export function mayTakeRender(w: WorkerSql, { forecast = false, price = "r.price_milli" } = {}): string {
  const toggle = `(SELECT rw.allowed FROM render_workers rw WHERE rw.render_id = r.id AND rw.worker_id = ${w.id})`;
  const accepted = forecast
    ? /* sql */ `CASE (SELECT k.decision FROM render_request_acks k WHERE k.render_id = r.id AND k.user_id = ${w.userId} AND NOT k.by_rule)
          WHEN 'accepted' THEN true WHEN 'declined' THEN false
          ELSE EXISTS (SELECT 1 FROM request_rules q WHERE q.user_id = ${w.userId} AND ${ruleMatches(price)}) END`
    : /* sql */ `r.status IN ('queued', 'rendering') AND r.frame_cost_milli IS NOT NULL
        AND EXISTS (SELECT 1 FROM render_request_acks k
                     WHERE k.render_id = r.id AND k.user_id = ${w.userId} AND k.decision = 'accepted')`;
  return /* sql */ `(
  ${forecast ? "true" : `r.status IN (${RUNNABLE})`}
  AND ${workerCanRender("r", w.hasDenoiser, w.engines)}
  AND (SELECT count(*) FROM task_failures f WHERE f.render_id = r.id AND f.worker_id = ${w.id}) < $blocklistAfter
  AND CASE WHEN r.created_by = ${w.userId} THEN coalesce(${toggle}, true)
      ELSE ${w.mayRenderOthers} AND ${accepted} AND coalesce(${toggle}, NOT r.only_enabled_workers)
      END)`;
}

/**
 * Render r's escrow can pay task t at its worst, and the tasks of r other people's
 * workers hold already (domain/ledger.ts escrowCovers: frames × the frame's worst cost);
 * always so on the owner's own workers, which cost nothing. The leased tasks are read
 * by tasks_render_idx: a few rows.
 */
export function escrowCoversTask(w: Pick<WorkerSql, "userId">): string {
  const frames = (task: string) => `((${task}.frame_end - ${task}.frame_start) / r.frame_step + 1)`;
  return /* sql */ `(
  r.created_by = ${w.userId}
  OR (SELECT a.balance_milli FROM accounts a WHERE a.id = r.escrow_account_id)
     >= r.frame_cost_milli * (${frames("t")} + coalesce((
          SELECT sum(${frames("l")}) FROM tasks l JOIN workers lw ON lw.id = l.worker_id
           WHERE l.render_id = r.id AND l.status = 'leased' AND lw.user_id <> r.created_by), 0)))`;
}
