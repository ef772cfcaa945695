import { QueryTypes } from "sequelize";
import type { RenderWorkersDto } from "../../contract";
import { tellWaitingClaims } from "../../db/sql/work-signals";
import { db } from "../lib/db.server";
import { Problem } from "../lib/problem.server";
import { requireRenderRow } from "./render.server";

// The workers on a render as its owner sees them (docs/design.md §5): their own, other
// people's whose owners accepted it, and any that rendered a frame of it; with the
// owner's switch for each (render_workers), which the claim reads.

export async function listRenderWorkers({ id, userId }: { id: number; userId: number }): Promise<RenderWorkersDto> {
  const render = await requireRenderRow({ id, userId });
  const rows = await db().query<{
    id: number;
    name: string;
    owner: string;
    mine: boolean;
    wupm: number | null;
    frames: number;
    wu: number;
    switched: boolean | null;
  }>(
    /* sql */ `
SELECT w.id, w.name, u.username AS owner, w.user_id = :userId AS mine, w.wupm,
       (SELECT count(*)::int FROM results x WHERE x.render_id = :id AND x.worker_id = w.id AND x.accepted) AS frames,
       (SELECT coalesce(sum(x.wu), 0)::float8 FROM results x WHERE x.render_id = :id AND x.worker_id = w.id AND x.accepted) AS wu,
       (SELECT rw.allowed FROM render_workers rw WHERE rw.render_id = :id AND rw.worker_id = w.id) AS switched
  FROM workers w JOIN users u ON u.id = w.user_id
 WHERE w.user_id = :userId
    OR EXISTS (SELECT 1 FROM render_request_acks k WHERE k.render_id = :id AND k.user_id = w.user_id AND k.decision = 'accepted')
    OR EXISTS (SELECT 1 FROM results x WHERE x.render_id = :id AND x.worker_id = w.id)
 ORDER BY w.user_id <> :userId, u.username, w.name`,
    { replacements: { id, userId }, type: QueryTypes.SELECT },
  );
  return {
    renderId: render.id,
    onlyEnabledWorkers: render.onlyEnabledWorkers,
    workers: rows.map((row) => ({
      id: Number(row.id),
      name: row.name,
      owner: row.owner,
      mine: row.mine,
      wupm: row.wupm,
      frames: row.frames,
      wu: row.wu,
      switched: row.switched,
      // The claim's default (db/sql/eligibility.ts): own workers on; others' on unless "only workers I enable".
      allowed: row.switched ?? (row.mine || !render.onlyEnabledWorkers),
    })),
  };
}

/** Switches a worker on or off for the render; the worker must be one listed on it. */
export async function switchRenderWorker(input: { id: number; userId: number; workerId: number; allowed: boolean }): Promise<RenderWorkersDto> {
  const listed = await listRenderWorkers({ id: input.id, userId: input.userId });
  if (!listed.workers.some((worker) => worker.id === input.workerId)) {
    throw new Problem(
      "not_found",
      `Worker ${input.workerId} is not on render ${input.id}: only your own and those whose owners accepted it are; see \`cactus render workers ${input.id}\`.`,
    );
  }
  await db().query(
    `INSERT INTO render_workers (render_id, worker_id, allowed) VALUES (:id, :workerId, :allowed)
     ON CONFLICT (render_id, worker_id) DO UPDATE SET allowed = excluded.allowed`,
    { replacements: input },
  );
  // Switched on: that worker's held claim may find it now.
  if (input.allowed) await tellWaitingClaims(db());
  return listRenderWorkers(input);
}
