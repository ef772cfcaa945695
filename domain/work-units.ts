// Work units, credits and times as people read them, the same in the PWA and the CLI:
// "412 WU", "0.80 WU", "1 min 35 s".

/** 0.8 → "0.80", 41.23 → "41.2", 1234.5 → "1,235": as many digits as a person reads. */
export function formatWu(wu: number): string {
  if (wu < 10) return wu.toFixed(2);
  if (wu < 100) return wu.toFixed(1);
  return Math.round(wu).toLocaleString("en");
}

export function formatCredits(credits: number): string {
  return credits < 100 ? credits.toFixed(2) : Math.round(credits).toLocaleString("en");
}

/**
 * A band as "380–455", or null once it has closed on its number (every frame rendered):
 * "29.8 WU (29.8–29.8)" reads as a mistake.
 */
export function formatBand(band: { low: number; high: number }, format: (value: number) => string = formatWu): string | null {
  const low = format(band.low);
  const high = format(band.high);
  return low === high ? null : `${low}–${high}`;
}

interface WuTotal {
  totalWu: number;
  band: { low: number; high: number };
}

/** "27.6 WU (24.7–30.5)"; "29.8 WU" once the band has closed. */
export function formatTotal(total: WuTotal): string {
  const band = formatBand(total.band);
  return `${formatWu(total.totalWu)} WU${band ? ` (${band})` : ""}`;
}

/**
 * What was quoted, to show beside the live estimate once the owner confirmed (or the
 * render ended) — null while the quote is the estimate itself (estimating, quoted), or
 * when it would read the same as the total beside it.
 */
export function quotedBeside(status: string, quote: WuTotal | null, estimate: WuTotal | null): string | null {
  if (!quote || status === "estimating" || status === "quoted") return null;
  const text = formatTotal(quote);
  return estimate && formatTotal(estimate) === text ? null : text;
}

/** 95 → "1 min 35 s", 7300 → "2 h 2 min". */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.max(0, Math.round(seconds))} s`;
  if (seconds < 600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h ${minutes % 60} min` : `${Math.round(hours / 24)} days`;
}
