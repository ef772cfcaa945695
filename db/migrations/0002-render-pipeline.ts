import type { Migration } from "../migrate";

// The render pipeline (issue 3): inspect tasks next to render tasks, the facts agents
// report, and the indexes the queue's statements (db/sql/queue.ts) are planned on.
export const migration: Migration = {
  name: "0002-render-pipeline",
  sql: /* sql */ `
-- An inspect task belongs to an archive (its owner's agents read the scene facts); a
-- render task to a render. Inspect tasks have no frames.
ALTER TABLE tasks ALTER COLUMN render_id DROP NOT NULL;
ALTER TABLE tasks ALTER COLUMN frame_start DROP NOT NULL;
ALTER TABLE tasks ALTER COLUMN frame_end DROP NOT NULL;
ALTER TABLE tasks ADD COLUMN archive_id bigint REFERENCES archives (id) ON DELETE CASCADE;
ALTER TABLE tasks ADD CONSTRAINT tasks_owner CHECK (CASE kind
  WHEN 'render' THEN render_id IS NOT NULL AND archive_id IS NULL
    AND frame_start IS NOT NULL AND frame_end IS NOT NULL
  WHEN 'inspect' THEN archive_id IS NOT NULL AND render_id IS NULL
  ELSE render_id IS NULL AND archive_id IS NULL
END);

-- A finished or cancelled task keeps its last lease, so the agent holding it learns on
-- its next heartbeat that it should stop (rather than only that its lease is stale).
ALTER TABLE tasks DROP CONSTRAINT tasks_lease_when_leased;
ALTER TABLE tasks ADD CONSTRAINT tasks_lease_when_leased CHECK (
  status <> 'leased' OR (lease_token IS NOT NULL AND worker_id IS NOT NULL AND lease_expires_at IS NOT NULL));

-- Inspect tasks fail too, outside any render.
ALTER TABLE task_failures ALTER COLUMN render_id DROP NOT NULL;

-- A render's tasks by status: the "all done?" check, the render's counts, and the
-- cascade when a render goes.
CREATE INDEX tasks_render_idx ON tasks (render_id, status);
CREATE INDEX tasks_archive_idx ON tasks (archive_id) WHERE archive_id IS NOT NULL;

-- The claim walks the worker owner's runnable renders by price (own workers take own
-- renders first, DESIGN §4), then takes each one's first claimable task through
-- tasks_claimable_idx. Other people's renders (the economy issue) walk renders_runnable_idx.
CREATE INDEX renders_owner_runnable_idx ON renders (created_by, price_milli DESC, created_at, id)
  WHERE status IN ('estimating', 'queued', 'rendering');

-- Inspection: set when the agent reported the scene facts or inspection failed for good.
ALTER TABLE archives ADD COLUMN inspected_at timestamptz;
ALTER TABLE archives ADD COLUMN inspection_error text;
-- The claim finds a worker owner's archives awaiting inspection without scanning all tasks.
CREATE INDEX archives_uninspected_idx ON archives (uploaded_by, id) WHERE inspected_at IS NULL;

-- What an agent says about itself in hello.
ALTER TABLE workers ADD COLUMN threads integer CHECK (threads > 0);
ALTER TABLE workers ADD COLUMN agent_version text;

-- Deleting tasks (with their render) cascades to results and detaches ledger entries;
-- without these each deleted task would scan those tables.
CREATE INDEX results_task_idx ON results (task_id);
CREATE INDEX ledger_entries_task_idx ON ledger_entries (task_id) WHERE task_id IS NOT NULL;
`,
};
