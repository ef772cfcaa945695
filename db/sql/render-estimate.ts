import type { Sequelize, Transaction } from "sequelize";
import { calibrate, type FrameTime, type WorkerSpeed } from "../../domain/calibration";
import { addResults, emptyBins, estimate, type Bin, type Estimate, type FrameWu } from "../../domain/estimate";
import type { FrameRange } from "../../domain/frames";
import { indexOf } from "../../domain/sampling";
import { select } from "./common";
import { mayTakeRender, WORKER_FACTS, workerColumns } from "./eligibility";

// The live estimate of a render (decision 013): after every accepted frame, the workers'
// speeds on it are calibrated again and the estimate made again — from a bounded read
// (its sample frames, its latest CALIBRATION_WINDOW frames, the results new since the
// last time), so a frame of a render of 100 000 costs what a frame of one of 100 does.
// None of it is on the queue's hot statements (claim, heartbeat, complete): it runs
// after a frame's upload was recorded, and at the end of sampling (the quote).

/** Frames read back to calibrate, besides the sample: the latest ones of the timeline done. */
export const CALIBRATION_WINDOW = 300;

/** Makes the render's estimate row; in the transaction that inserts the render. */
export async function createRenderEstimate(
  sequelize: Sequelize,
  renderId: number,
  { sampling, range }: { sampling: boolean; range: FrameRange },
  transaction: Transaction,
): Promise<void> {
  await select(
    sequelize,
    `INSERT INTO render_estimates (render_id, sampling, bins) VALUES ($renderId, $sampling, $bins::jsonb) RETURNING render_id`,
    { renderId, sampling, bins: JSON.stringify(emptyBins(range)) },
    transaction,
  );
}

interface EstimateRow {
  frame_start: number;
  frame_end: number;
  frame_step: number;
  sample_frames: number[];
  sampling: boolean | null;
  bins: Bin[] | null;
  last_result_id: string | null;
}

interface ResultRow {
  id: string;
  frame: number;
  worker_id: number | null;
  render_time_ms: number | null;
  wu: number | null;
}

/**
 * Calibrates the workers' speeds on the render and makes its estimate again from what is
 * new. While it samples, the sample frames' WU follow the calibration (it is made from
 * them); `endSampling` fixes them for good: the quote. Serialised per render by the lock
 * on its estimate row. Returns the estimate (null while no frame is measured).
 */
export async function refreshEstimate(
  sequelize: Sequelize,
  renderId: number,
  { transaction, endSampling = false }: { transaction?: Transaction; endSampling?: boolean } = {},
): Promise<Estimate | null> {
  const refresh = async (t: Transaction): Promise<Estimate | null> => {
    // Renders from before the estimate existed get their row now.
    await select(
      sequelize,
      `INSERT INTO render_estimates (render_id, sampling) VALUES ($renderId, false) ON CONFLICT DO NOTHING RETURNING render_id`,
      { renderId },
      t,
    );
    const [row] = await select<EstimateRow>(
      sequelize,
      /* sql */ `
SELECT r.frame_start, r.frame_end, r.frame_step, r.sample_frames, e.sampling, e.bins, e.last_result_id
  FROM render_estimates e JOIN renders r ON r.id = e.render_id
 WHERE e.render_id = $renderId
   FOR UPDATE OF e`,
      { renderId },
      t,
    );
    if (!row) return null;
    const range = { start: row.frame_start, end: row.frame_end, step: row.frame_step };
    const sample = row.sample_frames;

    const window = await calibrationWindow(sequelize, renderId, sample, t);
    const benchmarks = await benchmarksOf(sequelize, window, t);
    const speeds = calibrate(window.flatMap((result) => frameTime(range, result)), benchmarks);
    const wuOf = (result: ResultRow) => priced(result, speeds).wu;

    let bins: Bin[];
    let lastResultId = Number(row.last_result_id ?? 0);
    const sampling = row.sampling === true;
    if (sampling) {
      // The sample frames alone so far, each priced with the calibration they make.
      const sampled = window.filter((result) => sample.includes(result.frame));
      await repriceResults(sequelize, sampled, speeds, t);
      bins = addResults(range, emptyBins(range), sampled.map((result) => ({ frame: result.frame, wu: wuOf(result) ?? NaN })));
      lastResultId = Math.max(lastResultId, ...sampled.map((result) => Number(result.id)));
    } else {
      const fresh = row.bins?.length === emptyBins(range).length ? row.bins : null;
      // A render from before 0008 (no bins yet) is read whole, once.
      const added = await select<ResultRow>(
        sequelize,
        `SELECT id, frame, worker_id, render_time_ms, wu FROM results
          WHERE render_id = $renderId AND accepted AND id > $after ORDER BY id`,
        { renderId, after: fresh ? lastResultId : 0 },
        t,
      );
      bins = addResults(range, fresh ?? emptyBins(range), added.flatMap((result) => (result.wu === null ? [] : [{ frame: result.frame, wu: result.wu }])));
      if (added.length > 0) lastResultId = Number(added[added.length - 1].id);
    }

    const closeFrames: FrameWu[] = window.flatMap((result) => {
      const wu = wuOf(result);
      return wu === null ? [] : [{ frame: result.frame, wu }];
    });
    const made = estimate({ range, bins, sample, closeFrames });
    await saveSpeeds(sequelize, renderId, window, speeds, t);
    await select(
      sequelize,
      /* sql */ `
UPDATE render_estimates
   SET sampling = $sampling, bins = $bins::jsonb, last_result_id = $lastResultId, estimate = $estimate::jsonb, updated_at = now()
 WHERE render_id = $renderId RETURNING render_id`,
      {
        renderId,
        sampling: sampling && !endSampling,
        bins: JSON.stringify(bins),
        lastResultId,
        estimate: made === null ? null : JSON.stringify(made),
      },
      t,
    );
    return made;
  };
  return transaction ? refresh(transaction) : sequelize.transaction(refresh);
}

