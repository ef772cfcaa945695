import { QueryTypes, type Transaction } from "sequelize";
import type { CreditsDto } from "../../contract";
import { grant } from "../../db/sql/ledger";
import { toCredits } from "../../domain/ledger";
import { db } from "../lib/db.server";
import { Problem } from "../lib/problem.server";

// A user's credits (docs/design.md §4, decision 023): their balance, what their
// unfinished renders hold in escrow, and the ledger's entries that touched either.

export { toMilli } from "../../domain/ledger";

/** Grants credits from the farm's account to a user's, inside the caller's transaction. */
export async function grantCredits(input: { userId: number; amountMilli: number }, transaction: Transaction): Promise<void> {
  await grant(db(), input.userId, input.amountMilli, transaction);
}

/** How many entries the ledger shows: the newest. */
export const LEDGER_PAGE = 100;

/** The user's balance, escrow and newest ledger entries (signed: + in, − out of their balance or escrow). */
export async function creditsOf(userId: number, { limit = LEDGER_PAGE } = {}): Promise<CreditsDto> {
  const [totals] = await db().query<{ balance: number | null; escrow: number | null }>(
    /* sql */ `
SELECT (SELECT balance_milli FROM accounts WHERE kind = 'user' AND user_id = :userId) AS balance,
       (SELECT sum(a.balance_milli) FROM renders r JOIN accounts a ON a.id = r.escrow_account_id
         WHERE r.created_by = :userId) AS escrow`,
    { replacements: { userId }, type: QueryTypes.SELECT },
  );
  // Every move of the user's balance (+ in, − out: grants, escrow taken and released,
  // payments earned) and every payment their renders' escrow made to a helper (−).
  const entries = await db().query<{ at: Date; amount: number; reason: string; render_id: number | null }>(
    /* sql */ `
WITH own AS (SELECT id FROM accounts WHERE kind = 'user' AND user_id = :userId),
escrows AS (SELECT escrow_account_id AS id FROM renders WHERE created_by = :userId AND escrow_account_id IS NOT NULL)
SELECT e.created_at AS at, e.reason, e.render_id,
       CASE WHEN e.to_account_id IN (SELECT id FROM own) THEN e.amount_milli ELSE -e.amount_milli END AS amount
  FROM ledger_entries e
 WHERE e.to_account_id IN (SELECT id FROM own) OR e.from_account_id IN (SELECT id FROM own)
    OR (e.reason = 'payment' AND e.from_account_id IN (SELECT id FROM escrows))
 ORDER BY e.id DESC
 LIMIT :limit`,
    { replacements: { userId, limit }, type: QueryTypes.SELECT },
  );
  return {
    balance: toCredits(Number(totals.balance ?? 0)),
    escrow: toCredits(Number(totals.escrow ?? 0)),
    entries: entries.map((entry) => ({
      at: entry.at.toISOString(),
      amount: toCredits(Number(entry.amount)),
      reason: entry.reason as CreditsDto["entries"][number]["reason"],
      render_id: entry.render_id === null ? null : Number(entry.render_id),
    })),
  };
}

/** An admin grants credits to a user by name. */
export async function adminGrant(input: { admin: { role: string }; username: string; amountMilli: number }): Promise<CreditsDto> {
  if (input.admin.role !== "admin") throw new Problem("forbidden", "Only an admin can grant credits.");
  const [user] = await db().query<{ id: number }>(`SELECT id FROM users WHERE lower(username) = lower(:username)`, {
    replacements: { username: input.username },
    type: QueryTypes.SELECT,
  });
  if (!user) throw new Problem("not_found", `No user is called ${input.username}; check the name with whoever asked.`);
  await db().transaction((transaction) => grant(db(), Number(user.id), input.amountMilli, transaction));
  return creditsOf(Number(user.id));
}
