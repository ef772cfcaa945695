import type { Sequelize } from "sequelize";
import { afterAll, beforeAll, expect, test } from "vitest";
import { connectDatabase } from "../../app/lib/db.server";
import {
  applyRenderEvent,
  claimTask,
  completeTask,
  failTask,
  reapExpiredLeases,
  recordResult,
  type ClaimedTask,
} from "../../db/sql/queue";
import { grant } from "../../db/sql/ledger";
import { changePrice, topUpEscrow } from "../../db/sql/render-credits";
import { NotEnoughCredits } from "../../db/sql/render-status";
import { createTestDatabase } from "../helpers/db";
import { farm, type Farm } from "../helpers/farm";

// The ledger's property test (issue 11, decision 023): random completions, failures,
// lease expiries, cancels, price changes, top-ups and grants, run from several pool
// connections at once on the real Postgres; after each run the money adds up.

let sequelize: Sequelize;
let f: Farm;

beforeAll(async () => {
  sequelize = connectDatabase(await createTestDatabase());
  f = farm(sequelize);
});
afterAll(() => sequelize.close());

/** A small seeded generator (mulberry32): a failing run can be replayed from its seed. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)] };
}

const OPERATIONS = 240;
const LANES = 6;

async function worker(userId: number, sandbox: "bwrap" | "off") {
  const id = await f.worker(userId);
  await f.all(`UPDATE workers SET wupm = $wupm, capabilities = $caps WHERE id = $id RETURNING id`, {
    id,
    wupm: 30 + (id % 4) * 15,
    caps: JSON.stringify({ sandbox }),
  });
  return id;
}

function confirmedRender(owner: number, rng: ReturnType<typeof random>) {
  const frames = 10 + rng.int(30);
  const priceMilli = 200 + rng.int(3000);
  const chunk = 1 + rng.int(2);
  const frameWu = 0.5 + rng.next() * 2;
  return f.confirmed(owner, { frames: `1-${frames}`, priceMilli, chunk, frameWu, boundWu: frames * frameWu });
}

test(`${OPERATIONS} random operations from ${LANES} connections at once: the money adds up`, async () => {
  const seed = Number(process.env.CACTUS_PROPERTY_SEED ?? Date.now() % 1_000_000);
  const rng = random(seed);
  const owners = [await f.user(), await f.user(), await f.user()];
  const helpers = [await f.user(), await f.user()];
  let granted = 0;
  for (const owner of owners) {
    await f.grant(owner, 6000);
    granted += 6_000_000;
  }
  const workers: number[] = [];
  for (const helper of helpers) workers.push(await worker(helper, "bwrap"), await worker(helper, "bwrap"));
  for (const owner of owners) workers.push(await worker(owner, "bwrap"));
  const renders: number[] = [];
  for (let i = 0; i < 12; i += 1) renders.push(await confirmedRender(rng.pick(owners), rng));
  for (const render of renders) {
    for (const helper of helpers) {
      await f.all(`INSERT INTO render_request_acks (render_id, user_id, decision) VALUES ($render, $helper, 'accepted') RETURNING render_id`, {
        render,
        helper,
      });
    }
  }

  const counts: Record<string, number> = {};
  const unexpected: unknown[] = [];
  const count = (what: string) => (counts[what] = (counts[what] ?? 0) + 1);
  const renderFrames = async (task: ClaimedTask, workerId: number) => {
    const lease = { taskId: task.id, workerId, leaseToken: task.leaseToken };
    for (let frame = task.frameStart!; frame <= task.frameEnd!; frame += 1) {
      await recordResult(sequelize, lease, {
        frame,
        imageKey: `k${task.id}-${frame}`,
        imageBytes: 1,
        thumbnailKey: null,
        width: 1,
        height: 1,
        renderTimeMs: 200 + rng.int(4000),
        blenderVersion: null,
      });
    }
    return lease;
  };
  const operations: Record<string, () => Promise<void>> = {
    complete: async () => {
      const workerId = rng.pick(workers);
      const task = await claimTask(sequelize, { workerId });
      if (!task) return void count("nothing to claim");
      const answer = await completeTask(sequelize, await renderFrames(task, workerId));
      count(answer.ok ? "completion" : `completion ${answer.reason}`);
    },
    fail: async () => {
      const workerId = rng.pick(workers);
      const task = await claimTask(sequelize, { workerId });
      if (!task) return void count("nothing to claim");
      await failTask(sequelize, { taskId: task.id, workerId, leaseToken: task.leaseToken, error: "Blender crashed" });
      count("failure");
    },
    expire: async () => {
      const workerId = rng.pick(workers);
      const task = await claimTask(sequelize, { workerId });
      if (!task) return void count("nothing to claim");
      // Half the time a frame arrives before the lease runs out.
      if (rng.next() < 0.5) {
        const lease = { taskId: task.id, workerId, leaseToken: task.leaseToken };
        await recordResult(sequelize, lease, {
          frame: task.frameStart!,
          imageKey: `e${task.id}`,
          imageBytes: 1,
          thumbnailKey: null,
          width: 1,
          height: 1,
          renderTimeMs: 1000,
          blenderVersion: null,
        });
      }
      await f.all(`UPDATE tasks SET lease_expires_at = now() - interval '1 second' WHERE id = $id AND status = 'leased' RETURNING id`, { id: task.id });
      await reapExpiredLeases(sequelize);
      count("lease expiry");
    },
    cancel: async () => {
      if (rng.next() < 0.6) return void count("cancel skipped");
      await applyRenderEvent(sequelize, rng.pick(renders), "cancelled");
      count("cancel");
    },
    price: async () => {
      const render = rng.pick(renders);
      try {
        const changed = await sequelize.transaction((t) => changePrice(sequelize, render, 100 + rng.int(4000), t));
        count(changed.ok ? "price change" : `price change ${changed.reason}`);
      } catch (error) {
        if (!(error instanceof NotEnoughCredits)) throw error;
        count("price change refused");
      }
    },
    topUp: async () => {
      const render = rng.pick(renders);
      const [row] = await f.all<{ created_by: number }>(`SELECT created_by FROM renders WHERE id = $render`, { render });
      try {
        const topped = await sequelize.transaction((t) => topUpEscrow(sequelize, { id: render, ownerId: Number(row.created_by) }, 1 + rng.int(20_000), t));
        count(topped.ok ? "top-up" : `top-up ${topped.reason}`);
      } catch (error) {
        if (!(error instanceof NotEnoughCredits)) throw error;
        count("top-up refused");
      }
    },
    grant: async () => {
      const amount = 1 + rng.int(50_000);
      await sequelize.transaction((t) => grant(sequelize, rng.pick([...owners, ...helpers]), amount, t));
      granted += amount;
      count("grant");
    },
  };
  const weighted = [
    ...Array<string>(10).fill("complete"),
    ...Array<string>(2).fill("fail"),
    ...Array<string>(2).fill("expire"),
    "cancel",
    ...Array<string>(2).fill("price"),
    "topUp",
    "grant",
  ];
  // Operations that did something (not "nothing to claim", nor a skipped cancel).
  const effective = () =>
    Object.entries(counts).reduce((sum, [what, n]) => (what === "nothing to claim" || what === "cancel skipped" ? sum : sum + n), 0);
  let done = 0;
  await Promise.all(
    Array.from({ length: LANES }, async () => {
      while (effective() < OPERATIONS && done < OPERATIONS * 4) {
        done += 1;
        try {
          await operations[rng.pick(weighted)]();
        } catch (error) {
          unexpected.push(error);
        }
      }
    }),
  );
  // Whatever is left ends: cancelled, so every render has ended.
  for (const render of renders) await applyRenderEvent(sequelize, render, "cancelled");
  console.log(`ledger property test, seed ${seed}: ${JSON.stringify(counts)}`);

  expect(unexpected, `seed ${seed}`).toEqual([]);
  // The sum over all accounts is zero: the farm's account is minus everything it granted.
  const sums = await f.one<{ total: number; users: number; system: number; negative: number }>(
    `SELECT sum(balance_milli)::float8 AS total,
            sum(balance_milli) FILTER (WHERE kind <> 'system')::float8 AS users,
            sum(balance_milli) FILTER (WHERE kind = 'system')::float8 AS system,
            count(*) FILTER (WHERE kind <> 'system' AND balance_milli < 0)::int AS negative
       FROM accounts`,
  );
  const grants = await f.one<{ total: number }>(`SELECT coalesce(sum(amount_milli), 0)::float8 AS total FROM ledger_entries WHERE reason = 'grant'`);
  expect(grants.total).toBe(granted);
  expect(sums.total).toBe(0);
  expect(sums.users).toBe(granted);
  expect(sums.negative).toBe(0);
  // Each balance is what the ledger says it is.
  const drift = await f.all(
    `SELECT a.id FROM accounts a
      WHERE a.balance_milli <> coalesce((SELECT sum(amount_milli) FROM ledger_entries WHERE to_account_id = a.id), 0)
                             - coalesce((SELECT sum(amount_milli) FROM ledger_entries WHERE from_account_id = a.id), 0)`,
  );
  expect(drift).toEqual([]);
  // Every accepted frame from another person's worker at a price was paid exactly once;
  // own workers' frames never.
  const payments = await f.all<{ result_id: number; paid_by_helper: boolean; entries: number }>(
    `SELECT x.id AS result_id, w.user_id <> r.created_by AS paid_by_helper,
            (SELECT count(*)::int FROM ledger_entries e WHERE e.result_id = x.id AND e.reason = 'payment') AS entries
       FROM results x JOIN renders r ON r.id = x.render_id JOIN workers w ON w.id = x.worker_id
      WHERE x.accepted AND x.render_id = ANY ($renders::bigint[])`,
    { renders },
  );
  const helperFrames = payments.filter((row) => row.paid_by_helper);
  expect(helperFrames.length, "frames rendered by helpers").toBeGreaterThan(0);
  expect(helperFrames.filter((row) => row.entries !== 1)).toEqual([]);
  expect(payments.filter((row) => !row.paid_by_helper && row.entries !== 0)).toEqual([]);
  // Ended renders hold nothing in escrow.
  const held = await f.all(
    `SELECT r.id FROM renders r JOIN accounts a ON a.id = r.escrow_account_id
      WHERE r.id = ANY ($renders::bigint[]) AND r.status IN ('done', 'cancelled', 'failed') AND a.balance_milli <> 0`,
    { renders },
  );
  expect(held).toEqual([]);
  expect(effective()).toBeGreaterThanOrEqual(OPERATIONS);
  console.log(`ledger property test: ${effective()} operations that did something (${done} tried), ${helperFrames.length} frames paid to helpers, ${payments.length - helperFrames.length} own`);
}, 300_000);
