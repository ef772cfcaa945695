import type { RenderDto, RenderEstimateDto, RenderEstimateSummaryDto } from "../../contract";
import { isRenderFinished, type RenderStatus } from "../../domain/render-lifecycle";
import { formatBand, formatCredits, formatDuration, formatTotal, formatWu, quotedBeside } from "../../domain/work-units";

// Work units as the CLI prints them: "412 WU (380–455) · ETA 12 min".

export { formatWu, quotedBeside };
/**
 * "412 WU (380–455) · 206 credits (190–228) · ETA 12 min"; a band closed on its number (all
 * rendered) is left out, and a render that ended (done, cancelled, failed) has no ETA.
 */
export function describeEstimate(estimate: RenderEstimateSummaryDto, price: number, status: RenderStatus): string {
  const parts = [formatTotal(estimate)];
  if (price > 0) {
    const credits = formatBand(estimate.credits, formatCredits);
    parts.push(`${formatCredits(estimate.credits.mid)} credits${credits ? ` (${credits})` : ""}`);
  }
  if (isRenderFinished(status)) return parts.join(" · ");
  if (estimate.etaSeconds === null) parts.push("ETA: no worker online");
  else if (estimate.etaSeconds > 0) parts.push(`ETA ${formatDuration(estimate.etaSeconds)}`);
  return parts.join(" · ");
}

/** What a render's estimate line says while there is none yet. */
export function noEstimateYet(render: Pick<RenderDto, "status" | "sample">): string {
  if (render.sample.frames > 0 && render.status === "estimating") {
    return `estimating: ${render.sample.done} of ${render.sample.frames} sample frames in`;
  }
  return "no estimate yet: it comes with the first frame rendered";
}

/** The estimate as `cactus render estimate --json` prints it (the issue's shape). */
export function estimateJson(estimate: RenderEstimateDto) {
  const summary = estimate.estimate;
  return {
    status: estimate.status,
    sampled_frames: estimate.sample.done,
    total_wu: summary?.totalWu ?? null,
    band: summary ? { low: summary.band.low, high: summary.band.high } : null,
    credits: summary ? { low: summary.credits.low, mid: summary.credits.mid, high: summary.credits.high } : null,
    eta_seconds: summary?.etaSeconds ?? null,
    curve: estimate.curve.map(({ frame, wu, sampled, done }) => ({ frame, wu, sampled, done })),
    expected_start: estimate.expectedStart && {
      price: estimate.expectedStart.price,
      wu_ahead: estimate.expectedStart.wuAhead,
      renders_ahead: estimate.expectedStart.rendersAhead,
      unmeasured_ahead: estimate.expectedStart.unmeasuredAhead,
      workers: estimate.expectedStart.workers,
      others_workers: estimate.expectedStart.othersWorkers,
      starts_in_seconds: estimate.expectedStart.startsInSeconds,
    },
  };
}
