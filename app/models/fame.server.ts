import { QueryTypes } from "sequelize";
import type { FameDto } from "../../contract";
import { db } from "../lib/db.server";

// The hall of fame: who rendered most for other people, person and machine, by WU and by
// render time, all time or the last 30 days; the longest such frame; the longest render,
// as WU vs time. All in SQL, paged; accepted frames only. A frame rendered on its owner's
// own machine is no contribution to the shared farm, and its machine's name stays theirs.

export const FAME_PAGE = 20;

interface ContributorRow {
  person: string;
  machine: string;
  wu: number;
  render_seconds: number;
  frames: number;
}

const since = (period: FameDto["period"]) => (period === "30d" ? "now() - interval '30 days'" : "'-infinity'::timestamptz");

async function contributors(period: FameDto["period"], order: "wu" | "render_seconds", page: number) {
  const rows = await db().query<ContributorRow>(
    /* sql */ `
SELECT u.username AS person, w.name AS machine, coalesce(sum(x.wu), 0)::float8 AS wu,
       coalesce(sum(x.render_time_ms), 0)::float8 / 1000 AS render_seconds, count(*)::int AS frames
  FROM results x JOIN workers w ON w.id = x.worker_id JOIN users u ON u.id = w.user_id JOIN renders r ON r.id = x.render_id
 WHERE x.accepted AND x.created_at >= ${since(period)} AND w.user_id <> r.created_by
 GROUP BY u.username, w.id, w.name
 ORDER BY ${order} DESC, w.id
 LIMIT :limit OFFSET :offset`,
    { replacements: { limit: FAME_PAGE, offset: (page - 1) * FAME_PAGE }, type: QueryTypes.SELECT },
  );
  return rows.map((row, index) => ({
    rank: (page - 1) * FAME_PAGE + index + 1,
    person: row.person,
    machine: row.machine,
    wu: row.wu,
    renderSeconds: row.render_seconds,
    frames: row.frames,
  }));
}

export async function getFame({ period, page }: { period: FameDto["period"]; page: number }): Promise<FameDto> {
  const [byWu, byTime, [longestFrame], [longestRender]] = await Promise.all([
    contributors(period, "wu", page),
    contributors(period, "render_seconds", page),
    db().query<{ person: string; machine: string; render_id: number; frame: number; seconds: number; wu: number | null }>(
      /* sql */ `
SELECT u.username AS person, w.name AS machine, x.render_id, x.frame, x.render_time_ms::float8 / 1000 AS seconds, x.wu
  FROM results x JOIN workers w ON w.id = x.worker_id JOIN users u ON u.id = w.user_id JOIN renders r ON r.id = x.render_id
 WHERE x.accepted AND x.render_time_ms IS NOT NULL AND x.created_at >= ${since(period)} AND w.user_id <> r.created_by
 ORDER BY x.render_time_ms DESC, x.id LIMIT 1`,
      { type: QueryTypes.SELECT },
    ),
    db().query<{ owner: string; render_id: number; seconds: number; wu: number; frames: number }>(
      /* sql */ `
SELECT u.username AS owner, r.id AS render_id, extract(epoch FROM r.finished_at - r.started_at)::float8 AS seconds,
       (SELECT coalesce(sum(x.wu), 0)::float8 FROM results x WHERE x.render_id = r.id AND x.accepted) AS wu,
       (SELECT count(*)::int FROM results x WHERE x.render_id = r.id AND x.accepted) AS frames
  FROM renders r JOIN users u ON u.id = r.created_by
 WHERE r.status = 'done' AND r.started_at IS NOT NULL AND r.finished_at >= ${since(period)}
 ORDER BY r.finished_at - r.started_at DESC, r.id LIMIT 1`,
      { type: QueryTypes.SELECT },
    ),
  ]);
  return {
    period,
    page,
    pageSize: FAME_PAGE,
    byWu,
    byTime,
    longestFrame: longestFrame
      ? {
          person: longestFrame.person,
          machine: longestFrame.machine,
          renderId: Number(longestFrame.render_id),
          frame: longestFrame.frame,
          seconds: longestFrame.seconds,
          wu: longestFrame.wu,
        }
      : null,
    longestRender: longestRender
      ? { owner: longestRender.owner, renderId: Number(longestRender.render_id), seconds: longestRender.seconds, wu: longestRender.wu, frames: longestRender.frames }
      : null,
  };
}
