import type { Sequelize } from "sequelize";
import { afterAll, beforeAll, expect, test } from "vitest";
import { connectDatabase } from "../../app/lib/db.server";
import { select } from "../../db/sql/common";
import { mayTakeRender as mayTakeRenderSql, WORKER_FACTS, workerColumns } from "../../db/sql/eligibility";
import { claimTask } from "../../db/sql/queue";
import { BASE_FACTS, ELIGIBILITY_CASES, mayTakeRender, type EligibilityFacts } from "../../domain/eligibility";
import { FAILURES_TO_BLOCKLIST } from "../../domain/scheduler";
import { createTestDatabase } from "../helpers/db";
import { farm, type Farm } from "../helpers/farm";

// The table of domain/eligibility.ts, each case built in Postgres (its own people, worker
// and render): db/sql/eligibility.ts's condition decides it as the table says, and the
// claim hands the worker a task of the render exactly when it may (the escrow covers it).

let sequelize: Sequelize;
let f: Farm;

beforeAll(async () => {
  sequelize = connectDatabase(await createTestDatabase());
  f = farm(sequelize);
});
afterAll(() => sequelize.close());

/** The case's render owner, worker and render. */
async function build(facts: EligibilityFacts) {
  const owner = await f.user();
  await f.grant(owner, 100);
  const workerOwner = facts.own ? owner : await f.user();
  const workerId = await f.worker(workerOwner, { denoiser: facts.hasDenoiser });
  await f.all(
    `UPDATE workers SET capabilities = $caps, others_unsandboxed = $unsandboxed, wupm = $wupm WHERE id = $workerId RETURNING id`,
    {
      workerId,
      caps: JSON.stringify({
        denoiser: facts.hasDenoiser,
        engines: facts.hasEngine ? ["CYCLES", "BLENDER_EEVEE"] : ["BLENDER_EEVEE"],
        ...(facts.sandbox === null ? {} : { sandbox: facts.sandbox }),
      }),
      unsandboxed: facts.othersUnsandboxed,
      wupm: facts.benchmarked ? 60 : null,
    },
  );
  const renderId = facts.confirmed
    ? await f.confirmed(owner, { frames: "1-4", boundWu: 8, frameWu: 2 })
    : await f.render(owner, { frames: "1-4" });
  await f.all(`UPDATE renders SET status = $status, needs_denoiser = $denoiser, only_enabled_workers = $only, engine = 'CYCLES' WHERE id = $renderId RETURNING id`, {
    renderId,
    status: facts.status,
    denoiser: facts.needsDenoiser,
    only: facts.onlyEnabledWorkers,
  });
  if (facts.answer !== null) {
    await f.all(`INSERT INTO render_request_acks (render_id, user_id, decision) VALUES ($renderId, $workerOwner, $answer) RETURNING render_id`, {
      renderId,
      workerOwner,
      answer: facts.answer,
    });
  }
  if (facts.switched !== null) {
    await f.all(`INSERT INTO render_workers (render_id, worker_id, allowed) VALUES ($renderId, $workerId, $switched) RETURNING render_id`, {
      renderId,
      workerId,
      switched: facts.switched,
    });
  }
  for (let failure = 0; failure < facts.failures; failure++) {
    await f.all(
      `INSERT INTO task_failures (task_id, render_id, worker_id, error)
       SELECT id, render_id, $workerId, 'Blender quit' FROM tasks WHERE render_id = $renderId ORDER BY frame_start LIMIT 1 RETURNING id`,
      { renderId, workerId },
    );
  }
  return { workerId, renderId };
}

test.each(ELIGIBILITY_CASES.map((row) => [row.case, row.facts, row.may] as const))("%s: the SQL and the claim say %s", async (_case, partial, may) => {
  const facts = { ...BASE_FACTS, ...partial };
  expect(mayTakeRender(facts, FAILURES_TO_BLOCKLIST)).toBe(may);
  const { workerId, renderId } = await build(facts);
  const [row] = await select<{ may: boolean }>(
    sequelize,
    `SELECT ${mayTakeRenderSql(workerColumns("w"))} AS may
       FROM renders r, (SELECT ${WORKER_FACTS} FROM workers src WHERE src.id = $workerId) w WHERE r.id = $renderId`,
    { workerId, renderId, blocklistAfter: FAILURES_TO_BLOCKLIST },
  );
  expect(row.may).toBe(may);
  const task = await claimTask(sequelize, { workerId });
  expect(task?.renderId ?? null).toBe(may ? renderId : null);
});
