import type { Sequelize } from "sequelize";
import { rows } from "./queue-postgres";

// The tables `npm run bench:claim` runs the queue on, made in SQL with generate_series
// (a million tasks in seconds). The shape of a busy farm: every user owns workers and
// renders in every status; of a user's runnable renders one is being rendered (a part
// done, workers holding leases on the next frames), one needs a denoiser that half the
// workers lack, one is an Eevee scene a third of them cannot render, some tasks were failed by some workers and a few workers are blocklisted
// from a render; an archive of every tenth user is being inspected. So the claim walks
// past renders and tasks it may not take, as it does on a real server.

export interface Farm {
  users: number;
  workersPerUser: number;
  rendersPerUser: number;
  tasksPerRender: number;
  /** One frame in this many failed once (keep tasksPerRender / this ≤ workersPerUser: no blocklist by these). */
  failureEvery: number;
  /** An accepted result for every frame of every queued task, so completing a task succeeds. */
  results: boolean;
}

/** The status of a user's r-th render (1-based): of five, three runnable. */
const RENDER_STATUSES = ["rendering", "queued", "done", "paused", "queued"];

export interface FarmCounts {
  users: number;
  workers: number;
  renders: number;
  runnableRenders: number;
  tasks: number;
  queuedTasks: number;
  leasedTasks: number;
  taskFailures: number;
  results: number;
}

export async function seedFarm(sequelize: Sequelize, farm: Farm): Promise<FarmCounts> {
  for (const value of Object.values(farm)) {
    if (typeof value === "number" && !(Number.isInteger(value) && value > 0)) throw new Error(`bad farm size ${JSON.stringify(farm)}`);
  }
  const { users: U, workersPerUser: W, rendersPerUser: R, tasksPerRender: T, failureEvery: F } = farm;
  const doneFrames = Math.floor(T * 0.4);
  const leasedFrames = Math.min(Math.ceil(W / 2), T - doneFrames);
  const statuses = `(ARRAY[${RENDER_STATUSES.map((status) => `'${status}'`).join(", ")}])[1 + (r - 1) % ${RENDER_STATUSES.length}]`;
  // Ids are given, so rows can name each other by arithmetic: user u's j-th worker is
  // (u-1)*W + j, its r-th render (u-1)*R + r, whose archive has the render's id.
  await sequelize.query(/* sql */ `
INSERT INTO users (id, username, password_hash) SELECT u, 'user' || u, 'x' FROM generate_series(1, ${U}) u;
INSERT INTO projects (id, user_id, name) SELECT u, u, 'films' FROM generate_series(1, ${U}) u;
INSERT INTO workers (id, user_id, name, token_hash, capabilities, status, last_seen_at, threads)
  SELECT (u - 1) * ${W} + j, u, 'machine ' || j, md5(u || '/' || j),
         -- Every third machine cannot render Eevee (its agent's engine test failed).
         jsonb_build_object('denoiser', j % 2 = 0, 'engines',
           CASE WHEN j % 3 = 0 THEN '["CYCLES", "BLENDER_WORKBENCH"]'::jsonb ELSE '["BLENDER_EEVEE", "BLENDER_WORKBENCH", "CYCLES"]'::jsonb END),
         'rendering', now(), 8
    FROM generate_series(1, ${U}) u, generate_series(1, ${W}) j;
INSERT INTO archives (id, project_id, uploaded_by, filename, hash, size, kind, storage_key, inspected_at,
                      resolution_x, resolution_y, resolution_percentage, frame_start, frame_end)
  SELECT (u - 1) * ${R} + r, u, u, 'shot' || r || '.blend', md5('a' || u || '/' || r) || md5('b' || u || '/' || r),
         50000000, 'blend', 'archives/' || u || '/' || r, now(), 1920, 1080, 50, 1, ${T}
    FROM generate_series(1, ${U}) u, generate_series(1, ${R}) r;
INSERT INTO renders (id, archive_id, project_id, created_by, frame_start, frame_end, output_format, status,
                     price_milli, needs_denoiser, engine, output_width, output_height, created_at, started_at)
  SELECT (u - 1) * ${R} + r, (u - 1) * ${R} + r, u, u, 1, ${T}, 'PNG', ${statuses},
         (r * 37 % 5) * 100, r % 5 = 2, CASE WHEN r % 5 = 0 THEN 'BLENDER_EEVEE' ELSE 'CYCLES' END, 960, 540,
         now() - (${R} - r) * interval '1 hour',
         CASE WHEN ${statuses} IN ('rendering', 'done', 'paused') THEN now() END
    FROM generate_series(1, ${U}) u, generate_series(1, ${R}) r;
INSERT INTO tasks (render_id, kind, frame_start, frame_end, status, worker_id, lease_token, lease_expires_at, attempts)
  SELECT render.id, 'render', f, f, s.status, w.worker_id,
         CASE WHEN s.status = 'leased' THEN gen_random_uuid() END,
         CASE WHEN s.status = 'leased' THEN now() + interval '10 minutes' END,
         CASE WHEN s.status IN ('leased', 'done') THEN 1 ELSE 0 END
    FROM renders render, generate_series(1, ${T}) f,
         LATERAL (SELECT CASE
           WHEN render.status = 'done' THEN 'done'
           WHEN render.status IN ('rendering', 'paused') AND f <= ${doneFrames} THEN 'done'
           WHEN render.status = 'rendering' AND f <= ${doneFrames + leasedFrames} THEN 'leased'
           ELSE 'queued' END AS status) s,
         LATERAL (SELECT CASE WHEN s.status IN ('leased', 'done')
           THEN (render.created_by - 1) * ${W} + 1 + f % ${W} END AS worker_id) w
   ORDER BY render.id, f;
-- Being inspected: an archive of every tenth user whose inspect task an agent holds.
INSERT INTO archives (id, project_id, uploaded_by, filename, hash, size, kind, storage_key)
  SELECT ${U * R} + u, u, u, 'new.blend', md5('new' || u) || md5('new2' || u), 1000, 'blend', 'archives/new/' || u
    FROM generate_series(1, ${U}, 10) u;
INSERT INTO tasks (archive_id, kind, status, worker_id, lease_token, lease_expires_at, attempts)
  SELECT id, 'inspect', 'leased', (uploaded_by - 1) * ${W} + 1, gen_random_uuid(), now() + interval '10 minutes', 1
    FROM archives WHERE inspected_at IS NULL;
-- Failures: one frame in ${F} of every render failed once on a worker of its owner (who
-- never gets that task again; a different worker for each, so none is blocklisted by
-- these), and every fifth worker is blocklisted from its owner's first render.
INSERT INTO task_failures (task_id, render_id, worker_id, error)
  SELECT t.id, t.render_id, (r.created_by - 1) * ${W} + 1 + (t.frame_start / ${F}) % ${W}, 'Error: out of memory'
    FROM tasks t JOIN renders r ON r.id = t.render_id
   WHERE t.frame_start % ${F} = 0;
INSERT INTO task_failures (task_id, render_id, worker_id, error)
  SELECT t.id, t.render_id, w.id, 'Error: out of memory'
    FROM renders r JOIN tasks t ON t.render_id = r.id AND t.frame_start <= 3
    JOIN workers w ON w.user_id = r.created_by AND w.id % 5 = 0
   WHERE r.id % ${R} = 1;
${
  farm.results
    ? `INSERT INTO results (task_id, render_id, frame, author_id, width, height, render_time_ms, accepted, image_key)
  SELECT t.id, t.render_id, t.frame_start, r.created_by, 960, 540, 20000, true, 'frames/' || t.id
    FROM tasks t JOIN renders r ON r.id = t.render_id WHERE t.status IN ('queued', 'done');`
    : ""
}
-- Past the given ids, should anything insert rows the usual way later.
SELECT setval(pg_get_serial_sequence(name, 'id'), 1000000000)
  FROM unnest(ARRAY['users', 'projects', 'workers', 'archives', 'renders']) name;
`);
  // As autovacuum would have left them: statistics, and a visibility map for index-only scans.
  await sequelize.query("VACUUM ANALYZE");
  return countFarm(sequelize);
}

