import { changePrice, topUpEscrow, type CreditsChange } from "../../db/sql/render-credits";
import { NotEnoughCredits } from "../../db/sql/queue";
import { tellWaitingClaims } from "../../db/sql/work-signals";
import { formatCredits } from "../../domain/work-units";
import { toCredits, toMilli } from "../../domain/ledger";
import type { RenderDto } from "../../contract";
import { db } from "../lib/db.server";
import { Problem } from "../lib/problem.server";
import { requireRender, requireRenderRow } from "./render.server";

// A render's price and escrow as its owner changes them (docs/design.md §4).

function refusal(id: number, change: CreditsChange): Problem {
  if (!change.ok && change.reason === "finished") return new Problem("conflict", `Render ${id} has finished; its price no longer matters.`);
  return new Problem("not_found", `You have no render ${id}. List yours with \`cactus render list\`.`);
}

function notEnough(error: NotEnoughCredits, what: string): Problem {
  return new Problem(
    "conflict",
    `${what} needs ${formatCredits(toCredits(error.neededMilli))} credits and your balance is ${formatCredits(toCredits(error.balanceMilli))}; ` +
      "lower the price, or ask an admin for credits (`cactus credits grant`).",
  );
}

/** A new price (the escrow follows it) and/or "only workers I enable". */
export async function changeRenderSettings(input: {
  id: number;
  userId: number;
  price?: number;
  onlyEnabledWorkers?: boolean;
}): Promise<RenderDto> {
  const render = await requireRenderRow({ id: input.id, userId: input.userId });
  try {
    await db().transaction(async (transaction) => {
      if (input.price !== undefined) {
        const changed = await changePrice(db(), render.id, toMilli(input.price), transaction);
        if (!changed.ok) throw refusal(render.id, changed);
      }
      if (input.onlyEnabledWorkers !== undefined) {
        await render.update({ onlyEnabledWorkers: input.onlyEnabledWorkers }, { transaction });
        // Every accepting worker may take it again: their held claims look.
        if (!input.onlyEnabledWorkers) await tellWaitingClaims(db(), {}, transaction);
      }
    });
  } catch (error) {
    if (error instanceof NotEnoughCredits) throw notEnough(error, `Render ${render.id} at ${input.price} credits per WU`);
    throw error;
  }
  return requireRender({ id: render.id, userId: input.userId });
}

/** Credits from the owner's balance into the render's escrow. */
export async function topUpRender(input: { id: number; userId: number; credits: number }): Promise<RenderDto> {
  const render = await requireRenderRow({ id: input.id, userId: input.userId });
  try {
    const changed = await db().transaction((transaction) =>
      topUpEscrow(db(), { id: render.id, ownerId: input.userId }, toMilli(input.credits), transaction),
    );
    if (!changed.ok) throw refusal(render.id, changed);
  } catch (error) {
    if (error instanceof NotEnoughCredits) throw notEnough(error, `Topping up render ${render.id}`);
    throw error;
  }
  return requireRender({ id: render.id, userId: input.userId });
}
