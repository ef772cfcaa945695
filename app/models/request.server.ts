import { QueryTypes } from "sequelize";
import type { RenderRequestCardDto, RequestRuleDto } from "../../contract";
import { applyRuleOfUser } from "../../db/sql/acknowledgements";
import { tellWaitingClaims } from "../../db/sql/work-signals";
import { countFrames, formatFrameRange } from "../../domain/frames";
import { toCredits, toMilli } from "../../domain/ledger";
import { UNFINISHED_RENDER_STATUSES } from "../../domain/render-lifecycle";
import { db } from "../lib/db.server";
import { Problem } from "../lib/problem.server";

// Requests (docs/design.md §5): other people's confirmed renders asking for a worker
// owner's machines, and the owner's answers — by hand, or by their standing rule
// (db/sql/acknowledgements.ts makes the rule into answers).

interface CardRow {
  render_id: number;
  owner: string;
  status: RenderRequestCardDto["status"];
  decision: "accepted" | "declined" | null;
  by_rule: boolean | null;
  price_milli: number;
  filename: string;
  engine: string | null;
  resolution_x: number | null;
  resolution_y: number | null;
  resolution_percentage: number | null;
  samples: number | null;
  frame_start: number;
  frame_end: number;
  frame_step: number;
  output_format: RenderRequestCardDto["scene"]["format"];
  size: number;
  has_scripts: boolean | null;
  estimate: { totalWu?: number; band?: { low: number; high: number } } | null;
  created_at: Date;
}

const UNFINISHED = UNFINISHED_RENDER_STATUSES.map((status) => `'${status}'`).join(", ");

/** Confirmed, unfinished renders of other people (only those asking have an escrow's frame cost). */
const CARDS = /* sql */ `
SELECT r.id AS render_id, u.username AS owner, r.status, k.decision, k.by_rule, r.price_milli,
       a.filename, a.engine, a.resolution_x, a.resolution_y, a.resolution_percentage, a.samples,
       r.frame_start, r.frame_end, r.frame_step, r.output_format, a.size, a.has_scripts, r.estimate, r.created_at
  FROM renders r
  JOIN users u ON u.id = r.created_by
  JOIN archives a ON a.id = r.archive_id
  LEFT JOIN render_request_acks k ON k.render_id = r.id AND k.user_id = :userId
 WHERE r.created_by <> :userId AND r.frame_cost_milli IS NOT NULL AND r.status IN (${UNFINISHED})`;

function card(row: CardRow): RenderRequestCardDto {
  const price = toCredits(Number(row.price_milli));
  const range = { start: row.frame_start, end: row.frame_end, step: row.frame_step };
  const band = row.estimate?.band;
  return {
    renderId: Number(row.render_id),
    owner: row.owner,
    status: row.status,
    decision: row.decision,
    byRule: row.by_rule ?? false,
    price,
    scene: {
      filename: row.filename,
      engine: row.engine,
      resolution:
        row.resolution_x && row.resolution_y
          ? `${row.resolution_x}×${row.resolution_y}${row.resolution_percentage && row.resolution_percentage !== 100 ? ` at ${row.resolution_percentage} %` : ""}`
          : null,
      samples: row.samples,
      frames: countFrames(range),
      frameRange: formatFrameRange(range),
      format: row.output_format,
      fileBytes: Number(row.size),
      hasScripts: row.has_scripts,
    },
    quote:
      band && row.estimate?.totalWu !== undefined
        ? { totalWu: row.estimate.totalWu, band, credits: band.high * price }
        : null,
    requestedAt: row.created_at.toISOString(),
  };
}

/** Requests to this user: those awaiting an answer first, then the answered, newest first. */
export async function listRequests(userId: number): Promise<RenderRequestCardDto[]> {
  const rows = await db().query<CardRow>(`${CARDS} ORDER BY k.decision IS NOT NULL, r.price_milli DESC, r.created_at DESC LIMIT 200`, {
    replacements: { userId },
    type: QueryTypes.SELECT,
  });
  return rows.map(card);
}

