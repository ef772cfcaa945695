import { QueryTypes } from "sequelize";
import type { RenderFailureListDto } from "../../contract";
import { db } from "../lib/db.server";
import { noSuchRender } from "./render.server";

// A render's failed tries as the agents reported them: what to read when a frame fails,
// Blender's own words included (the render's `failure` gives only the last error).

/** The newest failures a list holds: enough to see a pattern, few enough for a phone. */
export const FAILURES_LISTED = 100;

interface FailureRow {
  task_id: number;
  frame_start: number;
  frame_end: number;
  worker_name: string;
  error: string;
  log_tail: string | null;
  blames_worker: boolean;
  created_at: Date;
}

export async function listRenderFailures({ id, userId }: { id: number; userId: number }): Promise<RenderFailureListDto> {
  const [render] = await db().query<{ total: number }>(
    `SELECT (SELECT count(*)::int FROM task_failures f WHERE f.render_id = r.id) AS total
       FROM renders r WHERE r.id = :id AND r.created_by = :userId`,
    { replacements: { id, userId }, type: QueryTypes.SELECT },
  );
  if (!render) throw noSuchRender(id);
  if (render.total === 0) return { failures: [], total: 0 };
  const rows = await db().query<FailureRow>(
    /* sql */ `
SELECT f.task_id, t.frame_start, t.frame_end, w.name AS worker_name, f.error, f.log_tail, f.blames_worker, f.created_at
  FROM task_failures f
  JOIN tasks t ON t.id = f.task_id
  JOIN workers w ON w.id = f.worker_id
 WHERE f.render_id = :id
 ORDER BY f.created_at DESC, f.id DESC
 LIMIT :limit`,
    { replacements: { id, limit: FAILURES_LISTED }, type: QueryTypes.SELECT },
  );
  return {
    failures: rows.map((row) => ({
      taskId: row.task_id,
      frameStart: row.frame_start,
      frameEnd: row.frame_end,
      workerName: row.worker_name,
      error: row.error,
      logTail: row.log_tail,
      blame: row.blames_worker ? ("machine" as const) : ("scene" as const),
      at: row.created_at.toISOString(),
    })),
    total: render.total,
  };
}
