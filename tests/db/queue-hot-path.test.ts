import type { Sequelize } from "sequelize";
import { afterAll, beforeAll, expect, test } from "vitest";
import { connectDatabase } from "../../app/lib/db.server";
import { claimTask, heartbeatTask } from "../../db/sql/queue";
import { createTestDatabase } from "../helpers/db";
import { farm, type Farm } from "../helpers/farm";

// What migration 0003 is for: a heartbeat rewrites no index entry. A database of its own,
// so the task's page has the room fillfactor keeps (a full page would move the row).

let sequelize: Sequelize;
let f: Farm;

beforeAll(async () => {
  sequelize = connectDatabase(await createTestDatabase());
  f = farm(sequelize);
});
afterAll(() => sequelize.close());

/** The task's row version: its page and its line on the page. */
const rowVersion = (taskId: number) =>
  f.one<{ page: number; line: number }>(
    `SELECT (ctid::text::point)[0]::int AS page, (ctid::text::point)[1]::int AS line FROM tasks WHERE id = $taskId`,
    { taskId },
  );

test("a heartbeat is a HOT update: the new row version stays on its page, with no new index entry", async () => {
  await sequelize.query("CREATE EXTENSION IF NOT EXISTS pageinspect");
  const user = await f.user();
  const workerId = await f.worker(user);
  await f.render(user, { frames: "1-4" });
  const task = (await claimTask(sequelize, { workerId }))!;
  const before = await rowVersion(task.id);

  const beat = await heartbeatTask(sequelize, { taskId: task.id, workerId, leaseToken: task.leaseToken, progress: 0.3 });

  expect(beat).toMatchObject({ keepRunning: true });
  const after = await rowVersion(task.id);
  expect(after.page).toBe(before.page);
  // The old version's line: the tuple marked HEAP_HOT_UPDATED (0x4000 in t_infomask2), or,
  // once the page was pruned, a redirect (lp_flags 2) to the new one. Both exist only for HOT.
  const old = await f.one<{ lp_flags: number; hot_updated: boolean }>(
    `SELECT lp_flags, coalesce(t_infomask2 & 16384 <> 0, false) AS hot_updated
       FROM heap_page_items(get_raw_page('tasks', $page)) WHERE lp = $line`,
    before,
  );
  expect(old.lp_flags === 2 || old.hot_updated).toBe(true);
});