/** How many requests await this user's answer (the tab's badge). */
export async function countOpenRequests(userId: number): Promise<number> {
  const [row] = await db().query<{ count: number }>(`SELECT count(*)::int AS count FROM (${CARDS} AND k.decision IS NULL) open`, {
    replacements: { userId },
    type: QueryTypes.SELECT,
  });
  return row.count;
}

/** Accepts or declines a request; an answer by hand replaces one the rule made. */
export async function decideRequest(input: { userId: number; renderId: number; decision: "accepted" | "declined" }): Promise<RenderRequestCardDto> {
  const [row] = await db().query<CardRow>(`${CARDS} AND r.id = :renderId`, {
    replacements: { userId: input.userId, renderId: input.renderId },
    type: QueryTypes.SELECT,
  });
  if (!row) {
    throw new Problem("not_found", `No render ${input.renderId} asks for your workers; see \`cactus request list\`.`);
  }
  await db().query(
    `INSERT INTO render_request_acks (render_id, user_id, decision, by_rule, decided_at) VALUES (:renderId, :userId, :decision, false, now())
     ON CONFLICT (render_id, user_id) DO UPDATE SET decision = excluded.decision, by_rule = false, decided_at = now()`,
    { replacements: input },
  );
  // Accepted: this user's held claims may find its frames now.
  if (input.decision === "accepted") await tellWaitingClaims(db(), { userId: input.userId });
  return card({ ...row, decision: input.decision, by_rule: false });
}

export async function getRequestRule(userId: number): Promise<RequestRuleDto | null> {
  const [rule] = await db().query<{ min_price_milli: number; from: string[] | null }>(
    `SELECT q.min_price_milli,
            (SELECT array_agg(u.username ORDER BY u.username) FROM users u WHERE u.id = ANY (q.from_user_ids)) AS "from"
       FROM request_rules q WHERE q.user_id = :userId`,
    { replacements: { userId }, type: QueryTypes.SELECT },
  );
  if (!rule) return null;
  return { minPrice: toCredits(Number(rule.min_price_milli)), from: rule.from ?? (null as string[] | null) };
}

/** Saves the rule and makes it into answers for every render asking now. */
export async function setRequestRule(userId: number, rule: RequestRuleDto): Promise<RequestRuleDto | null> {
  let fromIds: number[] | null = null;
  if (rule.from !== null) {
    const users = await db().query<{ id: number; username: string }>(`SELECT id, username FROM users WHERE lower(username) IN (:names)`, {
      replacements: { names: rule.from.length > 0 ? rule.from.map((name) => name.toLowerCase()) : [""] },
      type: QueryTypes.SELECT,
    });
    const unknown = rule.from.filter((name) => !users.some((user) => user.username.toLowerCase() === name.toLowerCase()));
    if (unknown.length > 0) throw new Problem("unprocessable", `No user is called ${unknown.join(", ")}; check the names.`);
    fromIds = users.map((user) => Number(user.id));
  }
  await db().transaction(async (transaction) => {
    await db().query(
      `INSERT INTO request_rules (user_id, min_price_milli, from_user_ids, updated_at) VALUES (:userId, :minPrice, :fromIds::bigint[], now())
       ON CONFLICT (user_id) DO UPDATE SET min_price_milli = excluded.min_price_milli, from_user_ids = excluded.from_user_ids, updated_at = now()`,
      { replacements: { userId, minPrice: toMilli(rule.minPrice), fromIds: fromIds === null ? null : `{${fromIds.join(",")}}` }, transaction },
    );
    await applyRuleOfUser(db(), userId, transaction);
    await tellWaitingClaims(db(), { userId }, transaction);
  });
  return getRequestRule(userId);
}

export async function deleteRequestRule(userId: number): Promise<void> {
  await db().transaction(async (transaction) => {
    await db().query(`DELETE FROM request_rules WHERE user_id = :userId`, { replacements: { userId }, transaction });
    await applyRuleOfUser(db(), userId, transaction);
  });
}
