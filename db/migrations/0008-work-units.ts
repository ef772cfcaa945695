import type { Migration } from "../migrate";

// Work units and the quote (issue 8, decisions 013 and 014): what an agent's benchmark
// measured, the frames a render samples first and whether its owner confirms the quote,
// each worker's speed on a render (calibrated from close frames), and the live estimate.
export const migration: Migration = {
  name: "0008-work-units",
  sql: /* sql */ `
-- The benchmark run behind each WUPM: one render of the reference frame (the median of
-- the renders in the run), how far those renders spread, and the run's wall time.
ALTER TABLE worker_benchmarks ADD COLUMN seconds real CHECK (seconds > 0);
ALTER TABLE worker_benchmarks ADD COLUMN renders integer CHECK (renders > 0);
ALTER TABLE worker_benchmarks ADD COLUMN spread real CHECK (spread >= 0);
ALTER TABLE worker_benchmarks ADD COLUMN wall_seconds real CHECK (wall_seconds > 0);

-- A render samples these frames first (domain/sampling.ts); empty when it skipped sampling.
ALTER TABLE renders ADD COLUMN sample_frames integer[] NOT NULL DEFAULT '{}';
-- The owner confirms the quote before the rest is rendered (render request --estimate-only).
ALTER TABLE renders ADD COLUMN estimate_only boolean NOT NULL DEFAULT false;

-- The WUPM a result's WU was priced with: wu = render minutes × wupm.
ALTER TABLE results ADD COLUMN wupm real CHECK (wupm > 0);
-- The estimate reads a render's new results since it last looked, by id.
CREATE INDEX results_render_id_idx ON results (render_id, id) WHERE accepted;

-- Each worker's speed on a render: calibrated from close frames, else its benchmark.
CREATE TABLE render_speeds (
  render_id bigint NOT NULL REFERENCES renders (id) ON DELETE CASCADE,
  worker_id bigint NOT NULL REFERENCES workers (id) ON DELETE CASCADE,
  wupm real NOT NULL CHECK (wupm > 0),
  calibrated boolean NOT NULL,
  close_frames integer NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (render_id, worker_id)
);
CREATE INDEX render_speeds_worker_idx ON render_speeds (worker_id);

-- The live estimate, kept apart from the render's row, which the queue's statements read
-- on every heartbeat: it is written after every accepted frame. bins are the results so
-- far (domain/estimate.ts), up to result last_result_id; while sampling, they are made
-- again from the sample frames at each one. renders.estimate keeps the quote.
CREATE TABLE render_estimates (
  render_id bigint PRIMARY KEY REFERENCES renders (id) ON DELETE CASCADE,
  sampling boolean NOT NULL,
  bins jsonb NOT NULL DEFAULT '[]'::jsonb,
  last_result_id bigint NOT NULL DEFAULT 0,
  estimate jsonb,
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO render_estimates (render_id, sampling) SELECT id, false FROM renders;
`,
};
