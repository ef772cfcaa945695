import type { RenderDto, RenderEstimateDto, RenderEstimateSummaryDto } from "../../contract";

// Work units as the CLI prints them: "412 WU (380–455)", "≈ 12 min".

/** 0.8 → "0.80", 41.23 → "41.2", 1234.5 → "1,235": as many digits as a person reads. */
export function formatWu(wu: number): string {
  if (wu < 10) return wu.toFixed(2);
  if (wu < 100) return wu.toFixed(1);
  return Math.round(wu).toLocaleString("en");
}

export function formatCredits(credits: number): string {
  return credits < 100 ? credits.toFixed(2) : Math.round(credits).toLocaleString("en");
}

/** 95 → "1 min 35 s", 7300 → "2 h 2 min". */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.max(0, Math.round(seconds))} s`;
  const minutes = Math.round(seconds / 60);
  if (seconds < 600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h ${minutes % 60} min` : `${Math.round(hours / 24)} days`;
}

/** "412 WU (380–455) · 206 credits (190–228) · ETA 12 min". */
export function describeEstimate(estimate: RenderEstimateSummaryDto, price: number): string {
  const parts = [`${formatWu(estimate.totalWu)} WU (${formatWu(estimate.band.low)}–${formatWu(estimate.band.high)})`];
  if (price > 0) {
    const { low, mid, high } = estimate.credits;
    parts.push(`${formatCredits(mid)} credits (${formatCredits(low)}–${formatCredits(high)})`);
  }
  parts.push(estimate.etaSeconds === null ? "ETA: no worker online" : `ETA ${formatDuration(estimate.etaSeconds)}`);
  return parts.join(" · ");
}

/** What a render's estimate line says while there is none yet. */
export function noEstimateYet(render: Pick<RenderDto, "status" | "sample">): string {
  if (render.sample.frames > 0 && render.status === "estimating") {
    return `estimating: ${render.sample.done} of ${render.sample.frames} sample frames in`;
  }
  return "no estimate yet: it comes with the first frame rendered";
}

/** The estimate as `cactus render estimate --json` prints it (the shape). */
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
  };
}
