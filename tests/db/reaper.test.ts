import type { Sequelize } from "sequelize";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createAdvisoryLocks, type AdvisoryLocks } from "../../app/lib/advisory-locks.server";
import { connectDatabase } from "../../app/lib/db.server";
import { startLeaseReaper } from "../../app/lib/reaper.server";
import { claimTask } from "../../db/sql/queue";
import { createTestDatabase } from "../helpers/db";
import { farm } from "../helpers/farm";

let sequelize: Sequelize;
let databaseUrl: string;
let locks: AdvisoryLocks;

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  sequelize = connectDatabase(databaseUrl);
  locks = createAdvisoryLocks(databaseUrl);
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

test("one replica's reaper at a time: while another's runs, this one's ticks skip, and it takes over after", async () => {
  const f = farm(sequelize);
  const user = await f.user();
  const workerId = await f.worker(user);
  await f.render(user, { frames: "1" });
  const task = (await claimTask(sequelize, { workerId }))!;
  await sequelize.query(`UPDATE tasks SET lease_expires_at = now() - interval '1 second' WHERE id = $id`, { bind: { id: task.id } });
  const status = async () => (await f.one<{ status: string }>(`SELECT status FROM tasks WHERE id = $id`, { id: task.id })).status;

  // Another replica's reaper is running (its lock held until let go).
  const other = createAdvisoryLocks(databaseUrl);
  let letGo = () => undefined as void;
  const held = new Promise<void>((resolve) => (letGo = resolve));
  let running = () => undefined as void;
  const ran = new Promise<void>((resolve) => (running = resolve));
  const theirs = other.runAlone("lease-reaper", async () => {
    running();
    await held;
  });
  await ran;
  const logged: string[] = [];
  const reaper = startLeaseReaper(sequelize, locks, (message) => logged.push(message), 1);
  try {
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await status()).toBe("leased");
    expect(logged).toEqual([]);

    letGo();
    await theirs;
    const deadline = Date.now() + 5000;
    while ((await status()) === "leased" && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await status()).toBe("queued");
    expect(logged).toEqual(["Re-queued 1 task(s) whose lease expired."]);
  } finally {
    letGo();
    await theirs;
    await reaper.stop();
    await other.close();
  }
});
