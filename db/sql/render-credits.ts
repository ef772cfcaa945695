import type { Sequelize, Transaction } from "sequelize";
import { escrowCovers, payableMilli, paymentMilli, paysWorkerOwner } from "../../domain/ledger";
import { applyRulesToRender } from "./acknowledgements";
import { select } from "./common";
import { isRenderFinished, type RenderStatus } from "../../domain/render-lifecycle";
import { applyEscrowPlan, escrowPlan, lockEscrow, lockUserAccount, lockUserAccounts, moveCredits, ownerCanPay } from "./ledger";
import { NotEnoughCredits, applyRenderEvent } from "./render-status";
import { tellWaitingClaims } from "./work-signals";

// A render's credits while it renders (docs/design.md §4, decision 023): each frame
// another person's worker rendered is paid from the escrow in the transaction that
// accepts it; a render whose escrow cannot pay its next frame waits in needs-credits.
// Every function takes its caller's transaction, whose first lock is the render's row.

export interface Payment {
  renderId: number;
  taskId: number;
  resultId: number;
  workerId: number;
  wu: number | null;
}

/**
 * Pays an accepted frame's WU × price from the render's escrow to the worker's owner,
 * when that is another person; then, if the escrow cannot pay for one more frame and
 * frames wait, the render runs out of credits. The payment names its result, which the
 * database lets be paid once.
 */
export async function payForResult(sequelize: Sequelize, payment: Payment, transaction: Transaction): Promise<void> {
  const [row] = await select<{ created_by: number; price_milli: string; frame_cost_milli: string | null; worker_owner: number }>(
    sequelize,
    `SELECT r.created_by, r.price_milli, r.frame_cost_milli, w.user_id AS worker_owner
       FROM renders r, workers w WHERE r.id = $renderId AND w.id = $workerId`,
    payment,
    transaction,
  );
  if (!row) return;
  const priceMilli = Number(row.price_milli);
  const renderOwnerId = Number(row.created_by);
  const workerOwnerId = Number(row.worker_owner);
  if (!paysWorkerOwner({ renderOwnerId, workerOwnerId, priceMilli }) || payment.wu === null) return;
  const escrow = await lockEscrow(sequelize, payment.renderId, transaction);
  const accounts = await lockUserAccounts(sequelize, [workerOwnerId, renderOwnerId], transaction);
  const helper = accounts.get(workerOwnerId)!;
  const owner = accounts.get(renderOwnerId)!;
  const due = paymentMilli(payment.wu, priceMilli);
  // From the escrow; a frame dearer than the escrow holds (far past its quote) takes the
  // rest from the owner's balance, which pays WU × price for every frame handed out.
  const fromEscrow = payableMilli(due, escrow.balanceMilli);
  const fromBalance = payableMilli(due - fromEscrow, owner.balanceMilli);
  const paid = { toAccountId: helper.id, reason: "payment" as const, renderId: payment.renderId, taskId: payment.taskId };
  // One entry of the two names the result (a result is paid once: ledger_entries_payment_key).
  const escrowNames = fromEscrow > 0;
  await moveCredits(
    sequelize,
    { ...paid, fromAccountId: escrow.id, amountMilli: fromEscrow, resultId: escrowNames ? payment.resultId : null },
    transaction,
  );
  await moveCredits(
    sequelize,
    { ...paid, fromAccountId: owner.id, amountMilli: fromBalance, resultId: escrowNames ? null : payment.resultId },
    transaction,
  );
  const amount = fromEscrow;
  const frameCost = row.frame_cost_milli === null ? null : Number(row.frame_cost_milli);
  if (frameCost === null || escrowCovers(escrow.balanceMilli - amount, 1, frameCost)) return;
  const [waiting] = await select<{ any: boolean }>(
    sequelize,
    `SELECT EXISTS (SELECT 1 FROM tasks WHERE render_id = $renderId AND status = 'queued') AS any`,
    payment,
    transaction,
  );
  if (waiting.any) await applyRenderEvent(sequelize, payment.renderId, "ran-out-of-credits", { transaction });
}