/** The results calibration reads: the sample frames' and the latest CALIBRATION_WINDOW frames of the timeline. */
async function calibrationWindow(sequelize: Sequelize, renderId: number, sample: number[], transaction: Transaction): Promise<ResultRow[]> {
  return select<ResultRow>(
    sequelize,
    /* sql */ `
(SELECT id, frame, worker_id, render_time_ms, wu FROM results
  WHERE render_id = $renderId AND accepted AND frame = ANY($sample::int[]))
UNION
(SELECT id, frame, worker_id, render_time_ms, wu FROM results
  WHERE render_id = $renderId AND accepted ORDER BY frame DESC LIMIT $window)`,
    { renderId, sample, window: CALIBRATION_WINDOW },
    transaction,
  );
}

async function benchmarksOf(sequelize: Sequelize, results: ResultRow[], transaction: Transaction): Promise<Map<number, number>> {
  const ids = [...new Set(results.flatMap((result) => (result.worker_id === null ? [] : [result.worker_id])))];
  if (ids.length === 0) return new Map();
  const rows = await select<{ id: number; wupm: number | null }>(
    sequelize,
    `SELECT id, wupm FROM workers WHERE id = ANY($ids::bigint[])`,
    { ids },
    transaction,
  );
  return new Map(rows.flatMap((row) => (row.wupm === null ? [] : [[Number(row.id), row.wupm] as const])));
}

function frameTime(range: FrameRange, result: ResultRow): FrameTime[] {
  if (result.worker_id === null || result.render_time_ms === null) return [];
  return [{ index: indexOf(range, result.frame), workerId: Number(result.worker_id), minutes: result.render_time_ms / 60_000 }];
}

/** A result's WU with the worker's speed now (null when its worker has none). */
function priced(result: ResultRow, speeds: Map<number, WorkerSpeed>): { wu: number | null; wupm: number | null } {
  const wupm = result.worker_id === null ? null : (speeds.get(Number(result.worker_id))?.wupm ?? null);
  if (wupm === null || result.render_time_ms === null) return { wu: result.wu, wupm: null };
  return { wu: (result.render_time_ms / 60_000) * wupm, wupm };
}

/** While sampling: the sample frames' WU with the calibration they make. */
async function repriceResults(sequelize: Sequelize, results: ResultRow[], speeds: Map<number, WorkerSpeed>, transaction: Transaction) {
  const repriced = results.flatMap((result) => {
    const { wu, wupm } = priced(result, speeds);
    return wupm === null ? [] : [{ id: result.id, wu: wu!, wupm }];
  });
  if (repriced.length === 0) return;
  await select(
    sequelize,
    /* sql */ `
UPDATE results x SET wu = p.wu, wupm = p.wupm
  FROM unnest($ids::bigint[], $wus::real[], $wupms::real[]) AS p (id, wu, wupm)
 WHERE x.id = p.id RETURNING x.id`,
    { ids: repriced.map((p) => p.id), wus: repriced.map((p) => p.wu), wupms: repriced.map((p) => p.wupm) },
    transaction,
  );
}

