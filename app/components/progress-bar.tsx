import type { FrameCounts } from "../../contract";

/**
 * A render's frames as one bar: done in green, then those rendering now, then failed;
 * the rest (queued) is the grey track. The accessible value is the frames done.
 */
export function FrameProgressBar({ frames, label }: { frames: FrameCounts; label: string }) {
  const share = (count: number) => (frames.total > 0 ? (count / frames.total) * 100 : 0);
  const percent = Math.floor(share(frames.done));
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={frames.total}
      aria-valuenow={frames.done}
      aria-valuetext={`${frames.done} of ${frames.total} frames done (${percent}%)`}
      className="flex h-2.5 overflow-hidden rounded-full bg-stone-200"
    >
      <div className="h-full bg-cactus-600 transition-[width] duration-300" style={{ width: `${share(frames.done)}%` }} />
      <div className="h-full bg-amber-400 transition-[width] duration-300" style={{ width: `${share(frames.rendering)}%` }} />
      <div className="h-full bg-red-500 transition-[width] duration-300" style={{ width: `${share(frames.failed)}%` }} />
    </div>
  );
}

/** "7 / 24 frames · 2 rendering · 1 failed": the counts next to the bar, only those that are not zero. */
export function FrameCountsText({ frames }: { frames: FrameCounts }) {
  const n = (count: number) => count.toLocaleString("en");
  const extra = [
    frames.rendering > 0 ? `${n(frames.rendering)} rendering` : null,
    frames.queued > 0 && frames.queued < frames.total ? `${n(frames.queued)} queued` : null,
    frames.failed > 0 ? `${n(frames.failed)} failed` : null,
  ].filter((part) => part !== null);
  return (
    <span data-testid="frame-counts">
      {n(frames.done)} / {n(frames.total)} frame{frames.total === 1 ? "" : "s"}
      {extra.map((part) => ` · ${part}`).join("")}
    </span>
  );
}
