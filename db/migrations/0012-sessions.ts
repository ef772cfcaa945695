import type { Migration } from "../migrate";

// Browser sessions as rows (decision 018): the cookie carries a random secret whose hash
// names a row here, so signing out, an expiry, "sign out that device" and a password
// change end a session for good, where a signed {"userId":N} cookie outlived them all.
export const migration: Migration = {
  name: "0012-sessions",
  sql: /* sql */ `
CREATE TABLE sessions (
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  secret_hash text NOT NULL UNIQUE,
  -- What the person sees in their list of signed-in devices.
  user_agent text CHECK (length(user_agent) <= 512),
  ip text CHECK (length(ip) <= 64),
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  -- The absolute end; the idle end is last_seen_at plus the idle limit, a setting.
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  ended_why text CHECK (ended_why IN ('signed-out', 'ended-elsewhere', 'password-changed')),
  CONSTRAINT sessions_ended_with_why CHECK ((revoked_at IS NULL) = (ended_why IS NULL))
);
CREATE INDEX sessions_user_live_idx ON sessions (user_id, last_seen_at) WHERE revoked_at IS NULL;
`,
};
