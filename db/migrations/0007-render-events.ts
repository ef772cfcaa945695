import type { Migration } from "../migrate";

// The render lifecycle's outbox (decision 012): every change of a render's status is a
// row here, written in the transaction that changes it (db/sql/render-status.ts), and a
// NOTIFY on commit. Live pages and notifications read what happened from here instead
// of guessing it from the render's current row.
export const migration: Migration = {
  name: "0007-render-events",
  sql: /* sql */ `
CREATE TABLE render_events (
  id bigserial PRIMARY KEY,
  render_id bigint NOT NULL REFERENCES renders (id) ON DELETE CASCADE,
  event text NOT NULL,
  -- Null for the first event, when the render was requested.
  from_status text,
  to_status text NOT NULL,
  -- What a person may be told about it (a web push): quote-ready, render-finished, …
  notice text,
  -- Why, when it says more than the status: the error that failed the render, and such.
  detail jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX render_events_render_idx ON render_events (render_id, id);
CREATE INDEX render_events_notice_idx ON render_events (id) WHERE notice IS NOT NULL;

-- Renders that exist already start their history where they are.
INSERT INTO render_events (render_id, event, from_status, to_status, created_at)
SELECT id, 'requested', NULL, status, created_at FROM renders;
`,
};
