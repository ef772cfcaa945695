import type { ExpectedStartDto, RenderEstimateDto, RenderEstimateSummaryDto } from "../../contract";
import type { RenderStatus } from "../../db/models";
import { readEstimates, refreshEstimate, type StoredEstimate } from "../../db/sql/queue";
import { readWorkAhead } from "../../db/sql/work-ahead";
import { toCredits } from "../../domain/ledger";
import { startsInSeconds } from "../../domain/work-ahead";
import { etaSeconds, type Estimate } from "../../domain/estimate";
import { isRenderFinished } from "../../domain/render-lifecycle";
import { FAILURES_TO_BLOCKLIST } from "../../domain/scheduler";
import { OFFLINE_AFTER_MS } from "../../domain/worker-status";
import { db } from "../lib/db.server";

// A render's estimate as the owner sees it (docs/design.md §3): total WU and its band,
// credits at the render's price, the ETA with the workers online now, and the
// WU-per-frame curve. Made again after every accepted frame (refreshAfterFrame); read
// here for the render's JSON, its page and `cactus render estimate`.

export interface EstimateOf {
  estimate: RenderEstimateSummaryDto | null;
  sample: { frames: number; done: number };
}

const READ = { offlineAfterMs: OFFLINE_AFTER_MS, blocklistAfter: FAILURES_TO_BLOCKLIST };

/** The estimates of these renders (the user's: the caller checked), by render id. */
export async function estimatesOf(renders: { id: number; status: RenderStatus; priceMilli: number }[]): Promise<Map<number, EstimateOf>> {
  const stored = await readEstimates(
    db(),
    renders.map((render) => render.id),
    READ,
  );
  return new Map(
    renders.map((render) => {
      const row = stored.get(render.id);
      return [
        render.id,
        {
          estimate: row ? summary(row, render.status, render.priceMilli) : null,
          sample: { frames: row?.sampleFrames ?? 0, done: row?.sampleDone ?? 0 },
        },
      ];
    }),
  );
}

function summary(row: StoredEstimate, status: RenderStatus, priceMilli: number): RenderEstimateSummaryDto | null {
  const made = row.estimate;
  if (!made) return null;
  return {
    totalWu: made.totalWu,
    band: made.band,
    credits: credits(made, priceMilli),
    etaSeconds: eta(made, status, row.onlineWupm),
    framesMeasured: made.framesMeasured,
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Credits are WU × the render's price (credits per WU). */
function credits(made: Pick<Estimate, "totalWu" | "band">, priceMilli: number) {
  const price = priceMilli / 1000;
  return { low: made.band.low * price, mid: made.totalWu * price, high: made.band.high * price };
}

/** A finished render has no ETA; a quoted one's is what it would take if confirmed now. */
function eta(made: Estimate, status: RenderStatus, onlineWupm: number[]): number | null {
  if (isRenderFinished(status)) return status === "done" ? 0 : null;
  return etaSeconds(made.remainingWu, onlineWupm);
}

/**
 * The whole estimate of one of the user's renders (found by the caller), its curve
 * included, and its expected start at `atPriceMilli` (default its price).
 */
export async function renderEstimate(
  render: { id: number; status: RenderStatus; priceMilli: number; frames: number },
  atPriceMilli = render.priceMilli,
): Promise<RenderEstimateDto> {
  const [stored, expectedStart] = await Promise.all([
    readEstimates(db(), [render.id], READ).then((rows) => rows.get(render.id)),
    isRenderFinished(render.status) ? null : expectedStartOf(render.id, atPriceMilli),
  ]);
  const quote = stored?.quote ?? null;
  return {
    renderId: render.id,
    status: render.status,
    sample: { frames: stored?.sampleFrames ?? 0, done: stored?.sampleDone ?? 0 },
    frames: render.frames,
    price: render.priceMilli / 1000,
    estimate: stored ? summary(stored, render.status, render.priceMilli) : null,
    quote: quote && { totalWu: quote.totalWu, band: quote.band, quotedAt: quote.quotedAt },
    curve: stored?.estimate?.curve ?? [],
    expectedStart,
  };
}

/** "Expected start at this price" (docs/design.md §4): the work ahead at the price and when it would begin. */
async function expectedStartOf(renderId: number, priceMilli: number): Promise<ExpectedStartDto> {
  const ahead = await readWorkAhead(db(), { renderId, priceMilli, ...READ });
  return {
    price: toCredits(priceMilli),
    wuAhead: ahead.wu,
    rendersAhead: ahead.renderIds.length,
    unmeasuredAhead: ahead.unmeasured,
    workers: ahead.wupm.length,
    othersWorkers: ahead.othersWorkers,
    startsInSeconds: startsInSeconds(ahead.wu, ahead.wupm),
  };
}

/**
 * After a frame was accepted: the workers' speeds on its render and its estimate, made
 * again. A failure here is logged, never the upload's: the frame is in, and the next
 * frame's refresh reads everything new since the last that worked.
 */
export async function refreshAfterFrame(renderId: number): Promise<void> {
  try {
    await refreshEstimate(db(), renderId);
  } catch (error) {
    console.error(`Could not make render ${renderId}'s estimate again: ${error instanceof Error ? error.message : String(error)}`);
  }
}
