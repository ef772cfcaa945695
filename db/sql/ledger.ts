import type { Sequelize, Transaction } from "sequelize";
import { escrowAdjustment, escrowTargetMilli, frameCostMilli } from "../../domain/ledger";
import { select } from "./common";

// Moving credits (decisions 002 and 023): every function here runs inside the
// transaction it is given and never opens one (decision 024), so a payment commits or
// rolls back with the result that earned it. The arithmetic is domain/ledger.ts's.

export type LedgerReason = "grant" | "escrow" | "release" | "payment";

export interface Move {
  fromAccountId: number;
  toAccountId: number;
  amountMilli: number;
  reason: LedgerReason;
  renderId?: number | null;
  taskId?: number | null;
  resultId?: number | null;
}

/**
 * One move: the ledger entry and both balances in one statement, the arithmetic in SQL
 * so concurrent moves never lose an update. A balance that would go below zero fails
 * the statement (accounts_balance_not_negative), whatever the caller checked. Nothing
 * moves for a zero amount.
 */
export async function moveCredits(sequelize: Sequelize, move: Move, transaction: Transaction): Promise<void> {
  if (move.amountMilli <= 0) return;
  await select(
    sequelize,
    /* sql */ `
WITH entry AS (
  INSERT INTO ledger_entries (from_account_id, to_account_id, amount_milli, reason, render_id, task_id, result_id)
  VALUES ($from, $to, $amount, $reason, $renderId, $taskId, $resultId)
  RETURNING id
)
UPDATE accounts SET balance_milli = balance_milli + CASE WHEN id = $to THEN $amount::bigint ELSE -$amount::bigint END
 WHERE id IN ($from, $to) AND EXISTS (SELECT 1 FROM entry)
RETURNING id`,
    {
      from: move.fromAccountId,
      to: move.toAccountId,
      amount: move.amountMilli,
      reason: move.reason,
      renderId: move.renderId ?? null,
      taskId: move.taskId ?? null,
      resultId: move.resultId ?? null,
    },
    transaction,
  );
}

export interface LockedAccount {
  id: number;
  balanceMilli: number;
}

/** A user's account, locked for the transaction (made if the user has none yet). */
export async function lockUserAccount(sequelize: Sequelize, userId: number, transaction: Transaction): Promise<LockedAccount> {
  await select(
    sequelize,
    `INSERT INTO accounts (kind, user_id) VALUES ('user', $userId) ON CONFLICT (user_id) WHERE kind = 'user' DO NOTHING RETURNING id`,
    { userId },
    transaction,
  );
  const [row] = await select<{ id: number; balance_milli: string | number }>(
    sequelize,
    `SELECT id, balance_milli FROM accounts WHERE kind = 'user' AND user_id = $userId FOR UPDATE`,
    { userId },
    transaction,
  );
  return { id: Number(row.id), balanceMilli: Number(row.balance_milli) };
}

/**
 * Several users' accounts, locked in id order (the lock order of decision 024: a
 * render's row, its escrow, then users' accounts by id, the farm's last), by user id.
 */
export async function lockUserAccounts(sequelize: Sequelize, userIds: number[], transaction: Transaction): Promise<Map<number, LockedAccount>> {
  const ids = [...new Set(userIds)];
  await select(
    sequelize,
    `INSERT INTO accounts (kind, user_id) SELECT 'user', unnest($userIds::bigint[]) ON CONFLICT (user_id) WHERE kind = 'user' DO NOTHING RETURNING id`,
    { userIds: ids },
    transaction,
  );
  const rows = await select<{ id: number; user_id: number; balance_milli: number }>(
    sequelize,
    `SELECT id, user_id, balance_milli FROM accounts WHERE kind = 'user' AND user_id = ANY ($userIds::bigint[]) ORDER BY id FOR UPDATE`,
    { userIds: ids },
    transaction,
  );
  return new Map(rows.map((row) => [Number(row.user_id), { id: Number(row.id), balanceMilli: Number(row.balance_milli) }]));
}

/** The farm's own account, which grants credits (the only one allowed below zero). */
export async function systemAccountId(sequelize: Sequelize, transaction: Transaction): Promise<number> {
  const [row] = await select<{ id: number }>(sequelize, `SELECT id FROM accounts WHERE kind = 'system'`, {}, transaction);
  return Number(row.id);
}

/**
 * The render's escrow account, locked, made on first use. The caller holds the render's
 * row lock (the lock order of common.ts: the render first), so two callers never make two.
 */
export async function lockEscrow(sequelize: Sequelize, renderId: number, transaction: Transaction): Promise<LockedAccount> {
  const [existing] = await select<{ id: number | null }>(
    sequelize,
    `SELECT escrow_account_id AS id FROM renders WHERE id = $renderId`,
    { renderId },
    transaction,
  );
  let id = existing?.id ?? null;
  if (id === null) {
    const [made] = await select<{ id: number }>(sequelize, `INSERT INTO accounts (kind) VALUES ('escrow') RETURNING id`, {}, transaction);
    id = Number(made.id);
    await select(sequelize, `UPDATE renders SET escrow_account_id = $id WHERE id = $renderId RETURNING id`, { id, renderId }, transaction);
  }
  const [row] = await select<{ balance_milli: string | number }>(
    sequelize,
    `SELECT balance_milli FROM accounts WHERE id = $id FOR UPDATE`,
    { id },
    transaction,
  );
  return { id: Number(id), balanceMilli: Number(row.balance_milli) };
}

