import { QueryTypes } from "sequelize";
import type { FrameCounts } from "../../contract";
import type { TaskStatus } from "../../db/models";
import { formatFrameRange } from "../../domain/frames";
import { WORKER_ENGINES, engineAmong } from "../../db/sql/common";
import type { RenderFailedDetail } from "../../db/sql/failures";
import { engineLabel } from "../../domain/engines";
import { FAILURES_TO_BLOCKLIST, FAILURES_TO_FAIL_RENDER, WORKERS_TO_FAIL_TASK } from "../../domain/scheduler";
import { mayTakeRender, WORKER_FACTS, workerColumns } from "../../db/sql/eligibility";
import { db } from "../lib/db.server";

// How far renders are: their frames by status, the workers on them, why they failed, and
// why their frames wait when no worker can take them.
// Batched over many renders (the list) and built from a few grouped scans, so a render
// of 100 000 frames costs a pass over its tasks and results, never a probe per frame.

export interface RenderWorkerProgress {
  id: number;
  name: string;
  framesDone: number;
  rendering: boolean;
}

export interface RenderProgress {
  tasks: number;
  frames: FrameCounts;
  workers: RenderWorkerProgress[];
  failure: string | null;
  waiting: string | null;
}

const query = <T extends object>(sql: string, ids: number[], bind: object = {}) =>
  db().query<T>(sql, { bind: { ids, ...bind }, type: QueryTypes.SELECT });

/**
 * Progress of these renders (each of `total` frames), by render id. `failed` renders say
 * why; `running` ones too while a frame that failed waits in the queue for another
 * worker — with fewer workers than fail a task, it may wait there for good. `runnable`
 * ones (their tasks may be handed out) say when no worker of the owner's can take them.
 */
