import type { Sequelize } from "sequelize";
import { DEFAULT_LEASE_SECONDS, FAILURES_TO_BLOCKLIST } from "../../domain/scheduler";
import type { ArchiveKind, OutputFormat, RenderStatus } from "../models";
import { RUNNABLE, execute, prepare, select } from "./common";
import { escrowCoversTask, mayTakeRender, WORKER_FACTS, type WorkerSql } from "./eligibility";
import { applyRenderEvent } from "./render-status";

// Handing out tasks: which task a worker gets, and its lease. Part of the queue
// (queue.ts, which is the one to import).

export interface ClaimedTask {
  id: number;
  kind: "render" | "inspect";
  renderId: number | null;
  /** Null for inspect tasks. */
  frameStart: number | null;
  frameEnd: number | null;
  outputFormat: OutputFormat | null;
  leaseToken: string;
  leaseExpiresAt: Date;
  leaseSeconds: number;
  archive: { id: number; hash: string; size: number; kind: ArchiveKind; mainPath: string | null };
  /** The image size the render's frames must have, once the scene is known. */
  expected: { width: number; height: number } | null;
  /** What the render changes of the scene; null for inspect tasks. */
  options: RenderOptions | null;
}

export interface RenderOptions {
  scene: string | null;
  camera: string | null;
  viewLayer: string | null;
  resolutionPercentage: number | null;
  samples: number | null;
}

/**
 * The first claimable task of render or archive `owner`, locked, skipping tasks other
 * claims hold. `failed` matches the worker's failures of that task; `extra` narrows the
 * task (another person's: the escrow covers it).
 */
const firstClaimableTask = (ownerColumn: string, owner: string, kind: string, failed: string, extra = "true") => `
  SELECT t.id FROM tasks t
   WHERE t.${ownerColumn} = ${owner} AND t.status = 'queued' AND t.kind = '${kind}'
     -- never again a task this worker failed
     AND NOT EXISTS (SELECT 1 FROM task_failures f WHERE ${failed})
     AND ${extra}
   ORDER BY t.is_sample DESC, t.frame_start
   LIMIT 1
   FOR UPDATE OF t SKIP LOCKED`;

// A render task's failures are looked up with the render: task_failures_render_worker_idx
// then reads the worker's failures of this render alone (a few rows: three blocklist it).
// By task and worker only, the planner read all the worker's failures in every render for
// each claim (5 ms of a 6 ms claim with a million tasks). Inspect tasks have no render.
const FAILED_RENDER_TASK = "f.render_id = r.id AND f.worker_id = $workerId AND f.task_id = t.id";
const FAILED_INSPECT_TASK = "f.task_id = t.id AND f.worker_id = $workerId";

// What the claim and the look ahead (nextArchives) share: whom the worker is, the work
// its owner's archives and renders hold and the accepted renders of other people, and
// the rule a render's tasks must pass for it (eligibility.ts, written once).
const WORKER = `worker AS MATERIALIZED (
  SELECT ${WORKER_FACTS} FROM workers src WHERE src.id = $workerId AND src.enabled
)`;
/** The claim's one worker, read once from its materialised row (an InitPlan each). */
const THE_WORKER: WorkerSql = {
  id: "$workerId",
  userId: "(SELECT user_id FROM worker)",
  hasDenoiser: "(SELECT has_denoiser FROM worker)",
  engines: "(SELECT engines FROM worker)",
  mayRenderOthers: "(SELECT may_render_others FROM worker)",
};
/** The columns of renders the eligibility conditions and the look ahead read. */
const RENDER_COLUMNS = `r.id, r.archive_id, r.status, r.price_milli, r.created_at, r.created_by, r.needs_denoiser, r.engine,
  r.frame_cost_milli, r.only_enabled_workers, r.escrow_account_id, r.frame_step`;
/** Archives awaiting their scene facts, oldest first (an OFFSET 0 fence: see CLAIM). */
const ARCHIVES_TO_INSPECT = `(SELECT id FROM archives
            WHERE uploaded_by = (SELECT user_id FROM worker) AND inspected_at IS NULL
            ORDER BY id OFFSET 0) a`;
const RENDER_ORDER = "r.price_milli DESC, r.created_at, r.id";
/** The owner's runnable renders, highest price first, oldest first on a tie. */
const OWN_RENDERS = `(SELECT ${RENDER_COLUMNS} FROM renders r
            WHERE r.created_by = (SELECT user_id FROM worker) AND r.status IN (${RUNNABLE})
            ORDER BY ${RENDER_ORDER} OFFSET 0) r`;
