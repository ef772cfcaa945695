import type { Migration } from "../migrate";

// The same rules for tasks, at a fraction of their cost on the queue's hot path.
//
// Postgres reads every CHECK constraint of a table back from its stored text and plans
// it again for each UPDATE statement (ExecRelCheck: stringToNode, then ExecPrepareExpr),
// whichever columns the UPDATE sets, and prepared statements do not keep that work. With
// six constraints, a heartbeat (a one-row HOT update) ran 30 % slower than with none
// (pgbench, prepared, on the bench:claim farm). A domain's constraint is checked only
// when a value is assigned to the column, from a plan cached per backend: kind is never
// updated, status only by the claim and the statements that end a task. What is left as
// a CHECK is the rule of leases, on the columns the queue writes.
export const migration: Migration = {
  name: "0005-task-checks",
  sql: /* sql */ `
CREATE DOMAIN task_status AS text CHECK (VALUE IN ('queued', 'leased', 'done', 'failed', 'cancelled'));
CREATE DOMAIN task_kind AS text CHECK (VALUE IN ('render', 'inspect', 'benchmark'));
-- A share of something done: a task's progress.
CREATE DOMAIN fraction AS real CHECK (VALUE BETWEEN 0 AND 1);

ALTER TABLE tasks DROP CONSTRAINT tasks_status_check;
ALTER TABLE tasks DROP CONSTRAINT tasks_kind_check;
ALTER TABLE tasks DROP CONSTRAINT tasks_progress_check;
ALTER TABLE tasks ALTER COLUMN status TYPE task_status;
ALTER TABLE tasks ALTER COLUMN kind TYPE task_kind;
ALTER TABLE tasks ALTER COLUMN progress TYPE fraction;

-- The owner and frames a task's kind needs (and a frame range that is not reversed) are
-- written once, when the task is made: checked by a trigger that runs only when they
-- are written, not by a CHECK planned again on every heartbeat. 100 000 tasks in one
-- INSERT take 13 % longer; a heartbeat runs 10 % faster.
ALTER TABLE tasks DROP CONSTRAINT tasks_frame_range;
ALTER TABLE tasks DROP CONSTRAINT tasks_owner;
CREATE FUNCTION tasks_check_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.frame_end < NEW.frame_start OR NOT (CASE NEW.kind
       WHEN 'render' THEN NEW.render_id IS NOT NULL AND NEW.archive_id IS NULL
         AND NEW.frame_start IS NOT NULL AND NEW.frame_end IS NOT NULL
       WHEN 'inspect' THEN NEW.archive_id IS NOT NULL AND NEW.render_id IS NULL
       ELSE NEW.render_id IS NULL AND NEW.archive_id IS NULL
     END) THEN
    RAISE check_violation USING CONSTRAINT = 'tasks_owner', TABLE = 'tasks',
      MESSAGE = format('new row for relation "tasks" violates check constraint "tasks_owner": a %s task '
                       'with render %s, archive %s, frames %s-%s',
                       NEW.kind, NEW.render_id, NEW.archive_id, NEW.frame_start, NEW.frame_end);
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER tasks_owner BEFORE INSERT OR UPDATE OF kind, render_id, archive_id, frame_start, frame_end ON tasks
  FOR EACH ROW EXECUTE FUNCTION tasks_check_owner();
`,
};