/** Grants credits from the farm's account to a user's. */
export async function grant(sequelize: Sequelize, userId: number, amountMilli: number, transaction: Transaction): Promise<void> {
  const account = await lockUserAccount(sequelize, userId, transaction);
  await moveCredits(
    sequelize,
    { fromAccountId: await systemAccountId(sequelize, transaction), toAccountId: account.id, amountMilli, reason: "grant" },
    transaction,
  );
}

/**
 * Moves the render's escrow to hold `targetMilli`: more from the owner's balance
 * ('escrow'), or the excess back ('release'). The caller holds the render's row lock
 * and checked the owner can pay; the database refuses it otherwise.
 */
export async function setEscrow(
  sequelize: Sequelize,
  render: { id: number; ownerId: number },
  targetMilli: number,
  transaction: Transaction,
): Promise<void> {
  const escrow = await lockEscrow(sequelize, render.id, transaction);
  const owner = await lockUserAccount(sequelize, render.ownerId, transaction);
  const change = escrowAdjustment(escrow.balanceMilli, targetMilli);
  if (change > 0) {
    await moveCredits(sequelize, { fromAccountId: owner.id, toAccountId: escrow.id, amountMilli: change, reason: "escrow", renderId: render.id }, transaction);
  } else if (change < 0) {
    await moveCredits(sequelize, { fromAccountId: escrow.id, toAccountId: owner.id, amountMilli: -change, reason: "release", renderId: render.id }, transaction);
  }
}

export interface EscrowPlan {
  ownerId: number;
  priceMilli: number;
  maxCostMilli: number | null;
  /** What the escrow should hold now (domain escrowTargetMilli); 0 without a quote. */
  targetMilli: number;
  /** The most a frame may cost (domain frameCostMilli); null without a quote. */
  frameCostMilli: number | null;
  escrowMilli: number;
  ownerBalanceMilli: number;
}

/**
 * What the render's escrow should hold at `priceMilli` (its own price when not given):
 * the quote's upper bound less the WU rendered so far, and the most a frame may cost.
 * Locks the escrow and the owner's account (the caller holds the render's row).
 */
export async function escrowPlan(
  sequelize: Sequelize,
  renderId: number,
  transaction: Transaction,
  priceMilli?: number,
): Promise<EscrowPlan> {
  const [row] = await select<{ created_by: number; price_milli: string; max_cost_milli: string | null; bound_wu: number | null; done_wu: number; max_frame_wu: number | null }>(
    sequelize,
    /* sql */ `
SELECT r.created_by, r.price_milli, r.max_cost_milli, (r.estimate -> 'band' ->> 'high')::float8 AS bound_wu,
       (SELECT coalesce(sum(x.wu), 0)::float8 FROM results x WHERE x.render_id = r.id AND x.accepted) AS done_wu,
       (SELECT max((p ->> 'high')::float8) FROM render_estimates e, jsonb_array_elements(e.estimate -> 'curve') p
         WHERE e.render_id = r.id) AS max_frame_wu
  FROM renders r WHERE r.id = $renderId`,
    { renderId },
    transaction,
  );
  const price = priceMilli ?? Number(row.price_milli);
  const escrow = await lockEscrow(sequelize, renderId, transaction);
  const owner = await lockUserAccount(sequelize, Number(row.created_by), transaction);
  const quoted = row.bound_wu !== null;
  return {
    ownerId: Number(row.created_by),
    priceMilli: price,
    maxCostMilli: row.max_cost_milli === null ? null : Number(row.max_cost_milli),
    targetMilli: quoted ? escrowTargetMilli({ boundWu: row.bound_wu!, doneWu: row.done_wu, priceMilli: price }) : 0,
    frameCostMilli: quoted ? frameCostMilli(row.max_frame_wu ?? row.bound_wu!, price) : null,
    escrowMilli: escrow.balanceMilli,
    ownerBalanceMilli: owner.balanceMilli,
  };
}

/** Whether the owner's balance can bring the escrow up to the plan's target. */
export const ownerCanPay = (plan: EscrowPlan) => plan.targetMilli - plan.escrowMilli <= plan.ownerBalanceMilli;

/** Brings the escrow to the plan's target and records the frame's worst cost, for the claim. */
export async function applyEscrowPlan(sequelize: Sequelize, renderId: number, plan: EscrowPlan, transaction: Transaction): Promise<void> {
  await setEscrow(sequelize, { id: renderId, ownerId: plan.ownerId }, plan.targetMilli, transaction);
  await select(
    sequelize,
    `UPDATE renders SET frame_cost_milli = $frameCost, price_milli = $price WHERE id = $renderId RETURNING id`,
    { renderId, frameCost: plan.frameCostMilli, price: plan.priceMilli },
    transaction,
  );
}

/** Gives what is left in the render's escrow back to its owner (the render ended). */
export async function releaseEscrow(sequelize: Sequelize, renderId: number, transaction: Transaction): Promise<void> {
  const [render] = await select<{ created_by: number; escrow_account_id: number | null }>(
    sequelize,
    `SELECT created_by, escrow_account_id FROM renders WHERE id = $renderId`,
    { renderId },
    transaction,
  );
  if (!render || render.escrow_account_id === null) return;
  await setEscrow(sequelize, { id: renderId, ownerId: Number(render.created_by) }, 0, transaction);
}
