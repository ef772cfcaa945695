import type { Sequelize } from "sequelize";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createAdvisoryLocks, type AdvisoryLocks } from "../../app/lib/advisory-locks.server";
import { connectDatabase } from "../../app/lib/db.server";
import { startLeaseReaper } from "../../app/lib/reaper.server";
import { claimTask } from "../../db/sql/queue";
import { createTestDatabase } from "../helpers/db";
import { farm } from "../helpers/farm";

let sequelize: Sequelize;
let locks: AdvisoryLocks;

beforeAll(async () => {
  const url = await createTestDatabase();
  sequelize = connectDatabase(url);
  locks = createAdvisoryLocks(url);
});
afterAll(async () => {
  await locks.close();
  await sequelize.close();
});

test("the server's reaper re-queues an expired lease within one 10 s tick", async () => {
  const f = farm(sequelize);
  const user = await f.user();
  const workerId = await f.worker(user);
  await f.render(user, { frames: "1" });
  const task = (await claimTask(sequelize, { workerId }))!;
  await sequelize.query(`UPDATE tasks SET lease_expires_at = now() - interval '1 second' WHERE id = $id`, {
    bind: { id: task.id },
  });
  const logged: string[] = [];
  const reaper = startLeaseReaper(sequelize, locks, (message) => logged.push(message));
  try {
    const deadline = Date.now() + 12_000;
    let status = "leased";
    while (status === "leased" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      status = (await f.one<{ status: string }>(`SELECT status FROM tasks WHERE id = $id`, { id: task.id })).status;
    }
    expect(status).toBe("queued");
    expect(logged).toEqual(["Re-queued 1 task(s) whose lease expired."]);
  } finally {
    await reaper.stop();
  }
});
