import type { Sequelize } from "sequelize";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { connectDatabase } from "../../app/lib/db.server";
import { readEstimates } from "../../db/sql/queue";
import { readWorkAhead } from "../../db/sql/work-ahead";
import { FAILURES_TO_BLOCKLIST } from "../../domain/scheduler";
import { workAhead, type QueuedRender } from "../../domain/work-ahead";
import { OFFLINE_AFTER_MS } from "../../domain/worker-status";
import { createTestDatabase } from "../helpers/db";
import { farm, type Farm } from "../helpers/farm";

// "Expected start at this price" on the real database: db/sql/work-ahead.ts against the
// rules of domain/work-ahead.ts, on one farm — who would take ada's render (her own
// workers; other people's by their answer, else their standing rule at the price), and
// what those workers hand out before it by the claim's order.

let sequelize: Sequelize;
let f: Farm;
const READ = { offlineAfterMs: OFFLINE_AFTER_MS, blocklistAfter: FAILURES_TO_BLOCKLIST };

beforeAll(async () => {
  sequelize = connectDatabase(await createTestDatabase());
  f = farm(sequelize);
});
afterAll(() => sequelize.close());

/** A worker online now at `wupm`; sandboxed unless said, so it may take other people's files. */
async function online(userId: number, wupm: number, { sandbox = "bwrap", seen = "now()" } = {}) {
  const id = await f.helperWorker(userId, { wupm, sandbox });
  await f.all(`UPDATE workers SET last_seen_at = ${seen}, status = 'idle' WHERE id = $id RETURNING id`, { id });
  return id;
}

const rule = (userId: number, minPriceMilli: number) =>
  f.all(`INSERT INTO request_rules (user_id, min_price_milli) VALUES ($userId, $minPriceMilli) RETURNING user_id`, { userId, minPriceMilli });
const answer = (renderId: number, userId: number, decision: "accepted" | "declined") =>
  f.all(`INSERT INTO render_request_acks (render_id, user_id, decision) VALUES ($renderId, $userId, $decision) RETURNING render_id`, {
    renderId,
    userId,
    decision,
  });