/** Other people's renders the worker's owner accepted, while they hand out work; by price, then age. */
const ACCEPTED_RENDERS = `(SELECT ${RENDER_COLUMNS} FROM render_request_acks k JOIN renders r ON r.id = k.render_id
            WHERE k.user_id = (SELECT user_id FROM worker) AND k.decision = 'accepted'
              AND r.status IN ('queued', 'rendering') AND (SELECT may_render_others FROM worker)
            ORDER BY ${RENDER_ORDER} OFFSET 0) r`;
/** Whether render `r` hands this worker its tasks at all: eligibility.ts's one condition. */
const RENDER_TAKES_WORKER = mayTakeRender(THE_WORKER);

/**
 * The claim, in one statement: candidates are walked in priority order, each render's
 * first free task locked with SKIP LOCKED (so concurrent claims pass each other instead
 * of waiting) and leased, and what the agent needs returned — one round trip.
 *
 * Renders (and archives) are put in order inside an OFFSET 0 fence before any task is
 * locked: the nested loop then tries them one by one and stops at the first task, so
 * whatever plan the renders get (index walk on a big table, sort on a small one), no
 * other render's task is locked and skipped by concurrent claims for nothing.
 */
const CLAIM = prepare(
  "cactus_claim_task",
  /* sql */ `
WITH ${WORKER},
picked AS (
  -- Archives awaiting their scene facts first: render requests wait on them, and they take seconds.
  (SELECT task.id
     FROM ${ARCHIVES_TO_INSPECT}
     CROSS JOIN LATERAL (${firstClaimableTask("archive_id", "a.id", "inspect", FAILED_INSPECT_TASK)}) task
    ORDER BY a.id
    LIMIT 1)
  UNION ALL
  -- Then the owner's own renders, highest price first, oldest first on a tie.
  (SELECT task.id
     FROM ${OWN_RENDERS}
     CROSS JOIN LATERAL (${firstClaimableTask("render_id", "r.id", "render", FAILED_RENDER_TASK)}) task
    WHERE ${RENDER_TAKES_WORKER}
    ORDER BY ${RENDER_ORDER}
    LIMIT 1)
  UNION ALL
  -- Then other people's renders the owner accepted, highest price first, oldest first;
  -- a task only when the render's escrow can pay for it.
  (SELECT task.id
     FROM ${ACCEPTED_RENDERS}
     CROSS JOIN LATERAL (${firstClaimableTask("render_id", "r.id", "render", FAILED_RENDER_TASK, escrowCoversTask(THE_WORKER))}) task
    WHERE ${RENDER_TAKES_WORKER}
    ORDER BY ${RENDER_ORDER}
    LIMIT 1)
  -- Branches run in order and stop at the first row: a later branch locks nothing.
  LIMIT 1
),
leased AS (
  UPDATE tasks t
     SET status = 'leased', worker_id = $workerId, lease_token = gen_random_uuid(),
         lease_expires_at = now() + make_interval(secs => $leaseSeconds),
         attempts = t.attempts + 1, progress = 0, updated_at = now()
    FROM picked
   WHERE t.id = picked.id
  RETURNING t.id, t.kind, t.render_id, t.archive_id, t.frame_start, t.frame_end, t.lease_token, t.lease_expires_at
)
-- One json column: node-postgres sets up a parser per column of each result, which cost
-- the client more than the claim's single row (bench:claim).
SELECT json_build_object(
         'id', leased.id, 'kind', leased.kind, 'renderId', leased.render_id,
         'frameStart', leased.frame_start, 'frameEnd', leased.frame_end,
         'leaseToken', leased.lease_token, 'leaseExpiresAt', leased.lease_expires_at,
         'outputFormat', r.output_format, 'renderStatus', r.status,
         'archive', json_build_object('id', a.id, 'hash', a.hash, 'size', a.size, 'kind', a.kind, 'mainPath', a.main_path),
         -- The render's own columns: the archive's facts (a big jsonb) are not read here.
         'expected', CASE WHEN r.output_width IS NOT NULL THEN json_build_object('width', r.output_width, 'height', r.output_height) END,
         'options', CASE WHEN r.id IS NOT NULL THEN json_build_object('scene', r.scene, 'camera', r.camera, 'viewLayer', r.view_layer,
                                'resolutionPercentage', r.resolution_percentage, 'samples', r.samples) END
       ) AS task
  FROM leased
  LEFT JOIN renders r ON r.id = leased.render_id
  JOIN archives a ON a.id = coalesce(leased.archive_id, r.archive_id)`,
);

