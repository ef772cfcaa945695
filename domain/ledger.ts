// The arithmetic of credits (docs/design.md §4, decisions 002 and 023): amounts are whole
// milli-credits, a price is milli-credits per WU, and each amount is rounded once, here.
// db/sql/ledger.ts moves what these functions compute, inside its caller's transaction.

export const MILLI_PER_CREDIT = 1000;

/** Credits as people type them → whole milli-credits (half up). */
export function toMilli(credits: number): number {
  return Math.round(credits * MILLI_PER_CREDIT);
}

export function toCredits(milli: number): number {
  return milli / MILLI_PER_CREDIT;
}

// Products of floats land a hair above a whole number (0.1 × 30 = 3.0000000000000004): a
// bound rounded up must not take a milli-credit more for that.
const EPSILON = 1e-9;
const ceilMilli = (value: number) => Math.max(0, Math.ceil(value - EPSILON));

/** What a frame pays its worker's owner: its WU × the price, rounded half up, once. */
export function paymentMilli(wu: number, priceMilli: number): number {
  if (!(wu > 0) || !(priceMilli > 0)) return 0;
  return Math.round(wu * priceMilli);
}

/**
 * What one payment takes from the escrow: the frame's price, but never more than the
 * escrow holds. The claim only hands another person's worker a task the escrow covers
 * at the frame's worst cost (escrowCovers), so this cap bites only on a frame far
 * costlier than its quote said; the owner is never charged past what they put in.
 */
export function payableMilli(paymentDue: number, escrowMilli: number): number {
  return Math.max(0, Math.min(paymentDue, escrowMilli));
}

/** A render's frames are paid for only when another person's worker rendered them (own workers cost nothing). */
export function paysWorkerOwner(input: { renderOwnerId: number; workerOwnerId: number; priceMilli: number }): boolean {
  return input.renderOwnerId !== input.workerOwnerId && input.priceMilli > 0;
}

/**
 * The escrow a render holds: the quote's upper bound of WU not yet rendered, at its
 * price, rounded up. On confirm `doneWu` is the sample frames' (rendered by the owner's
 * own workers, free); on a price change, everything rendered so far.
 */
export function escrowTargetMilli(input: { boundWu: number; doneWu: number; priceMilli: number }): number {
  return ceilMilli(Math.max(0, input.boundWu - input.doneWu) * input.priceMilli);
}

/**
 * A frame may cost this much more than the quote's highest frame before the escrow's
 * check at the claim lets the helper down: a frame is one sample of a noisy cost.
 */
export const FRAME_COST_MARGIN = 1.5;

/** The most one frame of the render may cost: the quote's highest per-frame WU (its band's top) × margin × price. */
export function frameCostMilli(maxFrameWu: number, priceMilli: number): number {
  return ceilMilli(maxFrameWu * FRAME_COST_MARGIN * priceMilli);
}

/** What a task of `frames` frames may cost (the claim's condition, in SQL, is the same product). */
export function taskCostMilli(frames: number, frameCost: number): number {
  return frames * frameCost;
}

/** Whether the escrow can pay for a task of `frames` frames at worst. */
export function escrowCovers(escrowMilli: number, frames: number, frameCost: number): boolean {
  return escrowMilli >= taskCostMilli(frames, frameCost);
}

/**
 * What moves when the escrow should hold `target`: positive takes that much more from
 * the owner's balance, negative gives it back.
 */
export function escrowAdjustment(heldMilli: number, targetMilli: number): number {
  return targetMilli - heldMilli;
}

/**
 * A render that auto-confirms (not estimate-only) carries on by itself only within what
 * its owner pre-authorised (`--max-credits`); without a limit, within their balance.
 */
export function withinPreauthorised(targetMilli: number, maxCostMilli: number | null): boolean {
  return maxCostMilli === null || targetMilli <= maxCostMilli;
}
