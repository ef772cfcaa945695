import type { Sequelize } from "sequelize";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { connectDatabase } from "../../app/lib/db.server";
import { applyRuleOfUser } from "../../db/sql/acknowledgements";
import {
  applyRenderEvent,
  claimTask,
  completeTask,
  confirmRender,
  recordResult,
  type ClaimedTask,
} from "../../db/sql/queue";
import { changePrice, topUpEscrow } from "../../db/sql/render-credits";
import { NotEnoughCredits } from "../../db/sql/render-status";
import { createTestDatabase } from "../helpers/db";
import { farm, type Farm } from "../helpers/farm";

// Credits on the real database (decision 023): the escrow on confirm, a payment in the
// transaction that accepts a frame from another person's worker, the escrow following the
// price, needs-credits and the top-up, and the release at the end; and the claim's
// consent on both sides (decision 025).

let sequelize: Sequelize;
let f: Farm;

beforeAll(async () => {
  sequelize = connectDatabase(await createTestDatabase());
  f = farm(sequelize);
});
afterAll(() => sequelize.close());

const balanceOf = async (userId: number) =>
  Number((await f.one<{ b: string }>(`SELECT balance_milli AS b FROM accounts WHERE kind = 'user' AND user_id = $userId`, { userId }))?.b ?? 0);
const escrowOf = async (renderId: number) =>
  Number(
    (await f.one<{ b: string | null }>(`SELECT a.balance_milli AS b FROM renders r LEFT JOIN accounts a ON a.id = r.escrow_account_id WHERE r.id = $renderId`, { renderId }))
      .b ?? 0,
  );
const statusOf = async (renderId: number) => (await f.one<{ status: string }>(`SELECT status FROM renders WHERE id = $renderId`, { renderId })).status;

const helperWorker = (userId: number, options?: { sandbox?: string }) => f.helperWorker(userId, options);
const confirmed = (owner: number, options?: Parameters<Farm["confirmed"]>[1]) => f.confirmed(owner, options);

const accept = (renderId: number, userId: number) =>
  sequelize.query(`INSERT INTO render_request_acks (render_id, user_id, decision) VALUES ($renderId, $userId, 'accepted')`, {
    bind: { renderId, userId },
  });

/** Renders the claimed task's frames in `seconds` each, uploads them and completes the task. */
async function renderTask(task: ClaimedTask, workerId: number, seconds = 1) {
  const lease = { taskId: task.id, workerId, leaseToken: task.leaseToken };
  for (let frame = task.frameStart!; frame <= task.frameEnd!; frame += 1) {
    const answer = await recordResult(sequelize, lease, {
      frame,
      imageKey: `renders/${task.renderId}-${frame}.png`,
      imageBytes: 100,
      thumbnailKey: null,
      width: 64,
      height: 48,
      renderTimeMs: seconds * 1000,
      blenderVersion: "3.4.1",
    });
    expect(answer).toMatchObject({ ok: true });
  }
  return completeTask(sequelize, lease);
}

