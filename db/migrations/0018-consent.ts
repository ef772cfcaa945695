import type { Migration } from "../migrate";
// Other people's workers with consent on both sides (issue 11, decision 025): a worker
// owner's standing rule, acknowledgements made by it, and what a claim of another
// person's render reads, indexed for the claim's third branch.
export const migration: Migration = {
  name: "0018-consent",
  sql: /* sql */ `
-- A worker owner's standing rule: accept every confirmed render that pays at least
-- min_price_milli per WU, from anyone (from_user_ids null) or from these people. It is
-- made into render_request_acks rows when a render is confirmed or its price changes and
-- when the rule is saved, so the claim joins acknowledgements and never reads rules.
CREATE TABLE request_rules (
  user_id bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  min_price_milli bigint NOT NULL CHECK (min_price_milli >= 0),
  from_user_ids bigint[],
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- An acknowledgement the rule made (by_rule) follows the rule and the price; one the
-- owner tapped stays.
ALTER TABLE render_request_acks ADD COLUMN by_rule boolean NOT NULL DEFAULT false;
-- The claim's third branch walks a worker owner's accepted renders.
CREATE INDEX render_request_acks_accepted_idx ON render_request_acks (user_id, render_id) WHERE decision = 'accepted';
-- A render's acknowledgements, for its owner's page.
CREATE INDEX render_request_acks_render_idx ON render_request_acks (render_id);
-- The worker's owner let it take other people's renders although its agent runs Blender
-- without the sandbox: they chose it knowingly (Workers page, worker create/update).
ALTER TABLE workers ADD COLUMN others_unsandboxed boolean NOT NULL DEFAULT false;
CREATE INDEX render_workers_worker_idx ON render_workers (worker_id);
`,
};
