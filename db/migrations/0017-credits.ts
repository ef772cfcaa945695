import type { Migration } from "../migrate";
// Credits (issue 11, decision 023): what the claim needs to know a render's escrow can
// pay another person's worker, and what makes "each accepted frame is paid once" a
// rule of the database.
export const migration: Migration = {
  name: "0017-credits",
  sql: /* sql */ `
-- The most one frame of the render may cost at its price (domain/ledger.ts frameCostMilli),
-- set when its quote is confirmed and when its price changes. Null: it was not confirmed
-- against a quote (it is estimating, or skipped sampling), so only its owner's workers take it.
ALTER TABLE renders ADD COLUMN frame_cost_milli bigint CHECK (frame_cost_milli >= 0);
-- A payment names the result it pays for, and a result is paid at most once.
ALTER TABLE ledger_entries ADD COLUMN result_id bigint REFERENCES results (id) ON DELETE SET NULL;
CREATE UNIQUE INDEX ledger_entries_payment_key ON ledger_entries (result_id) WHERE reason = 'payment';
-- A render's moves (its page, the property test), and the Me page's ledger.
CREATE INDEX ledger_entries_render_idx ON ledger_entries (render_id) WHERE render_id IS NOT NULL;
-- The credits an invitation grants, shown on it; those made before granted the default.
ALTER TABLE invitations ADD COLUMN credits_milli bigint CHECK (credits_milli >= 0);
`,
};