export async function countFarm(sequelize: Sequelize): Promise<FarmCounts> {
  const [counts] = await rows<FarmCounts>(
    sequelize,
    /* sql */ `
SELECT (SELECT count(*) FROM users)::int AS users,
       (SELECT count(*) FROM workers)::int AS workers,
       (SELECT count(*) FROM renders)::int AS renders,
       (SELECT count(*) FROM renders WHERE status IN ('estimating', 'queued', 'rendering'))::int AS "runnableRenders",
       (SELECT count(*) FROM tasks)::int AS tasks,
       (SELECT count(*) FROM tasks WHERE status = 'queued')::int AS "queuedTasks",
       (SELECT count(*) FROM tasks WHERE status = 'leased')::int AS "leasedTasks",
       (SELECT count(*) FROM task_failures)::int AS "taskFailures",
       (SELECT count(*) FROM results)::int AS results`,
  );
  return counts;
}

/** The ids of every worker, for picking claimers at random. */
export async function workerIds(sequelize: Sequelize): Promise<number[]> {
  return (await rows<{ id: number }>(sequelize, "SELECT id FROM workers ORDER BY id")).map(({ id }) => id);
}

/**
 * The economy of issue 11 on a seeded farm: users of even id hand their renders to the
 * user before them, so half the workers belong to people with no renders of their own
 * and take other people's; renders pay one of 50 prices and hold an escrow; every such
 * helper accepted every other render of theirs (half of all), sandboxed, with a speed.
 * Claims then walk all three branches: own renders, then other people's by price.
 */
export async function addEconomy(sequelize: Sequelize): Promise<void> {
  await sequelize.query(/* sql */ `
UPDATE renders SET created_by = created_by - 1 WHERE created_by % 2 = 0;
UPDATE archives SET uploaded_by = uploaded_by - 1 WHERE uploaded_by % 2 = 0 AND id IN (SELECT archive_id FROM renders);
UPDATE renders SET price_milli = 100 * (1 + id % 50), frame_cost_milli = 1500;
WITH made AS (
  INSERT INTO accounts (kind, balance_milli) SELECT 'escrow', 1000000000 FROM renders ORDER BY id RETURNING id
), numbered AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM made),
   renders_numbered AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM renders)
UPDATE renders r SET escrow_account_id = numbered.id
  FROM renders_numbered JOIN numbered USING (n) WHERE r.id = renders_numbered.id;
UPDATE workers SET wupm = 10 + id % 7, capabilities = capabilities || '{"sandbox": "bwrap"}';
INSERT INTO render_request_acks (render_id, user_id, decision)
  SELECT r.id, u.id, 'accepted' FROM renders r, users u WHERE u.id % 2 = 0 AND (r.id + u.id / 2) % 2 = 0;
`);
  await sequelize.query("VACUUM ANALYZE");
}