describe("ada's quoted render and the farm around it", () => {
  let ada: number, bo: number, cy: number, dee: number, eve: number, fay: number;
  let target: number;
  const ids: Record<string, number> = {};
  const speeds: Record<number, number> = {};

  beforeAll(async () => {
    [ada, bo, cy, dee, eve, fay] = await Promise.all([f.user(), f.user(), f.user(), f.user(), f.user(), f.user()]);
    const t0 = Date.now() - 3_600_000;
    const at = (minutes: number) => new Date(t0 + minutes * 60_000);
    // ada's render, quoted at 2 credits per WU.
    target = await f.render(ada, { priceMilli: 2000, status: "quoted", createdAt: at(30) });
    speeds[ada] = 4;
    await online(ada, 4);
    // bo accepts anything paying 1 or more; cy 5 or more.
    speeds[bo] = 6;
    await online(bo, 6);
    await rule(bo, 1000);
    speeds[cy] = 10;
    await online(cy, 10);
    await rule(cy, 5000);
    // dee's rule would accept it, but she declined it by hand.
    await online(dee, 20);
    await rule(dee, 0);
    await answer(target, dee, "declined");
    // eve's agent runs Blender without the sandbox, and she did not let it take others' files.
    await online(eve, 30, { sandbox: "off" });
    await rule(eve, 0);
    // fay's worker went offline an hour ago.
    await online(fay, 40, { seen: "now() - interval '1 hour'" });
    await rule(fay, 0);

    const queued = async (name: string, owner: number, priceMilli: number, minutes: number, { wu = 10 as number | null, asks = true, status = "queued" } = {}) => {
      ids[name] = await f.render(owner, { priceMilli, status: status as "queued", createdAt: at(minutes) });
      if (asks) await f.all(`UPDATE renders SET frame_cost_milli = 1 WHERE id = $id RETURNING id`, { id: ids[name] });
      if (wu !== null) {
        await f.all(`INSERT INTO render_estimates (render_id, sampling, estimate) VALUES ($id, false, $estimate) RETURNING render_id`, {
          id: ids[name],
          estimate: JSON.stringify({ remainingWu: wu }),
        });
      }
    };
    await queued("bo's own, cheap", bo, 100, 40, { wu: 5, asks: false });
    await queued("cy's dearer, bo accepted", cy, 3000, 40, { wu: 7 });
    await answer(ids["cy's dearer, bo accepted"], bo, "accepted");
    await queued("cy's dearer, nobody accepted", cy, 3000, 41, { wu: 100 });
    await queued("cy's cheaper, bo accepted", cy, 1000, 10, { wu: 11 });
    await answer(ids["cy's cheaper, bo accepted"], bo, "accepted");
    await queued("ada's own, same price, older", ada, 2000, 20, { wu: 3, asks: false });
    await queued("ada's own, same price, newer", ada, 2000, 50, { wu: 13, asks: false });
    await queued("cy's same price, older, bo accepted, unmeasured", cy, 2000, 5, { wu: null });
    await answer(ids["cy's same price, older, bo accepted, unmeasured"], bo, "accepted");
    await queued("cy's dearest, bo accepted, paused", cy, 10_000, 1, { status: "paused" });
    await answer(ids["cy's dearest, bo accepted, paused"], bo, "accepted");
  });

  /** The farm's renders that hand out work, as domain/work-ahead.ts takes them. */
  async function queue(): Promise<QueuedRender[]> {
    const rows = await f.all<{ id: string; owner: string; price: string; created: Date; accepted: string[] | null; asks: boolean; wu: number | null }>(
      `SELECT r.id, r.created_by AS owner, r.price_milli AS price, r.created_at AS created, r.frame_cost_milli IS NOT NULL AS asks,
              (SELECT array_agg(k.user_id::text) FROM render_request_acks k WHERE k.render_id = r.id AND k.decision = 'accepted') AS accepted,
              (SELECT (e.estimate ->> 'remainingWu')::float8 FROM render_estimates e WHERE e.render_id = r.id) AS wu
         FROM renders r WHERE r.status IN ('queued', 'rendering')`,
    );
    return rows.map((row) => ({
      id: Number(row.id),
      ownerId: Number(row.owner),
      priceMilli: Number(row.price),
      createdAt: row.created.getTime(),
      acceptedBy: (row.accepted ?? []).map(Number),
      asksOthers: row.asks,
      remainingWu: row.wu,
    }));
  }

  const names = (renderIds: number[]) => renderIds.map((id) => Object.keys(ids).find((name) => ids[name] === id)).sort();

  test.each([
    // [price, who would take it, what is ahead]
    [2000, () => [ada, bo], ["ada's own, same price, older", "bo's own, cheap", "cy's dearer, bo accepted", "cy's same price, older, bo accepted, unmeasured"]],
    [4000, () => [ada, bo], ["bo's own, cheap"]],
    // Dear enough for cy's rule: her workers would take it, after her own renders.
    [6000, () => [ada, bo, cy], ["bo's own, cheap", "cy's cheaper, bo accepted", "cy's dearer, bo accepted", "cy's dearer, nobody accepted", "cy's same price, older, bo accepted, unmeasured"]],
  ] as const)("at %i milli-credits per WU: SQL and the domain's rules agree", async (priceMilli, takers, expected) => {
    const sql = await readWorkAhead(sequelize, { renderId: target, priceMilli, ...READ });
    expect(names(sql.renderIds)).toEqual([...expected].sort());
    const r: QueuedRender = {
      id: target,
      ownerId: ada,
      priceMilli,
      createdAt: (await f.one<{ c: Date }>(`SELECT created_at AS c FROM renders WHERE id = $target`, { target })).c.getTime(),
      acceptedBy: [],
      asksOthers: true,
      remainingWu: null,
    };
    const domain = workAhead(r, await queue(), takers());
    expect(sql.renderIds).toEqual(domain.renderIds);
    expect(sql.wu).toBeCloseTo(domain.wu, 9);
    expect(sql.unmeasured).toBe(domain.unmeasured);
    expect([...sql.wupm].sort((a, b) => a - b)).toEqual(takers().map((user) => speeds[user]).sort((a, b) => a - b));
    expect(sql.othersWorkers).toBe(takers().filter((user) => user !== ada).length);
  });

  test("the ETA divides by the same workers: ada's and bo's, not dee's (declined), eve's (no sandbox) nor fay's (offline)", async () => {
    const stored = (await readEstimates(sequelize, [target], READ)).get(target)!;
    expect([...stored.onlineWupm].sort((a, b) => a - b)).toEqual([4, 6]);
  });
});
