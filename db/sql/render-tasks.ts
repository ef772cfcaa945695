import type { Sequelize } from "sequelize";
import { renderStatusFromTasks, type TaskTally } from "../../app/domain/scheduler";
import type { RenderStatus, TaskStatus } from "../models";
import { RUNNABLE, select, type Options } from "./common";

// A render's tasks as a whole: made at request, stopped by the owner, and the render's
// status following from them. The owner check is the caller's (app/models).

/** Queues a render's tasks in one statement; returns how many. */
export async function createRenderTasks(
  sequelize: Sequelize,
  renderId: number,
  tasks: readonly { frameStart: number; frameEnd: number; isSample?: boolean }[],
  { transaction }: Options = {},
): Promise<number> {
  const created = await select(
    sequelize,
    /* sql */ `
INSERT INTO tasks (render_id, kind, frame_start, frame_end, is_sample)
SELECT $renderId, 'render', frame_start, frame_end, is_sample
  FROM unnest($starts::int[], $ends::int[], $samples::boolean[]) AS task (frame_start, frame_end, is_sample)
RETURNING id`,
    {
      renderId,
      starts: tasks.map((task) => task.frameStart),
      ends: tasks.map((task) => task.frameEnd),
      samples: tasks.map((task) => task.isSample ?? false),
    },
    transaction,
  );
  return created.length;
}

/** Queues the reading of an archive's scene facts by one of its owner's agents. */
export async function createInspectTask(sequelize: Sequelize, archiveId: number, { transaction }: Options = {}) {
  const [task] = await select<{ id: number }>(
    sequelize,
    `INSERT INTO tasks (archive_id, kind) VALUES ($archiveId, 'inspect') RETURNING id`,
    { archiveId },
    transaction,
  );
  return task.id;
}

/**
 * Cancels a render that has not finished, and with it its queued and leased tasks.
 * Cancelled tasks keep their lease, so their agents hear "stop" on the next heartbeat.
 * The render row is updated (locked) before its tasks: the lock order of common.ts.
 */
export async function cancelRender(sequelize: Sequelize, renderId: number): Promise<boolean> {
  const cancelled = await select(
    sequelize,
    /* sql */ `
WITH render AS (
  UPDATE renders SET status = 'cancelled', finished_at = now(), updated_at = now()
   WHERE id = $renderId AND status NOT IN ('done', 'cancelled', 'failed')
  RETURNING id
), tasks AS (
  UPDATE tasks SET status = 'cancelled', updated_at = now()
   WHERE render_id IN (SELECT id FROM render) AND status IN ('queued', 'leased')
)
SELECT id FROM render`,
    { renderId },
  );
  return cancelled.length > 0;
}

/** Stops handing out the render's tasks; agents hear "stop" and give theirs back. */
export async function pauseRender(sequelize: Sequelize, renderId: number): Promise<boolean> {
  const paused = await select(
    sequelize,
    `UPDATE renders SET status = 'paused', updated_at = now() WHERE id = $renderId AND status IN (${RUNNABLE}) RETURNING id`,
    { renderId },
  );
  return paused.length > 0;
}

/** Hands out a paused render's tasks again: 'rendering' once it had started, else 'queued'. */
export async function resumeRender(sequelize: Sequelize, renderId: number): Promise<boolean> {
  const resumed = await select(
    sequelize,
    /* sql */ `
UPDATE renders SET status = CASE WHEN started_at IS NULL THEN 'queued' ELSE 'rendering' END, updated_at = now()
 WHERE id = $renderId AND status = 'paused'
RETURNING id`,
    { renderId },
  );
  return resumed.length > 0;
}

/**
 * Sets the render's status from its tasks' (app/domain/scheduler renderStatusFromTasks)
 * and returns it. The render row is locked first, so two callers settle one after the other.
 */
export async function updateRenderStatusFromTasks(
  sequelize: Sequelize,
  renderId: number,
  { transaction }: Options = {},
): Promise<RenderStatus> {
  const settle = async (t = transaction) => {
    const [render] = await select<{ status: RenderStatus }>(
      sequelize,
      `SELECT status FROM renders WHERE id = $renderId FOR UPDATE`,
      { renderId },
      t,
    );
    const counts = await select<{ status: TaskStatus; count: number }>(
      sequelize,
      `SELECT status, count(*) AS count FROM tasks WHERE render_id = $renderId GROUP BY status`,
      { renderId },
      t,
    );
    const tally: TaskTally = { queued: 0, leased: 0, done: 0, failed: 0, cancelled: 0 };
    for (const { status, count } of counts) tally[status] = count;
    const status = renderStatusFromTasks(render.status, tally);
    if (status !== render.status) {
      await select(
        sequelize,
        /* sql */ `
UPDATE renders SET status = $status, updated_at = now(),
       started_at = CASE WHEN $status = 'rendering' THEN coalesce(started_at, now()) ELSE started_at END,
       finished_at = CASE WHEN $status IN ('done', 'failed') THEN now() ELSE finished_at END
 WHERE id = $renderId RETURNING id`,
        { renderId, status },
        t,
      );
    }
    return status;
  };
  return transaction ? settle() : sequelize.transaction((t) => settle(t));
}
