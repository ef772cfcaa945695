import type { Migration } from "../migrate";

// Web push (docs/design.md §6; decision 021): what a person switched off, the events of
// workers (the render lifecycle has its outbox already, render_events), a cursor per
// source so each event is read once across restarts and replicas, and the pushes not
// yet delivered to a push service.
export const migration: Migration = {
  name: "0015-push",
  sql: /* sql */ `
-- Events a person does not want pushed (domain/notifications.ts names them); kept as what
-- is off, so an event added later is on until switched off.
CREATE TABLE push_preferences (
  user_id bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  muted text[] NOT NULL DEFAULT '{}',
  updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE push_subscriptions ADD COLUMN last_sent_at timestamptz;

-- What happened to a worker that its owner may be told about: 'went-offline' (the lease
-- reaper's pass sees its agent silent) and 'keeps-failing' (its tasks fail in a row).
CREATE TABLE worker_events (
  id bigserial PRIMARY KEY,
  worker_id bigint NOT NULL REFERENCES workers (id) ON DELETE CASCADE,
  event text NOT NULL CHECK (event IN ('went-offline', 'keeps-failing')),
  detail jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX worker_events_worker_idx ON worker_events (worker_id, event, id);
-- "Keeps failing" counts a worker's recent failures.
CREATE INDEX task_failures_worker_idx ON task_failures (worker_id, created_at);

-- How far each source has been read into push_deliveries. A replica reads a source only
-- while it holds its row (FOR UPDATE SKIP LOCKED), and moves the cursor in the same
-- transaction as the deliveries it writes. Events from before push existed are not sent.
CREATE TABLE push_cursors (
  source text PRIMARY KEY,
  last_id bigint NOT NULL
);
INSERT INTO push_cursors (source, last_id)
VALUES ('render_events', coalesce((SELECT max(id) FROM render_events), 0)), ('worker_events', 0);

-- A push to one subscription, until its push service took it (or it gave up). Senders on
-- any replica take due rows with SKIP LOCKED and push them off the request path.
CREATE TABLE push_deliveries (
  id bigserial PRIMARY KEY,
  subscription_id bigint NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
  message jsonb NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX push_deliveries_due_idx ON push_deliveries (next_attempt_at);
`,
};