describe("the escrow", () => {
  test("a confirm moves the quote's upper bound from the balance into the escrow; short of credits, nothing changes", async () => {
    const owner = await f.user();
    await f.grant(owner, 15);
    const render = await confirmed(owner, { boundWu: 10, priceMilli: 1000 });
    expect(await statusOf(render)).toBe("queued");
    expect(await escrowOf(render)).toBe(10_000);
    expect(await balanceOf(owner)).toBe(5_000);
    // The frame's worst cost is the quote's highest frame × 1.5, at the price.
    expect((await f.one<{ c: number }>(`SELECT frame_cost_milli AS c FROM renders WHERE id = $render`, { render })).c).toBe(1500);

    const second = await f.render(owner, { status: "quoted", priceMilli: 1000 });
    await sequelize.query(`UPDATE renders SET estimate = '{"band": {"high": 10}}' WHERE id = $second`, { bind: { second } });
    await expect(confirmRender(sequelize, second)).rejects.toBeInstanceOf(NotEnoughCredits);
    expect(await statusOf(second)).toBe("quoted");
    expect(await balanceOf(owner)).toBe(5_000);
  });

  test("own workers cost nothing; the escrow comes back when the render is done", async () => {
    const owner = await f.user();
    await f.grant(owner, 20);
    const worker = await helperWorker(owner);
    const render = await confirmed(owner, { frames: "1-3", boundWu: 10 });
    for (let task = await claimTask(sequelize, { workerId: worker }); task; task = await claimTask(sequelize, { workerId: worker })) {
      await renderTask(task, worker);
    }
    expect(await statusOf(render)).toBe("done");
    expect(await escrowOf(render)).toBe(0);
    expect(await balanceOf(owner)).toBe(20_000);
    const payments = await f.all(`SELECT 1 FROM ledger_entries WHERE render_id = $render AND reason = 'payment'`, { render });
    expect(payments).toHaveLength(0);
  });

  test("another person's frame pays WU × price to its owner in the transaction that accepts it, once; a cancel gives the rest back", async () => {
    const owner = await f.user();
    const helper = await f.user();
    await f.grant(owner, 50);
    const worker = await helperWorker(helper);
    const render = await confirmed(owner, { frames: "1-5", boundWu: 20, frameWu: 2, priceMilli: 1500 });
    await accept(render, helper);
    const task = (await claimTask(sequelize, { workerId: worker }))!;
    expect(task.renderId).toBe(render);
    // 2 s at 60 WUPM is 2 WU; at 1.5 credits per WU, 3 credits.
    await renderTask(task, worker, 2);
    expect(await balanceOf(helper)).toBe(3_000);
    expect(await escrowOf(render)).toBe(30_000 - 3_000);
    // The same frame again under the same lease (a retried upload) is not paid again.
    const lease = { taskId: task.id, workerId: worker, leaseToken: task.leaseToken };
    const again = await recordResult(sequelize, lease, {
      frame: task.frameStart!,
      imageKey: "x",
      imageBytes: 1,
      thumbnailKey: null,
      width: 64,
      height: 48,
      renderTimeMs: 2000,
      blenderVersion: null,
    });
    expect(again).toMatchObject({ ok: false, reason: "stale" });
    await applyRenderEvent(sequelize, render, "cancelled");
    expect(await escrowOf(render)).toBe(0);
    expect(await balanceOf(owner)).toBe(50_000 - 3_000);
    expect(await balanceOf(helper)).toBe(3_000);
  });

  test("the escrow follows the price; when it cannot pay a frame the render waits in needs-credits until a top-up", async () => {
    const owner = await f.user();
    const helper = await f.user();
    await f.grant(owner, 30);
    const worker = await helperWorker(helper);
    const render = await confirmed(owner, { frames: "1-10", boundWu: 10, frameWu: 1, priceMilli: 1000 });
    expect(await balanceOf(owner)).toBe(20_000);
    await sequelize.transaction((t) => changePrice(sequelize, render, 2000, t));
    expect(await escrowOf(render)).toBe(20_000);
    expect(await balanceOf(owner)).toBe(10_000);
    await sequelize.transaction((t) => changePrice(sequelize, render, 500, t));
    expect(await escrowOf(render)).toBe(5_000);
    expect(await balanceOf(owner)).toBe(25_000);
    await expect(sequelize.transaction((t) => changePrice(sequelize, render, 10_000, t))).rejects.toBeInstanceOf(NotEnoughCredits);
    expect(await escrowOf(render)).toBe(5_000);

    // Frames of 4 WU where the quote said 1: the escrow runs dry after one.
    await accept(render, helper);
    const task = (await claimTask(sequelize, { workerId: worker }))!;
    await renderTask(task, worker, 4);
    expect(await balanceOf(helper)).toBe(2_000);
    await renderTask((await claimTask(sequelize, { workerId: worker }))!, worker, 4);
    expect(await balanceOf(helper)).toBe(4_000);
    // 1 000 left, a frame may cost 750: one more, then it cannot pay. That frame's 2 000
    // are paid all the same: 1 000 from the escrow, the rest from the owner's balance.
    await renderTask((await claimTask(sequelize, { workerId: worker }))!, worker, 4);
    expect(await escrowOf(render)).toBe(0);
    expect(await balanceOf(helper)).toBe(6_000);
    expect(await balanceOf(owner)).toBe(24_000);
    expect(await statusOf(render)).toBe("needs-credits");
    expect(await claimTask(sequelize, { workerId: worker })).toBeNull();
    const notice = await f.one<{ notice: string }>(
      `SELECT notice FROM render_events WHERE render_id = $render ORDER BY id DESC LIMIT 1`,
      { render },
    );
    expect(notice.notice).toBe("needs-credits");

    await sequelize.transaction((t) => topUpEscrow(sequelize, { id: render, ownerId: owner }, 5_000, t));
    expect(await statusOf(render)).toBe("rendering");
    expect((await claimTask(sequelize, { workerId: worker }))?.renderId).toBe(render);
  });
});