export type CreditsChange = { ok: true } | { ok: false; reason: "not-found" | "finished" };

async function lockRender(sequelize: Sequelize, renderId: number, transaction: Transaction) {
  const [render] = await select<{ status: RenderStatus; frame_cost_milli: string | null }>(
    sequelize,
    `SELECT status, frame_cost_milli FROM renders WHERE id = $renderId FOR UPDATE`,
    { renderId },
    transaction,
  );
  return render;
}

/** A render waiting for credits goes on once its escrow can pay for a frame again. */
async function creditIfCovered(sequelize: Sequelize, renderId: number, transaction: Transaction): Promise<void> {
  const [render] = await select<{ status: RenderStatus; frame_cost_milli: string | null; escrow_milli: string | null }>(
    sequelize,
    `SELECT r.status, r.frame_cost_milli, a.balance_milli AS escrow_milli
       FROM renders r LEFT JOIN accounts a ON a.id = r.escrow_account_id WHERE r.id = $renderId`,
    { renderId },
    transaction,
  );
  if (render.status !== "needs-credits") return;
  if (render.frame_cost_milli !== null && !escrowCovers(Number(render.escrow_milli ?? 0), 1, Number(render.frame_cost_milli))) return;
  await applyRenderEvent(sequelize, renderId, "credited", { transaction });
}

/**
 * A new price per WU, while the render is not finished. Once it holds an escrow, the
 * escrow follows the price: the quote's bound of the WU not yet rendered at the new
 * price, the difference taken from the owner's balance (NotEnoughCredits, nothing
 * changed, when it cannot) or given back. A render waiting for credits whose escrow now
 * covers a frame goes on.
 */
export async function changePrice(sequelize: Sequelize, renderId: number, priceMilli: number, transaction: Transaction): Promise<CreditsChange> {
  const render = await lockRender(sequelize, renderId, transaction);
  if (!render) return { ok: false, reason: "not-found" };
  if (isRenderFinished(render.status)) return { ok: false, reason: "finished" };
  if (render.frame_cost_milli === null) {
    // Not confirmed against a quote yet: there is no escrow to follow the price.
    await select(sequelize, `UPDATE renders SET price_milli = $priceMilli WHERE id = $renderId RETURNING id`, { renderId, priceMilli }, transaction);
    return { ok: true };
  }
  const plan = await escrowPlan(sequelize, renderId, transaction, priceMilli);
  if (!ownerCanPay(plan)) throw new NotEnoughCredits(plan.targetMilli - plan.escrowMilli, plan.ownerBalanceMilli);
  await applyEscrowPlan(sequelize, renderId, plan, transaction);
  await applyRulesToRender(sequelize, renderId, transaction);
  await creditIfCovered(sequelize, renderId, transaction);
  // Dearer, it may now be first for some worker, meet a standing rule, or be covered again.
  await tellWaitingClaims(sequelize, {}, transaction);
  return { ok: true };
}

/** Moves credits from the owner's balance into the render's escrow (a render waiting for credits goes on). */
export async function topUpEscrow(
  sequelize: Sequelize,
  render: { id: number; ownerId: number },
  amountMilli: number,
  transaction: Transaction,
): Promise<CreditsChange> {
  const row = await lockRender(sequelize, render.id, transaction);
  if (!row) return { ok: false, reason: "not-found" };
  if (isRenderFinished(row.status)) return { ok: false, reason: "finished" };
  const escrow = await lockEscrow(sequelize, render.id, transaction);
  const owner = await lockUserAccount(sequelize, render.ownerId, transaction);
  if (owner.balanceMilli < amountMilli) throw new NotEnoughCredits(amountMilli, owner.balanceMilli);
  await moveCredits(
    sequelize,
    { fromAccountId: owner.id, toAccountId: escrow.id, amountMilli, reason: "escrow", renderId: render.id },
    transaction,
  );
  await creditIfCovered(sequelize, render.id, transaction);
  // The escrow covers more of other people's workers' tasks now.
  await tellWaitingClaims(sequelize, {}, transaction);
  return { ok: true };
}
