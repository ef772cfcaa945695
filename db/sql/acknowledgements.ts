import type { Sequelize, Transaction } from "sequelize";
import { UNFINISHED_RENDER_STATUSES } from "../../domain/render-lifecycle";
import { select } from "./common";

// Worker owners' consent to other people's renders (docs/design.md §5, decision 025):
// render_request_acks rows, tapped by hand or made by a standing rule. The claim joins
// these rows and never reads a rule: a rule is made into rows when a render is confirmed
// or its price changes, and when the rule is saved.

const UNFINISHED = UNFINISHED_RENDER_STATUSES.map((status) => `'${status}'`).join(", ");

/** Rule q accepts render r at `price` (its own by default): at least the rule's price, from someone it names (or anyone). */
export const ruleMatches = (price = "r.price_milli") => `${price} >= q.min_price_milli
  AND (q.from_user_ids IS NULL OR r.created_by = ANY (q.from_user_ids)) AND q.user_id <> r.created_by`;
const RULE_MATCHES = ruleMatches();

/** Renders asking for other people's workers: confirmed with an escrow, not finished. */
const REQUESTING = `r.frame_cost_milli IS NOT NULL AND r.status IN (${UNFINISHED})`;

/**
 * Makes the standing rules' acknowledgements of renders (`where` over `r`, of the worker
 * owners `owner` picks) agree
 * with their rules: accepted where a rule matches and its owner did not decide by hand,
 * gone where a rule made one that no longer matches (the price fell, the rule changed).
 */
async function syncRules(
  sequelize: Sequelize,
  { where, owner }: { where: string; owner: (column: string) => string },
  bind: object,
  transaction: Transaction,
): Promise<void> {
  await select(
    sequelize,
    /* sql */ `
WITH dropped AS (
  DELETE FROM render_request_acks k USING renders r
   WHERE k.render_id = r.id AND k.by_rule AND ${where} AND ${owner("k.user_id")}
     AND NOT EXISTS (SELECT 1 FROM request_rules q WHERE q.user_id = k.user_id AND ${RULE_MATCHES} AND ${REQUESTING})
  RETURNING k.render_id
)
INSERT INTO render_request_acks (render_id, user_id, decision, by_rule)
SELECT r.id, q.user_id, 'accepted', true
  FROM renders r JOIN request_rules q ON ${RULE_MATCHES}
 WHERE ${REQUESTING} AND ${where} AND ${owner("q.user_id")}
ON CONFLICT (render_id, user_id) DO NOTHING
RETURNING render_id`,
    bind,
    transaction,
  );
}

/** After a render was confirmed or its price changed: the rules that accept it now, and no others. */
export function applyRulesToRender(sequelize: Sequelize, renderId: number, transaction: Transaction): Promise<void> {
  return syncRules(sequelize, { where: "r.id = $renderId", owner: () => "true" }, { renderId }, transaction);
}

/** After a worker owner saved (or removed) their rule: their acknowledgements by rule of every render asking. */
export function applyRuleOfUser(sequelize: Sequelize, userId: number, transaction: Transaction): Promise<void> {
  return syncRules(sequelize, { where: "r.created_by <> $userId", owner: (column) => `${column} = $userId` }, { userId }, transaction);
}