// A render turns 'rendering' when its first task is out: after the claim committed, and
// only on a render's first claim (as part of the claim it was set up, with the render's
// row locked, on every claim). A pause or cancel may come first: then nothing changes.
/** Leases the best task this worker may take (see CLAIM), or null. */
export async function claimTask(
  sequelize: Sequelize,
  { workerId, leaseSeconds = DEFAULT_LEASE_SECONDS }: { workerId: number; leaseSeconds?: number },
): Promise<ClaimedTask | null> {
  const [row] = await execute<{ task: ClaimRow }>(sequelize, CLAIM, {
    workerId,
    leaseSeconds,
    blocklistAfter: FAILURES_TO_BLOCKLIST,
  });
  if (!row) return null;
  const { renderStatus, leaseExpiresAt, ...task } = row.task;
  if (renderStatus === "queued") await applyRenderEvent(sequelize, task.renderId!, "started");
  return { ...task, leaseExpiresAt: new Date(leaseExpiresAt), leaseSeconds };
}

/** The claim's json: a ClaimedTask but for what claimTask adds, and the render's status as the claim found it. */
interface ClaimRow extends Omit<ClaimedTask, "leaseExpiresAt" | "leaseSeconds"> {
  leaseExpiresAt: string;
  renderStatus: RenderStatus | null;
}

/** An archive the worker is likely to be handed next, for its agent to fetch while it renders. */
export interface NextArchive {
  hash: string;
  size: number;
  kind: ArchiveKind;
  mainPath: string | null;
}

/** Whether the archive or render (`owner`) has a queued task of `kind` this worker may take. */
const hasClaimableTask = (ownerColumn: string, owner: string, kind: string, failed: string) => `EXISTS (
  SELECT 1 FROM tasks t WHERE t.${ownerColumn} = ${owner} AND t.status = 'queued' AND t.kind = '${kind}'
     AND NOT EXISTS (SELECT 1 FROM task_failures f WHERE ${failed}))`;

// The claim's candidates, in the claim's order, without locking or leasing anything: the
// archives of the first `limit` distinct pieces of work a claim would hand this worker.
const NEXT_ARCHIVES = /* sql */ `
WITH ${WORKER},
next AS (
  (SELECT a.id AS archive_id, 1 AS branch, row_number() OVER () AS place
     FROM ${ARCHIVES_TO_INSPECT}
    WHERE ${hasClaimableTask("archive_id", "a.id", "inspect", FAILED_INSPECT_TASK)}
    LIMIT $limit)
  UNION ALL
  (SELECT r.archive_id, 2, row_number() OVER (ORDER BY ${RENDER_ORDER})
     FROM ${OWN_RENDERS}
    WHERE ${RENDER_TAKES_WORKER}
      AND ${hasClaimableTask("render_id", "r.id", "render", FAILED_RENDER_TASK)}
    ORDER BY ${RENDER_ORDER}
    LIMIT $limit * 4)
  UNION ALL
  (SELECT r.archive_id, 3, row_number() OVER (ORDER BY ${RENDER_ORDER})
     FROM ${ACCEPTED_RENDERS}
    WHERE ${RENDER_TAKES_WORKER}
      AND ${hasClaimableTask("render_id", "r.id", "render", FAILED_RENDER_TASK)}
    ORDER BY ${RENDER_ORDER}
    LIMIT $limit * 4)
)
SELECT a.hash, a.size, a.kind, a.main_path AS "mainPath"
  FROM next JOIN archives a ON a.id = next.archive_id
 GROUP BY a.id
 ORDER BY min(next.branch), min(next.place)
 LIMIT $limit`;

/**
 * The archives of the work this worker is likely to get next, first first (an archive is
 * named once): its agent fetches those it lacks while a frame renders.
 */
export async function nextArchives(sequelize: Sequelize, { workerId, limit = 2 }: { workerId: number; limit?: number }): Promise<NextArchive[]> {
  const rows = await select<NextArchive>(sequelize, NEXT_ARCHIVES, { workerId, limit, blocklistAfter: FAILURES_TO_BLOCKLIST });
  return rows.map((row) => ({ ...row, size: Number(row.size) }));
}