export async function progressOf(
  renders: { id: number; totalFrames: number; failed: boolean; running: boolean; runnable: boolean }[],
): Promise<Map<number, RenderProgress>> {
  const ids = renders.map((render) => render.id);
  const failedIds = renders.filter((render) => render.failed || render.running).map((render) => render.id);
  const endedIds = renders.filter((render) => render.failed).map((render) => render.id);
  const runnableIds = renders.filter((render) => render.runnable).map((render) => render.id);
  const [taskFrames, acceptedByTask, workers, failures, farms, endings] = await Promise.all([
    // Frames of each task status: a chunk of frames in one task counts each frame.
    query<{ render_id: number; status: TaskStatus; tasks: number; frames: number }>(
      /* sql */ `
SELECT t.render_id, t.status, count(*)::int AS tasks, sum((t.frame_end - t.frame_start) / r.frame_step + 1)::int AS frames
  FROM tasks t JOIN renders r ON r.id = t.render_id
 WHERE t.render_id = ANY($ids::bigint[]) AND t.kind = 'render'
 GROUP BY t.render_id, t.status`,
      ids,
    ),
    // Accepted frames by the status of their task: a chunk given back or cut off keeps the
    // frames it delivered, so those are done, not queued.
    query<{ render_id: number; status: TaskStatus; frames: number }>(
      /* sql */ `
SELECT x.render_id, t.status, count(*)::int AS frames
  FROM results x JOIN tasks t ON t.id = x.task_id
 WHERE x.render_id = ANY($ids::bigint[]) AND x.accepted
 GROUP BY x.render_id, t.status`,
      ids,
    ),
    query<{ render_id: number; id: number; name: string; frames_done: number; rendering: boolean }>(
      /* sql */ `
WITH done AS (
  SELECT render_id, worker_id, count(*)::int AS n FROM results
   WHERE render_id = ANY($ids::bigint[]) AND accepted AND worker_id IS NOT NULL
   GROUP BY render_id, worker_id
), busy AS (
  SELECT DISTINCT render_id, worker_id FROM tasks WHERE render_id = ANY($ids::bigint[]) AND status = 'leased'
), on_it AS (
  SELECT render_id, worker_id FROM done UNION SELECT render_id, worker_id FROM busy
)
SELECT on_it.render_id, w.id, w.name, coalesce(done.n, 0) AS frames_done, busy.worker_id IS NOT NULL AS rendering
  FROM on_it
  JOIN workers w ON w.id = on_it.worker_id
  LEFT JOIN done ON done.render_id = on_it.render_id AND done.worker_id = on_it.worker_id
  LEFT JOIN busy ON busy.render_id = on_it.render_id AND busy.worker_id = on_it.worker_id
 ORDER BY frames_done DESC, lower(w.name), w.id`,
      ids,
    ),
    failedIds.length === 0
      ? Promise.resolve([])
      : query<FailureRow>(
          /* sql */ `
SELECT DISTINCT ON (t.render_id) t.render_id, t.status, t.frame_start, t.frame_end, f.error,
       (SELECT count(DISTINCT worker_id)::int FROM task_failures WHERE task_id = t.id) AS workers
  FROM tasks t JOIN task_failures f ON f.task_id = t.id
 WHERE t.render_id = ANY($ids::bigint[]) AND t.status IN ('failed', 'queued')
 ORDER BY t.render_id, t.status = 'failed' DESC, f.created_at DESC, f.id DESC`,
          failedIds,
        ),
    runnableIds.length === 0 ? Promise.resolve([]) : query<FarmRow>(OWNERS_WORKERS, runnableIds, { blocklistAfter: FAILURES_TO_BLOCKLIST }),
    // Why a failed render failed, as the failure that failed it said (db/sql/failures.ts).
    endedIds.length === 0
      ? Promise.resolve([])
      : query<{ render_id: number; detail: Partial<RenderFailedDetail> | null }>(
          /* sql */ `
SELECT DISTINCT ON (render_id) render_id, detail FROM render_events
 WHERE render_id = ANY($ids::bigint[]) AND event = 'failed'
 ORDER BY render_id, id DESC`,
          endedIds,
        ),
  ]);

  const progress = new Map<number, RenderProgress>();
  for (const render of renders) {
    const framesIn = (status: TaskStatus) =>
      (taskFrames.find((row) => row.render_id === render.id && row.status === status)?.frames ?? 0) -
      (acceptedByTask.find((row) => row.render_id === render.id && row.status === status)?.frames ?? 0);
    const queued = framesIn("queued");
    progress.set(render.id, {
      tasks: taskFrames.filter((row) => row.render_id === render.id).reduce((sum, row) => sum + row.tasks, 0),
      frames: {
        total: render.totalFrames,
        done: acceptedByTask.filter((row) => row.render_id === render.id).reduce((sum, row) => sum + row.frames, 0),
        failed: framesIn("failed"),
        rendering: framesIn("leased"),
        queued,
      },
      workers: workers
        .filter((row) => row.render_id === render.id)
        .map((row) => ({ id: row.id, name: row.name, framesDone: row.frames_done, rendering: row.rendering })),
      failure:
        endedMessage(endings.find((row) => row.render_id === render.id)?.detail) ??
        failureMessage(render, failures.find((row) => row.render_id === render.id)),
      waiting: queued > 0 ? waitingMessage(farms.find((row) => row.render_id === render.id)) : null,
    });
  }
  return progress;
}

interface FailureRow {
  render_id: number;
  status: TaskStatus;
  frame_start: number;
  frame_end: number;
  workers: number;
  error: string;
}

function failureMessage(render: { failed: boolean; running: boolean }, failure: FailureRow | undefined): string | null {
  if (!failure || (!render.failed && !render.running)) return render.failed ? "The render failed." : null;
  const frames = formatFrameRange({ start: failure.frame_start, end: failure.frame_end, step: 1 });
  const what = failure.frame_start === failure.frame_end ? `Frame ${frames}` : `Frames ${frames}`;
  const on = failure.workers === 1 ? "1 worker" : `${failure.workers} workers`;
  if (failure.status === "failed") return `${what} failed on ${on}; the last error: ${failure.error}`;
  return (
    `${what} failed on ${on} and ${failure.frame_start === failure.frame_end ? "waits" : "wait"} for another worker ` +
    `(the render fails when ${WORKERS_TO_FAIL_TASK} different workers failed ${failure.frame_start === failure.frame_end ? "it" : "them"}, ` +
    "or none that may take them is left); " +
    `the last error: ${failure.error}`
  );
}

/** "Frame 3" or "Frames 1-4". */
function framesText(start: number, end: number): string {
  return start === end ? `Frame ${start}` : `Frames ${formatFrameRange({ start, end, step: 1 })}`;
}

const sentence = (text: string) => text.charAt(0).toUpperCase() + text.slice(1).replace(/[.\s]*$/, ".");