describe("the claim: consent on both sides, then the price", () => {
  test("another person's render reaches a worker only once its owner accepted it, sandboxed, switched on, and covered", async () => {
    const owner = await f.user();
    const helper = await f.user();
    await f.grant(owner, 100);
    const sandboxed = await helperWorker(helper);
    const bare = await helperWorker(helper, { sandbox: "off" });
    const render = await confirmed(owner, { frames: "1-4", boundWu: 8, frameWu: 2 });
    expect(await claimTask(sequelize, { workerId: sandboxed })).toBeNull();
    await accept(render, helper);
    expect(await claimTask(sequelize, { workerId: bare })).toBeNull();
    // Its owner turned the sandbox off knowingly: then it may.
    await sequelize.query(`UPDATE workers SET others_unsandboxed = true WHERE id = $bare`, { bind: { bare } });
    expect((await claimTask(sequelize, { workerId: bare }))?.renderId).toBe(render);
    // The render's owner switches the sandboxed one off.
    await sequelize.query(`INSERT INTO render_workers (render_id, worker_id, allowed) VALUES ($render, $sandboxed, false)`, {
      bind: { render, sandboxed },
    });
    expect(await claimTask(sequelize, { workerId: sandboxed })).toBeNull();
    // Only workers I enable: the one switched on may, the others not.
    await sequelize.query(`UPDATE renders SET only_enabled_workers = true WHERE id = $render`, { bind: { render } });
    await sequelize.query(`UPDATE render_workers SET allowed = true WHERE render_id = $render`, { bind: { render } });
    expect((await claimTask(sequelize, { workerId: sandboxed }))?.renderId).toBe(render);
    expect(await claimTask(sequelize, { workerId: bare })).toBeNull();
  });

  test("an estimating render's samples, and a render without an escrow that covers the task, stay off other people's workers", async () => {
    const owner = await f.user();
    const helper = await f.user();
    await f.grant(owner, 3);
    const worker = await helperWorker(helper);
    const estimating = await f.render(owner, { status: "estimating", priceMilli: 1000 });
    await accept(estimating, helper);
    expect(await claimTask(sequelize, { workerId: worker })).toBeNull();
    // 3 credits of escrow; a task of 4 frames may cost 4 × 1.5.
    const chunky = await confirmed(owner, { frames: "1-4", chunk: 4, boundWu: 3, frameWu: 1 });
    await accept(chunky, helper);
    expect(await claimTask(sequelize, { workerId: worker })).toBeNull();
  });

  test("own renders first, then other people's by price, oldest first on a tie", async () => {
    const helper = await f.user();
    const [a, b] = [await f.user(), await f.user()];
    await f.grant(a, 100);
    await f.grant(b, 100);
    const worker = await helperWorker(helper);
    const cheapOld = await confirmed(a, { frames: "1-1", priceMilli: 1000 });
    const dearA = await confirmed(a, { frames: "1-1", priceMilli: 3000 });
    const dearB = await confirmed(b, { frames: "1-1", priceMilli: 3000 });
    for (const render of [cheapOld, dearA, dearB]) await accept(render, helper);
    await f.grant(helper, 10);
    const own = await confirmed(helper, { frames: "1-1", priceMilli: 0 });
    const order: number[] = [];
    for (let task = await claimTask(sequelize, { workerId: worker }); task; task = await claimTask(sequelize, { workerId: worker })) {
      order.push(task.renderId!);
    }
    expect(order).toEqual([own, dearA, dearB, cheapOld]);
  });

  test("a standing rule accepts confirmed renders at its price or more, from anyone or from whom it names, and follows the price", async () => {
    const owner = await f.user();
    const other = await f.user();
    const helper = await f.user();
    await f.grant(owner, 100);
    await sequelize.query(`INSERT INTO request_rules (user_id, min_price_milli) VALUES ($helper, 2000)`, { bind: { helper } });
    const dear = await confirmed(owner, { priceMilli: 2000 });
    const cheap = await confirmed(owner, { priceMilli: 1000 });
    const acks = () => f.all<{ render_id: string }>(`SELECT render_id FROM render_request_acks WHERE user_id = $helper ORDER BY render_id`, { helper });
    expect((await acks()).map((row) => Number(row.render_id))).toEqual([dear]);
    await sequelize.transaction((t) => changePrice(sequelize, cheap, 2500, t));
    await sequelize.transaction((t) => changePrice(sequelize, dear, 1500, t));
    expect((await acks()).map((row) => Number(row.render_id))).toEqual([cheap]);
    // Only from `other`: the owner's renders are no longer accepted by the rule.
    await sequelize.query(`UPDATE request_rules SET from_user_ids = ARRAY[$other::bigint] WHERE user_id = $helper`, { bind: { helper, other } });
    await sequelize.transaction((t) => applyRuleOfUser(sequelize, helper, t));
    expect(await acks()).toEqual([]);
  });
});