/** The speeds of the workers that rendered frames read here, for the next frames' WU and the ETA. */
async function saveSpeeds(
  sequelize: Sequelize,
  renderId: number,
  results: ResultRow[],
  speeds: Map<number, WorkerSpeed>,
  transaction: Transaction,
): Promise<void> {
  const ids = [...new Set(results.flatMap((result) => (result.worker_id === null ? [] : [Number(result.worker_id)])))].filter((id) =>
    speeds.has(id),
  );
  if (ids.length === 0) return;
  await select(
    sequelize,
    /* sql */ `
INSERT INTO render_speeds (render_id, worker_id, wupm, calibrated, close_frames)
SELECT $renderId, s.worker_id, s.wupm, s.calibrated, s.close_frames
  FROM unnest($ids::bigint[], $wupms::real[], $calibrated::boolean[], $closeFrames::int[]) AS s (worker_id, wupm, calibrated, close_frames)
ON CONFLICT (render_id, worker_id) DO UPDATE
   SET wupm = excluded.wupm, calibrated = excluded.calibrated, close_frames = excluded.close_frames, updated_at = now()
RETURNING worker_id`,
    {
      renderId,
      ids,
      wupms: ids.map((id) => speeds.get(id)!.wupm),
      calibrated: ids.map((id) => speeds.get(id)!.calibrated),
      closeFrames: ids.map((id) => speeds.get(id)!.closeFrames),
    },
    transaction,
  );
}

export interface StoredEstimate {
  renderId: number;
  estimate: Estimate | null;
  updatedAt: Date;
  /** The quote: the estimate when the sample frames were in (renders.estimate). */
  quote: (Omit<Estimate, "curve"> & { quotedAt: string }) | null;
  sampleFrames: number;
  sampleDone: number;
  /**
   * The WUPM of each worker online now that will take it (eligibility.ts, as a forecast:
   * the owner's, and other people's accepted or accepting by rule; its denoiser and
   * engine, not blocklisted): calibrated on it, else benchmarked.
   */
  onlineWupm: number[];
}

/** The stored estimates of these renders, with what the ETA divides by: the online eligible workers' speeds. */
export async function readEstimates(
  sequelize: Sequelize,
  renderIds: number[],
  { offlineAfterMs, blocklistAfter }: { offlineAfterMs: number; blocklistAfter: number },
): Promise<Map<number, StoredEstimate>> {
  if (renderIds.length === 0) return new Map();
  const rows = await select<{
    render_id: number;
    estimate: Estimate | null;
    updated_at: Date;
    quote: StoredEstimate["quote"];
    sample_frames: number;
    sample_done: number;
    online_wupm: number[] | null;
  }>(
    sequelize,
    /* sql */ `
SELECT r.id AS render_id, e.estimate, coalesce(e.updated_at, r.created_at) AS updated_at, r.estimate AS quote,
       cardinality(r.sample_frames) AS sample_frames,
       (SELECT count(*) FROM results x WHERE x.render_id = r.id AND x.accepted AND x.frame = ANY(r.sample_frames))::int AS sample_done,
       (SELECT array_agg(w.speed)
          FROM (SELECT ${WORKER_FACTS}, coalesce(s.wupm, src.wupm) AS speed
                  FROM workers src LEFT JOIN render_speeds s ON s.render_id = r.id AND s.worker_id = src.id
                 WHERE src.enabled AND src.status <> 'sleeping' AND src.last_seen_at > now() - make_interval(secs => $offlineSeconds)
                   AND coalesce(s.wupm, src.wupm) IS NOT NULL
                   -- Whose workers may take it at all, narrowed by index before the condition.
                   AND (src.user_id = r.created_by
                        OR src.user_id IN (SELECT k.user_id FROM render_request_acks k WHERE k.render_id = r.id)
                        OR src.user_id IN (SELECT q.user_id FROM request_rules q))) w
         WHERE ${mayTakeRender(workerColumns("w"), { forecast: true })}
       ) AS online_wupm
  FROM renders r LEFT JOIN render_estimates e ON e.render_id = r.id
 WHERE r.id = ANY($ids::bigint[])`,
    { ids: renderIds, offlineSeconds: offlineAfterMs / 1000, blocklistAfter },
  );
  return new Map(
    rows.map((row) => [
      Number(row.render_id),
      {
        renderId: Number(row.render_id),
        estimate: row.estimate,
        updatedAt: row.updated_at,
        quote: row.quote,
        sampleFrames: row.sample_frames,
        sampleDone: row.sample_done,
        onlineWupm: row.online_wupm ?? [],
      },
    ]),
  );
}