/** Why a failed render failed, from its `failed` event; null for a render failed before the event said why. */
function endedMessage(detail: Partial<RenderFailedDetail> | null | undefined): string | null {
  if (!detail?.because || detail.frameStart === undefined || detail.frameEnd === undefined) return null;
  const what = framesText(detail.frameStart, detail.frameEnd);
  const one = detail.frameStart === detail.frameEnd;
  const workers = detail.workers === 1 ? "1 worker" : `${detail.workers} workers`;
  switch (detail.because) {
    case "scene-error":
      return (
        `${what} ${one ? "has" : "have"} an error in the scene, which every worker would hit, so the render stopped at once: ` +
        `Blender says "${detail.line}". ${detail.advice ? sentence(detail.advice) : ""}`.trim()
      );
    case "workers":
      return `${what} failed on ${workers}; the last error: ${detail.error}`;
    case "no-other-worker":
      return (
        `${what} failed on ${workers}, and no other worker of yours may take ${one ? "it" : "them"} ` +
        `(enabled, able to render the scene, and not failed on ${one ? "it" : "them"}); the last error: ${detail.error}`
      );
    case "failure-limit":
      return (
        `The render failed ${detail.failures} times in all, the most a render may (${FAILURES_TO_FAIL_RENDER}); ` +
        `the last failure, on ${what.toLowerCase()}: ${detail.error}`
      );
    default:
      return null;
  }
}

/**
 * What each render's owner has to render it with: the claim's rules (db/sql/queue.ts),
 * counted; and other people's workers that may take it now (eligibility.ts), which
 * render it whatever the owner's farm lacks.
 */
const OWNERS_WORKERS = /* sql */ `
SELECT r.id AS render_id, r.needs_denoiser, r.engine, farm.*,
       (SELECT count(*)::int
          FROM (SELECT ${WORKER_FACTS} FROM workers src
                 WHERE src.enabled AND src.user_id <> r.created_by
                   AND src.user_id IN (SELECT k.user_id FROM render_request_acks k WHERE k.render_id = r.id AND k.decision = 'accepted')) w
         WHERE ${mayTakeRender(workerColumns("w"))}) AS helpers
  FROM renders r
 CROSS JOIN LATERAL (
   SELECT count(*)::int AS workers,
          count(*) FILTER (WHERE w.enabled)::int AS enabled,
          count(*) FILTER (WHERE w.enabled AND w.capabilities @> '{"denoiser": true}')::int AS with_denoiser,
          -- an agent that never said hello: its Blender may yet have a denoiser
          count(*) FILTER (WHERE w.enabled AND w.capabilities -> 'denoiser' IS NULL)::int AS unheard,
          count(*) FILTER (WHERE w.enabled AND ${engineAmong("r", WORKER_ENGINES("w"))})::int AS with_engine
     FROM workers w WHERE w.user_id = r.created_by) farm
 WHERE r.id = ANY($ids::bigint[])`;

interface FarmRow {
  render_id: number;
  needs_denoiser: boolean;
  engine: string | null;
  /** Other people's workers that may take it now. */
  helpers: number;
  workers: number;
  enabled: number;
  with_denoiser: number;
  unheard: number;
  with_engine: number;
}

/** Why a runnable render's queued frames wait for good unless the owner acts; null when some worker may take them. */
function waitingMessage(farm: FarmRow | undefined): string | null {
  if (!farm || farm.helpers > 0) return null;
  if (farm.workers === 0) {
    return "You have no workers to render it; add one on the Workers page (`cactus worker create NAME`) and start its agent.";
  }
  if (farm.enabled === 0) {
    return (
      "None of your workers is enabled; enable one on the Workers page (`cactus worker enable NAME`) " +
      "or add one (`cactus worker create NAME`)."
    );
  }
  if (farm.needs_denoiser && farm.with_denoiser === 0 && farm.unheard === 0) {
    return (
      "This scene denoises, and none of your enabled workers' Blender has a denoiser (OpenImageDenoise); " +
      "turn denoising off in the scene or add a worker whose Blender has one."
    );
  }
  if (farm.engine && farm.with_engine === 0) {
    const engine = engineLabel(farm.engine);
    return (
      `None of your enabled workers can render ${engine} (their agents rendered a test frame with each engine: ` +
      `\`cactus-agent doctor\` says why ${engine} failed); fix that machine, or add a worker that renders ${engine}.`
    );
  }
  return null;
}
