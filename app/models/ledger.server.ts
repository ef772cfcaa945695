import type { Transaction } from "sequelize";
import { Account, LedgerEntry } from "../../db/models";
import { db } from "../lib/db.server";

/** Credits as people read them ↔ the integer milli-credits the ledger stores. */
export const toMilli = (credits: number): number => Math.round(credits * 1000);

/**
 * Grants credits from the system account (the only one allowed below zero) to a user's
 * account: a ledger entry plus both cached balances, inside the caller's transaction.
 */
export async function grantCredits(
  input: { userId: number; amountMilli: number },
  transaction: Transaction,
): Promise<void> {
  if (input.amountMilli <= 0) return;
  const [system, account] = await Promise.all([
    Account.findOne({ where: { kind: "system" }, transaction }),
    Account.findOne({ where: { kind: "user", userId: input.userId }, transaction }),
  ]);
  if (!system || !account) throw new Error(`No system account or no account for user ${input.userId}.`);
  await LedgerEntry.create(
    { fromAccountId: system.id, toAccountId: account.id, amountMilli: input.amountMilli, reason: "grant" },
    { transaction },
  );
  // Arithmetic in SQL, so concurrent moves on the same account never lose an update.
  await db().query(
    `UPDATE accounts SET balance_milli = balance_milli + CASE WHEN id = :to THEN :amount ELSE 0 - :amount END
     WHERE id IN (:from, :to)`,
    { replacements: { from: system.id, to: account.id, amount: input.amountMilli }, transaction },
  );
}
