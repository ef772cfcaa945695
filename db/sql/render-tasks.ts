import type { Sequelize } from "sequelize";
import { select, type Options } from "./common";
import { tellingWaitingClaims } from "./work-signals";

// A render's tasks as a whole, made at request (stopping them goes with the render's
// status: render-status.ts). The owner check is the caller's (app/models).

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
    tellingWaitingClaims(`INSERT INTO tasks AS t (archive_id, kind) VALUES ($archiveId, 'inspect') RETURNING t.id, t.render_id, t.archive_id`),
    { archiveId },
    transaction,
  );
  return task.id;
}
