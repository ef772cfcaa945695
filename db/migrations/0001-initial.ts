import type { Migration } from "../migrate";

// The whole domain model of DESIGN §1. Later issues add behaviour, not tables, so the
// constraints that keep money and the queue honest live here from the start.
export const migration: Migration = {
  name: "0001-initial",
  sql: /* sql */ `
CREATE TABLE settings (
  key text PRIMARY KEY,
  value jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id bigserial PRIMARY KEY,
  username text NOT NULL CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{1,38}$'),
  password_hash text NOT NULL,
  role text NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'user')),
  notification_preferences jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));

-- Double-entry ledger: every user has an account, every render an escrow account, and
-- grants come from the one system account, the only one allowed below zero.
CREATE TABLE accounts (
  id bigserial PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('user', 'escrow', 'system')),
  user_id bigint REFERENCES users (id) ON DELETE CASCADE,
  balance_milli bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT accounts_balance_not_negative CHECK (kind = 'system' OR balance_milli >= 0),
  CONSTRAINT accounts_user_owner CHECK ((kind = 'user') = (user_id IS NOT NULL))
);
CREATE UNIQUE INDEX accounts_user_key ON accounts (user_id) WHERE kind = 'user';
INSERT INTO accounts (kind) VALUES ('system');

CREATE TABLE invitations (
  id bigserial PRIMARY KEY,
  from_user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  email text NOT NULL,
  code_hash text NOT NULL UNIQUE,
  expires_at timestamptz NOT NULL,
  used_by_user_id bigint REFERENCES users (id) ON DELETE SET NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invitations_from_user_idx ON invitations (from_user_id);

CREATE TABLE api_tokens (
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  token_hash text NOT NULL UNIQUE,
  last_used_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

CREATE TABLE projects (
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX projects_user_name_key ON projects (user_id, lower(name));

CREATE TABLE archives (
  id bigserial PRIMARY KEY,
  project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  uploaded_by bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  filename text NOT NULL,
  hash char(64) NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  size bigint NOT NULL CHECK (size > 0),
  kind text NOT NULL CHECK (kind IN ('blend', 'zip')),
  main_path text,
  storage_key text NOT NULL,
  blender_version text,
  compression text CHECK (compression IN ('none', 'gzip', 'zstd')),
  frame_start integer,
  frame_end integer,
  fps real,
  resolution_x integer,
  resolution_y integer,
  resolution_percentage integer,
  engine text,
  samples integer,
  denoising boolean,
  has_scripts boolean,
  scene_facts jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT archives_project_hash_key UNIQUE (project_id, hash),
  CONSTRAINT archives_zip_has_main CHECK (kind = 'blend' OR main_path IS NOT NULL)
);
CREATE INDEX archives_hash_idx ON archives (hash);

CREATE TABLE workers (
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  enabled boolean NOT NULL DEFAULT true,
  token_hash text NOT NULL UNIQUE,
  wupm real,
  blender_version text,
  capabilities jsonb NOT NULL DEFAULT '{}'::jsonb,
  schedule text,
  status text NOT NULL DEFAULT 'offline' CHECK (status IN ('idle', 'rendering', 'sleeping', 'offline')),
  last_seen_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX workers_user_name_key ON workers (user_id, lower(name));

CREATE TABLE worker_benchmarks (
  id bigserial PRIMARY KEY,
  worker_id bigint NOT NULL REFERENCES workers (id) ON DELETE CASCADE,
  wupm real NOT NULL CHECK (wupm > 0),
  blender_version text NOT NULL,
  hardware jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX worker_benchmarks_worker_idx ON worker_benchmarks (worker_id, created_at DESC);

CREATE TABLE renders (
  id bigserial PRIMARY KEY,
  archive_id bigint NOT NULL REFERENCES archives (id) ON DELETE RESTRICT,
  project_id bigint NOT NULL REFERENCES projects (id) ON DELETE RESTRICT,
  created_by bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  frame_start integer NOT NULL,
  frame_end integer NOT NULL,
  frame_step integer NOT NULL DEFAULT 1 CHECK (frame_step >= 1),
  chunk_size integer NOT NULL DEFAULT 1 CHECK (chunk_size >= 1),
  output_format text NOT NULL CHECK (output_format IN ('PNG', 'JPEG', 'OPEN_EXR')),
  status text NOT NULL CHECK (status IN ('estimating', 'quoted', 'queued', 'rendering', 'done',
    'paused', 'cancelled', 'failed', 'needs-credits')),
  price_milli bigint NOT NULL DEFAULT 0 CHECK (price_milli >= 0),
  max_cost_milli bigint CHECK (max_cost_milli >= 0),
  only_enabled_workers boolean NOT NULL DEFAULT false,
  needs_denoiser boolean NOT NULL DEFAULT false,
  escrow_account_id bigint REFERENCES accounts (id),
  estimate jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  CONSTRAINT renders_frame_range CHECK (frame_end >= frame_start)
);
CREATE INDEX renders_project_idx ON renders (project_id);
-- The claim walks runnable renders by price, oldest first.
CREATE INDEX renders_runnable_idx ON renders (price_milli DESC, created_at, id)
  WHERE status IN ('estimating', 'queued', 'rendering');

CREATE TABLE tasks (
  id bigserial PRIMARY KEY,
  render_id bigint NOT NULL REFERENCES renders (id) ON DELETE CASCADE,
  kind text NOT NULL DEFAULT 'render' CHECK (kind IN ('render', 'inspect', 'benchmark')),
  frame_start integer NOT NULL,
  frame_end integer NOT NULL,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'leased', 'done', 'failed', 'cancelled')),
  is_sample boolean NOT NULL DEFAULT false,
  worker_id bigint REFERENCES workers (id) ON DELETE SET NULL,
  lease_token uuid,
  lease_expires_at timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  progress real NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT tasks_frame_range CHECK (frame_end >= frame_start),
  CONSTRAINT tasks_lease_when_leased CHECK ((status = 'leased') = (lease_token IS NOT NULL))
);
-- The claim's scan: queued tasks of a render in frame order (samples first).
CREATE INDEX tasks_claimable_idx ON tasks (render_id, is_sample DESC, frame_start) WHERE status = 'queued';
-- The reaper's scan.
CREATE INDEX tasks_lease_expiry_idx ON tasks (lease_expires_at) WHERE status = 'leased';
CREATE INDEX tasks_worker_idx ON tasks (worker_id) WHERE status = 'leased';

CREATE TABLE task_failures (
  id bigserial PRIMARY KEY,
  task_id bigint NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  render_id bigint NOT NULL REFERENCES renders (id) ON DELETE CASCADE,
  worker_id bigint NOT NULL REFERENCES workers (id) ON DELETE CASCADE,
  error text NOT NULL,
  log_tail text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX task_failures_task_worker_idx ON task_failures (task_id, worker_id);
CREATE INDEX task_failures_render_worker_idx ON task_failures (render_id, worker_id);

CREATE TABLE render_request_acks (
  render_id bigint NOT NULL REFERENCES renders (id) ON DELETE CASCADE,
  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  decision text NOT NULL CHECK (decision IN ('accepted', 'declined')),
  decided_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (render_id, user_id)
);

CREATE TABLE render_workers (
  render_id bigint NOT NULL REFERENCES renders (id) ON DELETE CASCADE,
  worker_id bigint NOT NULL REFERENCES workers (id) ON DELETE CASCADE,
  allowed boolean NOT NULL,
  PRIMARY KEY (render_id, worker_id)
);

CREATE TABLE results (
  id bigserial PRIMARY KEY,
  task_id bigint NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  render_id bigint NOT NULL REFERENCES renders (id) ON DELETE CASCADE,
  frame integer NOT NULL,
  author_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  worker_id bigint REFERENCES workers (id) ON DELETE SET NULL,
  image_key text,
  thumbnail_key text,
  width integer,
  height integer,
  render_time_ms integer CHECK (render_time_ms >= 0),
  wu real CHECK (wu >= 0),
  blender_version text,
  accepted boolean NOT NULL,
  reject_reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT results_rejection_reason CHECK (accepted OR reject_reason IS NOT NULL)
);
-- A frame of a render is accepted exactly once.
CREATE UNIQUE INDEX results_accepted_frame_key ON results (render_id, frame) WHERE accepted;
CREATE INDEX results_worker_idx ON results (worker_id);
CREATE INDEX results_author_idx ON results (author_id, created_at);

CREATE TABLE ledger_entries (
  id bigserial PRIMARY KEY,
  from_account_id bigint NOT NULL REFERENCES accounts (id),
  to_account_id bigint NOT NULL REFERENCES accounts (id),
  amount_milli bigint NOT NULL CHECK (amount_milli > 0),
  reason text NOT NULL CHECK (reason IN ('grant', 'escrow', 'release', 'payment')),
  render_id bigint REFERENCES renders (id) ON DELETE SET NULL,
  task_id bigint REFERENCES tasks (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT ledger_entries_distinct_accounts CHECK (from_account_id <> to_account_id)
);
CREATE INDEX ledger_entries_from_idx ON ledger_entries (from_account_id, created_at);
CREATE INDEX ledger_entries_to_idx ON ledger_entries (to_account_id, created_at);

CREATE TABLE push_subscriptions (
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  endpoint text NOT NULL UNIQUE,
  p256dh text NOT NULL,
  auth text NOT NULL,
  user_agent text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX push_subscriptions_user_idx ON push_subscriptions (user_id);
`,
};
