import type { Migration } from "../migrate";

// An agent pauses while its machine is busy with its owner's own work (docs/design.md §5):
// the worker says so at hello, with why, and the owner's lists show it "paused by its owner".
export const migration: Migration = {
  name: "0020-worker-paused",
  sql: /* sql */ `
ALTER TABLE workers DROP CONSTRAINT workers_status_check;
ALTER TABLE workers ADD CONSTRAINT workers_status_check
  CHECK (status IN ('idle', 'rendering', 'sleeping', 'paused', 'offline'));
-- What the agent said keeps it paused ("other programs keep 85 % of the CPU busy"); null otherwise.
ALTER TABLE workers ADD COLUMN paused_reason text CHECK (length(paused_reason) <= 300);
`,
};
